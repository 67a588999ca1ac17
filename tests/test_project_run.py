"""Slow tests: the default project installs, runs end to end, records its MLflow run, passes its tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from project import install, kedro, render, run

pytestmark = pytest.mark.slow


def test_default_run_is_one_finished_mlflow_run_with_ingestion_metrics(default_project) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=default_project.tracking_uri)
    experiment = client.get_experiment_by_name(default_project.package)
    assert experiment is not None, "no experiment named after the package"
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1
    record = runs[0]
    assert record.info.status == "FINISHED"
    assert experiment.artifact_location == (default_project.root / "mlartifacts").as_uri()

    manifest = json.loads((default_project.root / "data/01_raw/manifest.json").read_text())
    metrics = record.data.metrics
    assert metrics["ingestion.rows_raw_applications"] == manifest["row_counts"]["applications"]
    assert metrics["ingestion.rows_raw_bureau_records"] == manifest["row_counts"]["bureau_records"]
    assert metrics["ingestion.rows_primary"] == manifest["row_counts"]["applications"]
    assert record.data.tags["kedro_command"].startswith("kedro run")
    assert "git.repository" in record.data.tags  # the render is not a git repository
    assert "Run summary" in default_project.run_output


def test_generated_project_tests_pass_after_uv_sync(default_project) -> None:
    done = run(default_project.root, str(default_project.root / ".venv/bin/pytest"), "-q", check=False)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:]
    assert " passed" in done.stdout


def test_without_sample_data_the_run_names_the_catalog_entries_to_fill(tmp_path: Path) -> None:
    project = render(tmp_path, project_name="Bring Your Own Data", include_sample_data="no")
    install(project)
    done = kedro(project, "run", check=False)
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "raw_applications: data/01_raw/applications.csv (not found)" in output
    assert "raw_bureau_records: data/01_raw/bureau.db (not found)" in output
    assert "Traceback" not in output
    assert not (project / "data/01_raw/bureau.db").exists(), "checking for the database must not create it"


@pytest.mark.parametrize(
    ("content", "cause"),
    [(b"", "EmptyDataError"), (bytes(range(256)) * 40, "ParserError")],
    ids=["empty", "garbage"],
)
def test_unreadable_raw_file_names_the_catalog_entry(default_copy, content: bytes, cause: str) -> None:
    copy, kedro_in_copy = default_copy
    (copy / "data/01_raw/applications.csv").write_bytes(content)
    done = kedro_in_copy("run")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert "Could not read catalog entry 'raw_applications' (data/01_raw/applications.csv)" in output
    assert cause in output
    assert "Traceback" not in output


def test_run_timings_are_recorded_per_node_and_dataset(default_project) -> None:
    timings = json.loads((default_project.root / "data/08_reporting/run_timings.json").read_text())
    assert timings["pipeline_wall_s"] > 0 and timings["peak_rss_mb"] > 50
    build = timings["nodes"]["ingestion.build_primary_table"]  # nodes are named <stage>.<node>
    assert build["compute_s"] > 0
    assert build["load_s"] > 0  # the main source and the related source's summary
    assert timings["datasets"]["raw_applications"]["load_s"] > 0
    assert timings["datasets"]["primary_table"]["save_s"] > 0
    compute = sum(node.get("compute_s", 0) for node in timings["nodes"].values())
    assert compute < timings["pipeline_wall_s"]
