"""Run names, descriptions and run-status helpers, checked without running a pipeline."""

import logging
import os
import socket
import subprocess
import sys
import tomllib
from importlib import import_module
from types import ModuleType, SimpleNamespace

import pytest

from .conftest import PROJECT_ROOT

PACKAGE = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["kedro"][
    "package_name"
]


def module(name: str) -> ModuleType:
    return import_module(f"{PACKAGE}.{name}")


GIT = {"mlflow.source.git.commit": "1a2b3c4d5e6f", "git.dirty": "false"}


def test_a_run_is_named_by_pipeline_environment_and_commit() -> None:
    run_name = module("tracking").run_name
    assert run_name(None, None, GIT) == "__default__ · local · 1a2b3c4"
    assert run_name(["training"], "prod", {**GIT, "git.dirty": "true"}) == (
        "training · prod · 1a2b3c4-dirty"
    )
    assert run_name(["a", "b"], "local", {}) == "a+b · local · no-git"


def test_the_description_names_gates_reasons_metrics_card_and_promotion() -> None:
    tracking = module("tracking")
    tags = {
        "gate.validation": "warn",
        "gate.benchmark": "pass",
        "gate.fairness": "fail",
        "promotion.status": "held_back",
        "promotion.reason": "kept back by gate.fairness=fail",
    }
    metrics = {
        "test.roc_auc": 0.76831,
        "validation.rows_quarantined": 200,
        "validation.rows_in": 10000,
    }
    reports = {
        "validation": {
            "rows_in": 10000,
            "rows_quarantined": 200,
            "quarantined_share": 0.02,
            "max_quarantined_share": 0.05,
            "gate_reasons": [],
        },
        "benchmark": {
            "reasons": [],
            "candidate": "candidate",
            "best_baseline": "logistic_regression",
            "primary_metric": "roc_auc",
            "min_improvement": 0.01,
            "improvement": {"mean": 0.049, "ci_low": 0.04, "ci_high": 0.058},
        },
        "fairness": {"reasons": ["sex: demographic_parity_ratio | 0.7 -> fail"]},
    }
    text = tracking.run_description(
        "x · local · 1a2b3c4", tags, metrics, reports, {"model_card.md"}
    )
    rows = [line for line in text.splitlines() if line.startswith("| ") and "**" in line]
    assert [row.split("|")[1].strip() for row in rows] == ["validation", "benchmark", "fairness"]
    assert "200 of 10000 rows quarantined (2.0%; at most 5.0% allowed)" in text
    assert "beats logistic_regression on roc_auc by +0.049" in text
    assert "demographic_parity_ratio \\| 0.7" in text  # a | in a reason does not break the table
    assert "`test.roc_auc` 0.7683" in text
    assert "**Quarantined rows:** 200 of 10000" in text
    assert "`model_card.md`" in text
    assert "**Promotion:** held_back (kept back by gate.fairness=fail)" in text


def test_a_description_without_reports_points_at_them() -> None:
    text = module("tracking").run_description("x", {"gate.validation": "pass"}, {}, {}, set())
    assert "see validation/summary.json" in text
    assert "none logged" in text and "not written in this run" in text and "not decided" in text


def test_a_process_is_gone_only_when_it_certainly_is() -> None:
    run_status = module("run_status")
    here = run_status.process_tags()
    assert not run_status.process_gone(here)  # this very process
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    ended = {"run.host": socket.gethostname(), "run.pid": done.stdout.decode().strip()}
    assert run_status.process_gone({**ended, "run.process_start": here["run.process_start"]})
    assert not run_status.process_gone({**here, "run.host": "another-machine"})
    assert not run_status.process_gone({})  # a run that does not say: never touched
    recycled = {**here, "run.process_start": "another-boot:1"}  # same pid, another process
    assert run_status.process_gone(recycled) == bool(here["run.process_start"])


