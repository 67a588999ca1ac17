"""Unit tests of the ingestion nodes on small hand-made frames."""

import pandas as pd
import pytest

from {{ cookiecutter.python_package }}.errors import ConfigError, DataError
from {{ cookiecutter.python_package }}.pipelines.ingestion import nodes

PARAMS = {
    "id_column": "applicant_id",
    "column_types": {
        "applicant_id": "string",
        "age": "integer",
        "loan_amount": "number",
        "annual_income": "number",
    },
    "bureau_summary": {
        "n_bureau_accounts": ["record_id", "count"],
        "total_balance": ["balance", "sum"],
    },
    "ratios": {"loan_to_income": ["loan_amount", "annual_income"]},
}


@pytest.fixture
def applications() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Applicant ID": ["A1", "A2", "A2", "A3"],
            "Age": ["30", "41.5", "-3", "52"],
            "Loan Amount": ["1000", "12,5OO.00", "300", "200"],
            "Annual Income": ["50000", "0", None, "40000"],
        },
        dtype="str",
    )


@pytest.fixture
def bureau() -> pd.DataFrame:
    return pd.DataFrame(
        {"record_id": [1, 2, 3], "applicant_id": ["A1", "A1", "A2"], "balance": [10.0, 5.0, 7.0]}
    )


def test_column_names_are_normalised() -> None:
    frame = pd.DataFrame(columns=[" Loan Amount ", "applicant-ID"])
    assert list(nodes.normalise_column_names(frame).columns) == ["loan_amount", "applicant_id"]


def test_bureau_records_are_summarised_per_applicant(bureau: pd.DataFrame) -> None:
    summary, record = nodes.summarise_bureau_records(bureau, PARAMS)
    assert summary.set_index("applicant_id").to_dict("index") == {
        "A1": {"n_bureau_accounts": 2, "total_balance": 15.0},
        "A2": {"n_bureau_accounts": 1, "total_balance": 7.0},
    }
    assert record["metrics"] == {"rows_raw_bureau_records": 3, "applicants_with_bureau_records": 2}


def test_primary_table_keeps_every_row_types_values_and_traces_them(
    applications: pd.DataFrame, bureau: pd.DataFrame
) -> None:
    summary, _ = nodes.summarise_bureau_records(bureau, PARAMS)
    primary, record = nodes.build_primary_table(applications, summary, PARAMS)

    assert len(primary) == len(applications) == record["metrics"]["rows_primary"]
    assert primary["source_row"].tolist() == [0, 1, 2, 3]
    # malformed and fractional values become missing (validation reports them from the raw text)
    assert primary["loan_amount"].isna().tolist() == [False, True, False, False]
    assert primary["age"].isna().tolist() == [False, True, False, False]
    # applicants without bureau records get zero counts, not missing ones
    assert primary.loc[3, "n_bureau_accounts"] == 0
    assert not primary.loc[3, "has_bureau_records"]
    # a zero income gives a missing ratio, never an infinite one
    assert primary["loan_to_income"].isna().tolist() == [False, True, True, False]


def test_missing_column_is_named(applications: pd.DataFrame, bureau: pd.DataFrame) -> None:
    summary, _ = nodes.summarise_bureau_records(bureau, PARAMS)
    with pytest.raises(DataError, match=r"raw_applications.*'age'"):
        nodes.build_primary_table(applications.drop(columns=["Age"]), summary, PARAMS)


def test_unknown_column_type_is_refused(applications: pd.DataFrame, bureau: pd.DataFrame) -> None:
    summary, _ = nodes.summarise_bureau_records(bureau, PARAMS)
    params = {**PARAMS, "column_types": {**PARAMS["column_types"], "age": "integre"}}
    with pytest.raises(ConfigError, match="integre"):
        nodes.build_primary_table(applications, summary, params)
