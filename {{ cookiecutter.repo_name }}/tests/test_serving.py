"""Unit tests of serving.py: each request row answered with a probability or its reasons."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from {{ cookiecutter.python_package }}.errors import DataError
from {{ cookiecutter.python_package }}.pipelines.ingestion.nodes import check_ingestion_config
from {{ cookiecutter.python_package }}.pipelines.validation.nodes import check_validation_config
from {{ cookiecutter.python_package }}.serving import (
    MAX_REQUEST_ROWS,
    answer_rows,
    as_text,
    check_request,
    serving_plan,
)

INGESTION = {
    "main_source": "rows",
    "id_column": "key",
    "target": {"column": "outcome", "positive": 1, "negative": 0},
    "column_types": {"key": "string", "income": "number", "age": "integer", "outcome": "integer"},
    "related_sources": {
        "events": {"key": "key", "aggregations": {"n_events": ["amount", "count"]}}
    },
    "ratios": {"events_per_income": ["n_events", "income"]},
}
SUITES = {
    "raw_rows": {
        "expectations": [
            {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 100},
             "severity": "table"},
            {"type": "expect_column_values_to_match_regex",
             "kwargs": {"column": "income", "regex": r"^\d+(?:\.\d+)?$"}, "severity": "row"},
            {"type": "expect_column_values_to_be_in_set",
             "kwargs": {"column": "outcome", "value_set": ["0", "1"]}, "severity": "row"},
        ]
    },
    "raw_events": {
        "expectations": [
            {"type": "expect_column_values_to_be_between",
             "kwargs": {"column": "amount", "min_value": 0}, "severity": "row"},
        ]
    },
    "primary_table": {
        "expectations": [
            {"type": "expect_column_values_to_be_between",
             "kwargs": {"column": "age", "min_value": 18, "max_value": 100}, "severity": "row"},
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "outcome"},
             "severity": "row"},
        ]
    },
}  # fmt: skip
VALIDATION = {
    "on_fail": "stop",
    "max_quarantined_share": 0.05,
    "report_folder": "r",
    "suites": SUITES,
}
DATASET = {"problem_type": "binary", "target": INGESTION["target"]}
NUMERIC = ["income", "age", "n_events", "has_events", "events_per_income"]


@pytest.fixture(scope="module")
def plan():
    ingestion = check_ingestion_config(INGESTION, DATASET)
    validation = check_validation_config(VALIDATION, INGESTION)
    return serving_plan(
        ingestion,
        validation,
        numeric=NUMERIC,
        categorical=[],
        decision_threshold=0.5,
        keep_columns=["key", "source_row"],
    )


def test_the_plan_keeps_only_row_checks_a_request_can_meet(plan) -> None:
    assert set(plan["suites"]) == {"raw_rows", "primary_table"}  # no raw related records
    ids = [e["id"] for suite in plan["suites"].values() for e in suite["expectations"]]
    assert ids == [
        "expect_column_values_to_match_regex.income",
        "expect_column_values_to_be_between.age",
    ]
    assert "outcome" not in plan["column_types"]
    assert plan["related_columns"] == {"n_events": "number", "has_events": "boolean"}


def test_values_become_the_source_file_text() -> None:
    assert [as_text(v) for v in ("41", 41, 41.0, 2.5, True, "")][:5] == [
        "41",
        "41",
        "41",
        "2.5",
        "true",
    ]
    assert all(pd.isna(as_text(v)) for v in (None, np.nan, ""))


def test_rows_are_answered_with_a_probability_or_the_reasons(plan) -> None:
    rng = np.random.default_rng(0)
    train = pd.DataFrame(rng.normal(size=(50, len(NUMERIC))), columns=NUMERIC)
    model = LogisticRegression().fit(train, (train["income"] > 0).astype(int))
    request = pd.DataFrame(
        {
            "key": ["a", "b", "c"],
            "income": ["52000", "52,000", "61000"],
            "age": [41, "40", "7"],
            "n_events": [2, 0, 1],
            "has_events": [True, False, None],
        }
    )
    answer = answer_rows(request, plan, model)
    assert answer["key"].tolist() == ["a", "b", "c"]
    assert (
        answer["probability"].iloc[0] is not None and answer["quarantine_reasons"].iloc[0] is None
    )
    assert (
        answer["quarantine_reasons"].iloc[1]
        == "raw_rows.expect_column_values_to_match_regex.income"
    )
    assert answer["quarantine_reasons"].iloc[2] == (
        "primary_table.expect_column_values_to_be_between.age; request.has_events is true or false"
    )
    assert answer["probability"].iloc[1:].isna().all()
    with pytest.raises(DataError, match=r"no column\(s\) \['n_events'\]"):
        answer_rows(request.drop(columns=["n_events"]), plan, model)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.drop(columns=["n_events"]), r"no column\(s\) \['n_events'\]"),
        (lambda r: r.assign(outcome=[1, 0]), r"unknown column\(s\) \['outcome'\]"),
        (lambda r: r.head(0), "no rows"),
        (lambda r: r.loc[[0] * (MAX_REQUEST_ROWS + 1)], "at most 10,000 per request"),
        (lambda r: r.assign(key=[["a"], "b"]), "key holds a list or an object"),
        (lambda r: r.assign(age=[{"y": 41}, "40"]), "age holds a list or an object"),
        (lambda r: r.assign(income=[float("inf"), 1.0]), "income holds an infinite number"),
        (lambda r: r.assign(n_events=["two", 1]), "n_events holds numbers, not 'two'"),
        (lambda r: r.assign(n_events=["inf", 1]), "n_events holds an infinite number, not 'inf'"),
        (lambda r: r.assign(has_events=["maybe", True]), "has_events holds true or false"),
    ],
)
def test_a_request_wrong_as_a_whole_is_refused_naming_the_problem(plan, change, message) -> None:
    request = pd.DataFrame(
        {
            "key": ["a", "b"],
            "income": ["52000", "61000"],
            "age": ["41", "40"],
            "n_events": [2, None],
            "has_events": [True, None],
        }
    )
    assert check_request(request, plan).shape == (2, 5)  # a missing value is the suites' to judge
    with pytest.raises(DataError, match=message):
        check_request(change(request), plan)