def test_only_finished_runs_with_every_gate_count() -> None:
    run_status = module("run_status")
    gates = {gate: "pass" for gate in run_status.GATES}

    def run(status: str, tags: dict) -> SimpleNamespace:
        return SimpleNamespace(info=SimpleNamespace(status=status), data=SimpleNamespace(tags=tags))

    assert run_status.is_complete(run("FINISHED", gates))
    assert not run_status.is_complete(run("KILLED", gates))
    assert not run_status.is_complete(run("FINISHED", {"gate.validation": "pass"}))


def test_library_loggers_follow_the_logging_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    from kedro.framework.project import LOGGING

    console = module("console")
    monkeypatch.setattr(LOGGING, "data", {"loggers": {"mlflow": {"level": "ERROR"}}})
    monkeypatch.delenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", raising=False)
    mlflow_logger = logging.getLogger("mlflow")
    monkeypatch.setattr(mlflow_logger, "handlers", [logging.StreamHandler()])
    monkeypatch.setattr(mlflow_logger, "propagate", False)
    monkeypatch.setattr(mlflow_logger, "level", logging.INFO)
    console.hand_back_library_loggers()
    assert mlflow_logger.handlers == [] and mlflow_logger.propagate
    assert mlflow_logger.level == logging.ERROR
    assert os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] == "false"
    assert console.show_progress_bars("mlflow") is False


def test_the_inference_fallback_takes_the_latest_complete_runs_model(mlflow_store) -> None:
    import mlflow
    from sklearn.dummy import DummyClassifier

    nodes = module("pipelines.inference.nodes")
    gates = dict.fromkeys(module("run_status").GATES, "pass")
    mlflow.set_experiment("fallback-test")
    model = DummyClassifier().fit([[0], [1]], [0, 1])

    def logged(status: str, tags: dict) -> str:
        with mlflow.start_run() as run:
            mlflow.set_tags(tags)
            info = mlflow.sklearn.log_model(model, name="model")
            mlflow.end_run(status)
        assert run.info.run_id
        return info.model_id

    complete = logged("FINISHED", gates)
    logged("KILLED", gates)  # newer, but interrupted
    logged("FINISHED", {})  # newer, but without its gates
    assert nodes._latest_logged_model("fallback-test").model_id == complete


def test_a_run_started_by_airflow_names_its_dag_run(monkeypatch: pytest.MonkeyPatch) -> None:
    audit = module("audit")
    for variable in audit.AIRFLOW_CONTEXT:
        monkeypatch.delenv(variable, raising=False)
    assert audit.airflow_tags() == {}  # not in an Airflow task: no tags
    monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "loan-default-risk")
    monkeypatch.setenv("AIRFLOW_CTX_DAG_RUN_ID", "manual__2026-01-01T00:00:00+00:00")
    monkeypatch.setenv("AIRFLOW_CTX_TASK_ID", "kedro-run")
    monkeypatch.setenv("AIRFLOW_CTX_TRY_NUMBER", "2")
    assert audit.airflow_tags() == {
        "airflow.dag_id": "loan-default-risk",
        "airflow.dag_run_id": "manual__2026-01-01T00:00:00+00:00",
        "airflow.task_id": "kedro-run",
        "airflow.try_number": "2",
    }


def test_the_lock_file_is_recorded_only_for_the_code_it_locks(tmp_path) -> None:
    audit = module("audit")
    (tmp_path / "uv.lock").write_text("version = 1\n")
    # Run from another folder than the one the code is in (as the wheel on an Airflow worker):
    # that folder's uv.lock is not what is installed, the installed packages are recorded.
    text, name = audit.environment_lock(tmp_path)
    assert name == "installed-packages.txt" and "kedro==" in text
    if (PROJECT_ROOT / "uv.lock").is_file():  # `uv sync` in the project folder writes it
        assert audit.environment_lock(PROJECT_ROOT)[1] == "uv.lock"
