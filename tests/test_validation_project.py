"""Slow tests of the generated project's validation pipeline: its MLflow record, and exact
quarantine on data generated with another seed and size than the shipped sample."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

TOOLS = Path(__file__).resolve().parents[1] / "tools"
# Which expectations catch each kind of planted dirt (ids from conf/base/parameters_validation_suites.yml).
REASONS_BY_KIND = {
    "missing_value": {"raw_applications.expect_column_values_to_not_be_null.annual_income"},
    "malformed_number": {"raw_applications.expect_column_values_to_match_regex.loan_amount"},
    "impossible_age": {"primary_table.expect_column_values_to_be_between.age"},
    "duplicated_applicant_id": {"primary_table.expect_column_values_to_be_unique.applicant_id"},
    "unknown_category": {
        "primary_table.expect_column_values_to_be_in_set.housing",
        "primary_table.expect_column_values_to_be_in_set.purpose",
    },
}


def generator():
    spec = importlib.util.spec_from_file_location("generate_sample_data", TOOLS / "generate_sample_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_exact_quarantine(project: Path, manifest: dict) -> None:
    """Every planted dirty row quarantined for its kind, no clean row, every row accounted for."""
    primary = pd.read_parquet(project / "data/03_primary/primary_table.parquet")
    passed = pd.read_parquet(project / "data/03_primary/validated_table.parquet")
    quarantined = pd.read_parquet(project / "data/03_primary/quarantined_rows.parquet")
    assert len(primary) == manifest["rows"] == len(passed) + len(quarantined)
    assert sorted([*passed["source_row"], *quarantined["source_row"]]) == list(range(len(primary)))
    reasons = quarantined.set_index("source_row")["quarantine_reasons"].str.split("; ")
    dirty: set[int] = set()
    for kind, planted in manifest["dirty_rows"].items():
        rows = set(primary.loc[primary["applicant_id"].isin(planted["applicant_ids"]), "source_row"])
        caught = {row for row, why in reasons.items() if set(why) <= REASONS_BY_KIND[kind]}
        assert len(rows) == planted["count"] and caught == rows, kind
        dirty |= rows
    assert set(reasons.index) == dirty


def test_default_run_records_validation(default_project) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=default_project.tracking_uri)
    experiment = client.get_experiment_by_name(default_project.package)
    run = client.search_runs([experiment.experiment_id])[0]
    metrics, tags = run.data.metrics, run.data.tags
    manifest = json.loads((default_project.root / "data/01_raw/manifest.json").read_text())
    dirty = manifest["row_counts"]["applications_dirty"]
    assert metrics["validation.rows_in"] == manifest["rows"]
    assert metrics["validation.rows_quarantined"] == dirty
    assert metrics["validation.rows_passed"] == manifest["rows"] - dirty
    unique = "validation.primary_table.expect_column_values_to_be_unique.applicant_id.unexpected"
    assert metrics[unique] == manifest["dirty_rows"]["duplicated_applicant_id"]["count"]
    assert tags["gate.validation"] == "warn"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "validation")}
    for dataset in ("raw_applications", "raw_bureau_records", "primary_table"):
        assert {f"validation/{dataset}.json", f"validation/{dataset}.html"} <= artifacts
    assert "validation/summary.json" in artifacts
    assert "Validation: WARN" in default_project.run_output
    assert_exact_quarantine(default_project.root, manifest)


def test_quarantine_is_exact_on_data_with_another_seed_and_size(default_copy) -> None:
    copy, kedro_in_copy = default_copy
    manifest = generator().generate(rows=3000, seed=7, out_dir=copy / "data/01_raw")
    done = kedro_in_copy("run", "--pipelines", "ingestion,validation")
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert_exact_quarantine(copy, manifest)
    summary = json.loads((copy / "data/08_reporting/validation/summary.json").read_text())
    assert summary["rows_quarantined"] == manifest["row_counts"]["applications_dirty"]
    assert summary["verdict"] == "warn"
