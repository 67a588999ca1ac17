"""Honest run status, a quiet console and readable records, checked against real `kedro run`s.

Interrupted runs get real signals: each `kedro run` starts in its own session (process group)
and the signal goes to the whole group, as a Ctrl-C in a terminal reaches the foreground group.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from project import project_env

pytestmark = pytest.mark.slow

EXPERIMENT = "loan_default_risk"
GATES = ("validation", "benchmark", "fairness")


def client_for(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def runs(uri: str) -> list:
    client = client_for(uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        return []
    return client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])


def start_kedro(default_project, copy: Path, uri: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(default_project.root / ".venv/bin/kedro"), "run", *args],
        cwd=copy,
        env=project_env(MLFLOW_TRACKING_URI=uri, PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def read_until_completed_nodes(process: subprocess.Popen, count: int, timeout: float = 300) -> str:
    """The output until ``count`` "Completed node" lines (or the end of the output)."""
    seen, lines, deadline = 0, [], time.monotonic() + timeout
    for line in process.stdout:
        lines.append(line)
        seen += "Completed node" in line
        if seen >= count or time.monotonic() > deadline:
            break
    assert seen >= count, "".join(lines)[-4000:]
    return "".join(lines)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_is_killed_not_finished(default_project, default_copy, sig) -> None:
    copy, _ = default_copy
    uri = f"sqlite:///{copy / 'mlflow.db'}"
    process = start_kedro(default_project, copy, uri)
    try:
        before = read_until_completed_nodes(process, 4)
        os.killpg(process.pid, sig)
        rest, _ = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    output = before + rest
    assert process.returncode != 0, output[-3000:]
    [run] = runs(uri)
    assert run.info.status == "KILLED", output[-3000:]
    assert run.data.tags["interrupted.signal"] == sig.name
    completed = re.findall(r"Completed node: ([\w.]+)", output)
    assert run.data.tags["interrupted.last_completed_node"] == completed[-1]
    assert f"Run stopped by {sig.name}" in " ".join(output.split())


def test_a_run_stopped_by_an_error_is_failed(default_copy) -> None:
    copy, kedro_in_copy = default_copy
    done = kedro_in_copy(
        "run", "--pipelines", "ingestion,validation", "--params", "validation.max_quarantined_share=0.001"
    )
    assert done.returncode == 1, done.stderr[-3000:]
    [run] = runs(f"sqlite:///{copy / 'mlflow.db'}")
    assert run.info.status == "FAILED"
    # The metrics held for the end of the run (datasets.RunMetrics) are written on failure too.
    assert run.data.metrics["ingestion.rows_primary"] == 10000
    assert "validation.rows_quarantined" in run.data.metrics


def test_a_run_left_running_by_a_killed_process_is_marked_killed_by_the_next(
    default_project, default_copy
) -> None:
    copy, kedro_in_copy = default_copy
    uri = f"sqlite:///{copy / 'mlflow.db'}"
    process = start_kedro(default_project, copy, uri)
    try:
        read_until_completed_nodes(process, 2)
        [abandoned] = runs(uri)
        assert abandoned.info.status == "RUNNING"
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert client_for(uri).get_run(abandoned.info.run_id).info.status == "RUNNING"
    # Runs that must be left alone: one whose process is alive (this test's own), one recorded
    # on another machine, one that does not say which process runs it.
    client = client_for(uri)
    experiment_id = abandoned.info.experiment_id
    alive = {"run.host": abandoned.data.tags["run.host"], "run.pid": str(os.getpid())}
    elsewhere = {"run.host": "another-machine", "run.pid": abandoned.data.tags["run.pid"]}
    left_alone = [client.create_run(experiment_id, tags=t).info.run_id for t in (alive, elsewhere, {})]

    done = kedro_in_copy("run", "--pipelines", "ingestion", check=True)
    found = client_for(uri).get_run(abandoned.info.run_id)
    assert found.info.status == "KILLED"
    assert "process gone" in found.data.tags["interrupted.signal"]
    assert str(process.pid) in found.data.tags["interrupted.reason"]
    log = " ".join((done.stdout + done.stderr).split())
    assert f"MLflow run {abandoned.info.run_id}" in log and "Marked KILLED" in log
    assert [client.get_run(run_id).info.status for run_id in left_alone] == ["RUNNING"] * 3
    assert runs(uri)[-1].info.status == "FINISHED"


def test_the_default_console_is_quiet_and_ends_with_the_summary(default_project) -> None:
    output = default_project.run_output
    assert "Calculating Metrics" not in output
    assert "Downloading artifacts" not in output
    assert not re.search(r"\bINFO\b\s+mlflow\.", output), re.findall(r".*INFO\s+mlflow\..*", output)
    assert "register_new_resolver" not in output
    assert "Completed node:" in output  # Kedro's own progress stays
    assert "Run summary" in output
    after_summary = output.split("Run summary")[-1]
    assert not re.search(r"\b(INFO|WARNING|ERROR)\b", after_summary), after_summary


def test_the_run_is_named_and_described(default_project) -> None:
    [run] = runs(default_project.tracking_uri)
    assert re.fullmatch(r"__default__ · local · ([0-9a-f]{7}(-dirty)?|no-git)", run.info.run_name)
    note = run.data.tags["mlflow.note.content"]
    for gate in GATES:
        assert re.search(rf"\| {gate} \| \*\*{run.data.tags[f'gate.{gate}']}\*\* \| \S", note), note
    assert f"`test.roc_auc` {run.data.metrics['test.roc_auc']:.4g}" in note
    assert f"{run.data.metrics['validation.rows_quarantined']:.0f} of" in note
    assert "model_card.md" in note
    assert f"**Promotion:** {run.data.tags['promotion.status']}" in note
