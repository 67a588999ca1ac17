"""The validation suites on the shipped sample data: exactly the planted dirty rows are caught."""

import json

import pandas as pd
import pytest

from ...conftest import requires_sample
from .conftest import PROJECT_ROOT, load_raw, run_validation

pytestmark = [pytest.mark.slow, requires_sample]

MANIFEST = PROJECT_ROOT / "data" / "01_raw" / "manifest.json"
# Which expectations catch each kind of planted dirt (see parameters_validation_suites.yml).
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


def assert_quarantine_matches_manifest(outputs: dict, manifest: dict) -> None:
    """Every dirty row quarantined for its kind's reason, and nothing else quarantined."""
    primary, quarantined = outputs["primary"], outputs["quarantined"]
    reasons = quarantined.set_index("source_row")["quarantine_reasons"].str.split("; ")
    dirty_rows: set[int] = set()
    for kind, planted in manifest["dirty_rows"].items():
        rows = set(
            primary.loc[primary["applicant_id"].isin(planted["applicant_ids"]), "source_row"]
        )
        assert len(rows) == planted["count"], kind
        caught = {row for row, why in reasons.items() if set(why) <= REASONS_BY_KIND[kind]}
        assert caught == rows, f"{kind}: {len(caught)} quarantined for it, {len(rows)} planted"
        dirty_rows |= rows
    assert set(reasons.index) == dirty_rows  # no clean row quarantined
    assert (reasons.str.len() == 1).all()  # each planted row breaks exactly one expectation
    by_reason = outputs["summary"]["quarantined_by_reason"]
    for kind, planted in manifest["dirty_rows"].items():
        assert sum(by_reason.get(r, 0) for r in REASONS_BY_KIND[kind]) == planted["count"]


def assert_rows_accounted(outputs: dict) -> None:
    metrics = outputs["record"]["metrics"]
    assert metrics["rows_in"] == metrics["rows_passed"] + metrics["rows_quarantined"]
    assert metrics["rows_in"] == len(outputs["primary"]) == outputs["results"][0]["rows"]
    ids = pd.concat([outputs["passed"]["source_row"], outputs["quarantined"]["source_row"]])
    assert sorted(ids) == list(range(metrics["rows_in"]))  # every raw row exactly once
    assert list(outputs["passed"].columns) == list(outputs["primary"].columns)


@pytest.fixture(scope="module")
def outputs(parameters: dict) -> dict:
    with pytest.MonkeyPatch.context() as monkeypatch:
        raw = load_raw(PROJECT_ROOT, monkeypatch)
    return run_validation(raw, parameters)


def test_quarantine_matches_the_manifest_exactly(outputs: dict) -> None:
    assert_quarantine_matches_manifest(outputs, json.loads(MANIFEST.read_text()))


def test_rows_are_accounted_for(outputs: dict) -> None:
    assert_rows_accounted(outputs)


def test_planted_dirt_warns_but_does_not_fail(outputs: dict) -> None:
    assert outputs["record"]["tags"] == {"gate.validation": "warn"}
    assert outputs["summary"]["failed_table_expectations"] == []
    for result in outputs["results"]:
        assert all(o["success"] for o in result["expectations"] if o["severity"] == "table")
