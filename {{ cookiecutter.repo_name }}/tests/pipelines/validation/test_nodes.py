"""Unit tests of the validation nodes on small hand-made frames and suites."""

import copy

import pandas as pd
import pytest
from kedro.framework.startup import bootstrap_project

from {{ cookiecutter.python_package }}.errors import ConfigError, DataError, GateFailed
from {{ cookiecutter.python_package }}.pipelines.validation import nodes
from {{ cookiecutter.python_package }}.project_config import sources_of

from .conftest import PROJECT_ROOT

INGESTION = {
    "main_source": "members",
    "id_column": "member_id",
    "target": {"column": "renewed", "positive": 1},
    "column_types": {"member_id": "string", "age": "integer", "spend": "number"},
    "related_sources": {
        "visits": {"key": "member_id", "aggregations": {"n_visits": ["visit_id", "count"]}}
    },
    "ratios": {},
}
VALIDATION = {
    "on_fail": "stop",
    "max_quarantined_share": 0.5,
    "report_folder": "data/08_reporting/validation",
    "suites": {
        "raw_members": {
            "expectations": [
                {
                    "type": "expect_column_values_to_match_regex",
                    "kwargs": {"column": "spend", "regex": r"^\d+(?:\.\d+)?$"},
                    "severity": "row",
                },
                {
                    "type": "expect_table_row_count_to_be_between",
                    "kwargs": {"min_value": 1},
                    "severity": "table",
                },
            ],
        },
        "raw_visits": {
            "expectations": [
                {
                    "type": "expect_table_row_count_to_be_between",
                    "kwargs": {"min_value": 1},
                    "severity": "table",
                    "description": "enough visits",
                },
            ],
        },
        "primary_table": {
            "expectations": [
                {
                    "type": "expect_column_values_to_be_between",
                    "kwargs": {"column": "age", "min_value": 18, "max_value": 100},
                    "severity": "row",
                    "description": "age is between 18 and 100",
                },
                {
                    "type": "expect_column_values_to_be_unique",
                    "kwargs": {"column": "member_id"},
                    "severity": "row",
                },
            ],
        },
    },
}
RAW = pd.DataFrame(
    {
        "Member ID": ["A1", "A2", "A2", "A3", "A4"],
        "Age": ["30", "41", "-3", "52", "60"],
        "Spend": ["1000", "12,5OO.00", "300", "200", "100.5"],
        "Renewed": ["1", "0", "0", "1", "0"],
    },
    dtype="str",
)
PRIMARY = pd.DataFrame(
    {
        "source_row": [0, 1, 2, 3, 4],
        "member_id": ["A1", "A2", "A2", "A3", "A4"],
        "age": pd.array([30, 41, -3, 52, 60], dtype="Int64"),
        "spend": [1000.0, None, 300.0, 200.0, 100.5],
        "renewed": pd.array([1, 0, 0, 1, 0], dtype="Int64"),
        "n_visits": [1, 0, 0, 2, 1],
        "has_visits": [True, False, False, True, True],
    }
)


def with_entry(dataset: str, index: int, **changes: object) -> dict:
    params = copy.deepcopy(VALIDATION)
    entry = params["suites"][dataset]["expectations"][index]
    for key, value in changes.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    return params


@pytest.fixture(scope="module")
def plan() -> dict:
    return nodes.check_validation_config(VALIDATION, INGESTION)


def test_config_is_checked_and_ids_default_to_type_and_column(plan: dict) -> None:
    entries = plan["datasets"]["primary_table"]["expectations"]
    assert [e["id"] for e in entries] == [
        "expect_column_values_to_be_between.age",
        "expect_column_values_to_be_unique.member_id",
    ]
    assert "source_row" in plan["datasets"]["raw_members"]["columns"]
    assert plan["datasets"]["raw_members"]["row_key"] == "source_row"
    assert plan["datasets"]["raw_visits"]["row_key"] == "member_id"
    assert {"n_visits", "has_visits"} <= set(plan["datasets"]["primary_table"]["columns"])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"type": "expect_column_values_to_be_betwen"},
            r"expectations\[0\] \(expect_column_values_to_be_betwen\).*no expectation type.*"
            r"did you mean expect_column_values_to_be_between",
        ),
        ({"type": None}, r"expectations\[0\].*'type' is missing"),
        ({"severity": None}, r"expectations\[0\].*'severity' is None"),
        ({"severity": "rows"}, r"'severity' is 'rows'"),
        (
            {"kwargs": {"column": "agee", "min_value": 18}},
            r"column\(s\) \['agee'\] are not columns of primary_table",
        ),
        ({"kwargs": {"column": "age", "min_valu": 18}}, r"GX refuses its kwargs.*min_valu"),
        ({"mostly": 0.9}, r"unknown key\(s\) \['mostly'\]"),
        ({"id": "age check!"}, r"id 'age check!' may hold only"),
    ],
)
def test_bad_entries_are_refused_naming_file_dataset_and_entry(changes: dict, message: str) -> None:
    params = with_entry("primary_table", 0, **changes)
    with pytest.raises(ConfigError, match=message) as refused:
        nodes.check_validation_config(params, INGESTION)
    assert "conf/base/parameters_validation_suites.yml" in str(refused.value)
    assert "validation_suites.primary_table" in str(refused.value)


