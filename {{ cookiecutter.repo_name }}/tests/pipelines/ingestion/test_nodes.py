"""Unit tests of the ingestion nodes on small hand-made frames (not the sample's columns)."""

import pandas as pd
import pytest

from {{ cookiecutter.python_package }}.errors import ConfigError, DataError
from {{ cookiecutter.python_package }}.pipelines.ingestion import nodes
from {{ cookiecutter.python_package }}.problem import problem_of

PARAMS = {
    "main_source": "members",
    "id_column": "member_id",
    "target": {"column": "renewed", "positive": "yes", "negative": "no"},
    "column_types": {
        "member_id": "string",
        "age": "integer",
        "spend": "number",
        "income": "number",
        "renewed": "category",
    },
    "related_sources": {
        "visits": {
            "key": "member_id",
            "aggregations": {
                "n_visits": ["visit_id", "count"],
                "total_minutes": ["minutes", "sum"],
            },
        }
    },
    "ratios": {"spend_to_income": ["spend", "income"]},
}
DATASET = {"problem_type": "binary", "target": PARAMS["target"]}


@pytest.fixture
def plan() -> dict:
    return nodes.check_ingestion_config(PARAMS, DATASET)


@pytest.fixture
def members() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Member ID": ["M1", "M2", "M2", "M3"],
            "Age": ["30", "41.5", "-3", "52"],
            "Spend": ["1000", "12,5OO.00", " 300", "200"],
            "Income": ["50000", "0", None, "40000"],
            "Renewed": ["yes", " no", "maybe", "YES"],
        },
        dtype="str",
    )


@pytest.fixture
def visits() -> pd.DataFrame:
    return pd.DataFrame(
        {"visit_id": [1, 2, 3], "member_id": ["M1", "M1", "M2"], "minutes": [10.0, 5.0, 7.0]}
    )


def test_column_names_are_normalised() -> None:
    frame = pd.DataFrame(columns=[" Hours per week ", "Capital-Gain"])
    assert list(nodes.normalise_column_names(frame).columns) == ["hours_per_week", "capital_gain"]


def test_related_rows_are_summarised_per_key(plan: dict, visits: pd.DataFrame) -> None:
    summary, record = nodes.summarise_related_source(visits, plan, "visits")
    assert summary.set_index("member_id").to_dict("index") == {
        "M1": {"n_visits": 2, "total_minutes": 15.0},
        "M2": {"n_visits": 1, "total_minutes": 7.0},
    }
    assert record["metrics"] == {"rows_raw_visits": 3, "keys_with_visits": 2}


def test_primary_table_keeps_every_row_types_values_and_traces_them(
    plan: dict, members: pd.DataFrame, visits: pd.DataFrame
) -> None:
    summary, _ = nodes.summarise_related_source(visits, plan, "visits")
    primary, record = nodes.build_primary_table(members, plan, summary)

    assert len(primary) == len(members) == record["metrics"]["rows_primary"]
    assert primary["source_row"].tolist() == [0, 1, 2, 3]
    # malformed and fractional values become missing (validation reports them from the raw text)
    assert primary["spend"].isna().tolist() == [False, True, False, False]
    assert primary["age"].isna().tolist() == [False, True, False, False]
    # keys without related rows get zero counts, not missing ones, and a presence flag
    assert primary.loc[3, "n_visits"] == 0
    assert primary["has_visits"].tolist() == [True, True, True, False]
    # a zero income gives a missing ratio, never an infinite one
    assert primary["spend_to_income"].isna().tolist() == [False, True, True, False]
    # the target is 0/1; a label that is neither positive nor negative is missing
    assert primary["renewed"].tolist()[:2] == [1, 0]
    assert primary["renewed"].isna().tolist() == [False, False, True, False]
    assert record["metrics"]["rows_without_known_target"] == 1