def test_row_severity_needs_an_expectation_that_names_rows() -> None:
    params = with_entry("raw_members", 1, severity="row")
    with pytest.raises(ConfigError, match=r"severity 'row' needs an expectation on column values"):
        nodes.check_validation_config(params, INGESTION)


def test_an_id_used_twice_is_refused() -> None:
    params = copy.deepcopy(VALIDATION)
    entries = params["suites"]["primary_table"]["expectations"]
    entries.append(copy.deepcopy(entries[0]))
    with pytest.raises(ConfigError, match=r"expectations\[2\].*used twice"):
        nodes.check_validation_config(params, INGESTION)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"on_fail": "halt"}, r"validation.on_fail .* 'halt'"),
        ({"max_quarantined_share": 5}, r"max_quarantined_share .* 5"),
        (
            {"suites": {k: v for k, v in VALIDATION["suites"].items() if k != "raw_visits"}},
            r"validation_suites has no suite for \['raw_visits'\]",
        ),
        (
            {"suites": {**VALIDATION["suites"], "raw_others": {"expectations": []}}},
            r"validation_suites.raw_others is not a dataset to validate",
        ),
    ],
)
def test_bad_gate_settings_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        nodes.check_validation_config({**VALIDATION, **changes}, INGESTION)


def test_raw_rows_are_named_by_their_position(plan: dict) -> None:
    result, html = nodes.validate_with_report(RAW, plan, "raw_members")
    regex = result["expectations"][0]
    assert not regex["success"]
    assert regex["unexpected_rows"] == [1]
    assert "12,5OO.00" in html


def test_missing_column_and_empty_table_are_data_errors(plan: dict) -> None:
    with pytest.raises(DataError, match=r"'raw_members' has no column\(s\) \['age'\]"):
        nodes.validate_with_report(RAW.drop(columns=["Age"]), plan, "raw_members")
    with pytest.raises(DataError, match="'raw_members' has no rows"):
        nodes.validate_with_report(RAW.iloc[:0], plan, "raw_members")


def test_rows_are_quarantined_with_reasons_and_counted(plan: dict) -> None:
    raw, _ = nodes.validate_with_report(RAW, plan, "raw_members")
    primary, _ = nodes.validate_with_report(PRIMARY, plan, "primary_table")
    visits = {"dataset": "raw_visits", "rows": 3, "row_key": None, "expectations": []}
    passed, quarantined, summary, record = nodes.quarantine_rows(
        PRIMARY, plan, raw, visits, primary
    )

    reasons = dict(zip(quarantined["source_row"], quarantined["quarantine_reasons"], strict=True))
    assert reasons == {
        1: "raw_members.expect_column_values_to_match_regex.spend; "
        "primary_table.expect_column_values_to_be_unique.member_id",
        2: "primary_table.expect_column_values_to_be_between.age; "
        "primary_table.expect_column_values_to_be_unique.member_id",
    }
    assert passed["source_row"].tolist() == [0, 3, 4]
    assert list(passed.columns) == list(PRIMARY.columns)
    metrics = record["metrics"]
    assert metrics["rows_in"] == metrics["rows_passed"] + metrics["rows_quarantined"] == 5
    assert metrics["primary_table.expect_column_values_to_be_unique.member_id.unexpected"] == 2
    assert record["tags"] == {"gate.validation": "warn"}  # 40% quarantined, 50% allowed
    assert (
        summary["quarantined_by_reason"]["primary_table.expect_column_values_to_be_between.age"]
        == 1
    )


def test_too_many_quarantined_rows_or_a_table_failure_fail_the_gate(plan: dict) -> None:
    raw, _ = nodes.validate_with_report(RAW, plan, "raw_members")
    primary, _ = nodes.validate_with_report(PRIMARY, plan, "primary_table")
    visits = {"dataset": "raw_visits", "rows": 3, "row_key": None, "expectations": []}
    strict = {**plan, "max_quarantined_share": 0.1}
    passed, _, summary, record = nodes.quarantine_rows(PRIMARY, strict, raw, visits, primary)
    assert record["tags"] == {"gate.validation": "fail"}
    with pytest.raises(GateFailed, match=r"40.00% of rows quarantined.*data/08_reporting"):
        nodes.enforce_validation_gate(passed, record, summary, strict)
    flagged = nodes.enforce_validation_gate(passed, record, summary, {**strict, "on_fail": "flag"})
    assert len(flagged) == 3

    failed_table = {
        **visits,
        "expectations": [
            {
                "id": "expect_table_row_count_to_be_between",
                "severity": "table",
                "success": False,
                "unexpected_count": None,
                "unexpected_rows": None,
                "description": "enough records",
                "observed_value": 3,
            }
        ],
    }
    clean = PRIMARY.drop(index=[1, 2])
    nothing = {**raw, "rows": 3, "expectations": []}
    _, _, summary, record = nodes.quarantine_rows(
        clean, plan, nothing, failed_table, {**primary, "expectations": []}
    )
    assert record["tags"] == {"gate.validation": "fail"}
    assert summary["gate_reasons"] == [
        "raw_visits.expect_table_row_count_to_be_between (enough records)"
    ]