def test_one_table_without_an_id_uses_the_row_position() -> None:
    params = {
        "main_source": "survey",
        "id_column": None,
        "target": {"column": "label", "positive": True},
        "column_types": {"x": "number", "label": "boolean"},
        "related_sources": {},
        "ratios": {},
    }
    raw = pd.DataFrame({"x": ["1", "2", "3"], "label": ["True", "false", "TRUE"]}, dtype="str")
    primary, _ = nodes.build_primary_table(
        raw,
        nodes.check_ingestion_config(
            params, {"problem_type": "binary", "target": params["target"]}
        ),
    )
    assert primary["source_row"].tolist() == [0, 1, 2]
    assert primary["label"].tolist() == [1, 0, 1]


def test_without_negative_every_other_label_is_negative() -> None:
    frame = pd.DataFrame({"y": [">50K", "<=50K", ">50K.", None]}, dtype="str")
    problem = problem_of(
        {"problem_type": "binary", "target": {"column": "y", "positive": [">50K", ">50K."]}}
    )
    encoded = problem.encode_target_column(frame)
    assert encoded["y"].tolist()[:3] == [1, 0, 1]
    assert encoded["y"].isna().tolist() == [False, False, False, True]


def test_a_positive_value_the_target_never_takes_is_named() -> None:
    frame = pd.DataFrame({"y": ["a", "b"]}, dtype="str")
    with pytest.raises(ConfigError, match=r"dataset.target.positive .* never takes"):
        problem_of(
            {"problem_type": "binary", "target": {"column": "y", "positive": "c"}}
        ).encode_target_column(frame)


def test_missing_column_is_named(plan: dict, members: pd.DataFrame, visits: pd.DataFrame) -> None:
    summary, _ = nodes.summarise_related_source(visits, plan, "visits")
    with pytest.raises(DataError, match=r"raw_members.*'age'"):
        nodes.build_primary_table(members.drop(columns=["Age"]), plan, summary)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"column_types": {**PARAMS["column_types"], "age": "integre"}}, "integre"),
        ({"related_sources": {"visits": {"key": "member_id", "aggregations": {}}}}, "is empty"),
        (
            {
                "related_sources": {
                    "visits": {"key": "visitor", "aggregations": {"n": ["v", "count"]}}
                }
            },
            r"key .* is 'visitor', which is not a column of the main source",
        ),
        ({"main_source": None}, "ingestion.main_source"),
        ({"target": {"column": "renewed"}}, "dataset.target.positive"),
    ],
)
def test_bad_configuration_is_refused(change: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        target = change.get("target", PARAMS["target"])
        nodes.check_ingestion_config(
            {**PARAMS, **change}, {"problem_type": "binary", "target": target}
        )


def test_a_scoring_batch_may_come_without_its_target(members, visits) -> None:
    """Scoring (target_optional) reads a main source without the target column; training
    refuses it, naming the column."""
    unlabelled = members.drop(columns=["Renewed"])
    scoring = nodes.check_ingestion_config(PARAMS, DATASET, target_optional=True)
    summary, _ = nodes.summarise_related_source(visits, scoring, "visits")
    primary, record = nodes.build_primary_table(unlabelled, scoring, summary)
    assert "renewed" not in primary.columns and len(primary) == len(members)
    assert record["metrics"]["rows_without_known_target"] == len(members)
    labelled, _ = nodes.build_primary_table(members, scoring, summary)
    assert labelled["renewed"].tolist()[:2] == [1, 0]
    with pytest.raises(DataError, match="renewed"):
        nodes.build_primary_table(
            unlabelled, nodes.check_ingestion_config(PARAMS, DATASET), summary
        )


def test_parsing_keeps_other_columns_and_reads_only_whole_64_bit_integers() -> None:
    frame = pd.DataFrame(
        {
            "kept": ["x", "y", "z", "w", "v"],
            "count": [" 7 ", "2.5", "inf", "100000000000000000000", None],
        },
        dtype="str",
    )
    parsed = nodes.parse_columns(frame, {"count": "integer"}, "rows")
    assert list(parsed.columns) == ["kept", "count"]
    assert parsed["kept"].tolist() == frame["kept"].tolist()
    assert str(parsed["count"].dtype) == "Int64"
    assert parsed["count"].tolist()[0] == 7
    assert parsed["count"].isna().tolist() == [False, True, True, True, True]