def test_nothing_quarantined_passes(plan: dict) -> None:
    empty = {"rows": 5, "row_key": "source_row", "expectations": []}
    _, quarantined, _, record = nodes.quarantine_rows(
        PRIMARY,
        plan,
        {**empty, "dataset": "raw_members"},
        {**empty, "dataset": "raw_visits"},
        {**empty, "dataset": "primary_table"},
    )
    assert quarantined.empty
    assert "quarantine_reasons" in quarantined.columns
    assert record["tags"] == {"gate.validation": "pass"}


def test_shipped_config_is_valid(parameters: dict) -> None:
    plan = nodes.check_validation_config(parameters["validation"], parameters["ingestion"])
    sources = sources_of(parameters["ingestion"])
    assert set(plan["datasets"]) == {*(f"raw_{s}" for s in sources.all), "primary_table"}
    assert plan["on_fail"] in ("stop", "flag")


@pytest.mark.parametrize("pipeline", ["__default__", "validation", "inference", "labels"])
def test_config_is_checked_before_any_data_is_read(pipeline: str) -> None:
    """Every node that takes parameters only (the config checks) runs before any node that
    reads a raw dataset (SequentialRunner runs them in this order)."""
    bootstrap_project(PROJECT_ROOT)
    from {{ cookiecutter.python_package }}.pipeline_registry import register_pipelines

    run_order = register_pipelines()[pipeline].nodes
    free = register_pipelines()[pipeline].inputs()
    checks = [i for i, n in enumerate(run_order) if all(x.startswith("params:") for x in n.inputs)]
    readers = [
        i
        for i, n in enumerate(run_order)
        if any(x in free and not x.startswith("params:") for x in n.inputs)
    ]
    assert checks and readers
    assert max(checks) < min(readers), [run_order[i].name for i in readers if i < max(checks)]


LABELLED = copy.deepcopy(VALIDATION)
LABELLED["suites"]["raw_members"]["expectations"] += [
    {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "renewed", "value_set": ["0", "1"]},
        "severity": "row",
    },
    {
        "type": "expect_table_columns_to_match_set",
        "kwargs": {"column_set": ["member_id", "age", "spend", "renewed"], "exact_match": False},
        "severity": "table",
    },
]
LABELLED["suites"]["primary_table"]["expectations"] += [
    {
        "type": "expect_column_mean_to_be_between",
        "kwargs": {"column": "renewed", "min_value": 0.1, "max_value": 0.9},
        "severity": "table",
    },
]


def test_target_free_suites_are_the_training_suites_minus_the_targets_expectations() -> None:
    plan = nodes.check_validation_config(LABELLED, INGESTION, target_optional=True)
    full, derived = plan["datasets"], plan["unlabelled_datasets"]
    for dataset, config in full.items():
        kept = [e for e in config["expectations"] if "renewed" not in str(e["kwargs"])]
        ids = [e["id"] for e in derived[dataset]["expectations"]]
        assert ids[: len(kept)] == [e["id"] for e in kept]
        assert "renewed" not in derived[dataset]["columns"]
    # A column set keeps its other columns; an expectation on the target alone goes.
    members = {e["type"]: e for e in derived["raw_members"]["expectations"]}
    assert "expect_column_values_to_be_in_set" not in members
    assert members["expect_table_columns_to_match_set"]["kwargs"]["column_set"] == [
        "member_id",
        "age",
        "spend",
    ]
    assert "expect_column_mean_to_be_between.renewed" not in {
        e["id"] for e in derived["primary_table"]["expectations"]
    }
    # Training plans hold no target-free suites: the target stays required there.
    assert nodes.check_validation_config(LABELLED, INGESTION)["unlabelled_datasets"] is None


def test_a_batch_without_its_target_is_validated_with_the_derived_suites() -> None:
    plan = nodes.check_validation_config(LABELLED, INGESTION, target_optional=True)
    unlabelled = RAW.drop(columns="Renewed")
    result = nodes.validate_dataset(unlabelled, plan, "raw_members")
    assert result["labelled"] is False
    assert "expect_column_values_to_be_in_set.renewed" not in {
        o["id"] for o in result["expectations"]
    }
    # The row expectations still quarantine: row 1's spend is malformed.
    spend = next(o for o in result["expectations"] if o["id"].endswith(".spend"))
    assert spend["unexpected_rows"] == [1]
    # With the target column the full suite runs; without target_optional a missing target is
    # refused, as in training.
    assert nodes.validate_dataset(RAW, plan, "raw_members")["labelled"] is True
    with pytest.raises(DataError, match="renewed"):
        nodes.validate_dataset(
            unlabelled, nodes.check_validation_config(LABELLED, INGESTION), "raw_members"
        )
