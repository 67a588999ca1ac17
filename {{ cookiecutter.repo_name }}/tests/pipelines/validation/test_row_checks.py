"""The compiled row checks find what Great Expectations finds: the same rows, the same reasons."""

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from sklearn.dummy import DummyClassifier

from {{ cookiecutter.python_package }}.columns import ROW_POSITION
from {{ cookiecutter.python_package }}.modelling import feature_columns, model_inputs
from {{ cookiecutter.python_package }}.pipelines.ingestion import create_pipeline as ingestion
from {{ cookiecutter.python_package }}.pipelines.ingestion.nodes import (
    add_ratios,
    check_ingestion_config,
    parse_columns,
)
from {{ cookiecutter.python_package }}.pipelines.validation.nodes import (
    REASON_SEPARATOR,
    check_validation_config,
    failures_of,
    prepare_frame,
    quarantine_rows,
    suite_for,
    validate_dataset,
)
from {{ cookiecutter.python_package }}.pipelines.validation.row_checks import FEW, compile_row_checks
from {{ cookiecutter.python_package }}.pipelines.validation.suites import PRIMARY_TABLE, run_suite
from {{ cookiecutter.python_package }}.project_config import sources_of
from {{ cookiecutter.python_package }}.serving import REQUEST, answer_rows, as_text, serving_plan

from ...conftest import load_config
from .conftest import PROJECT_ROOT, KeptDataset, raw_datasets

BATCHES = PROJECT_ROOT / "data" / "01_raw" / "batches"


def gx_failures(result: dict[str, Any]) -> set[tuple[str, tuple]]:
    """GX's failing row expectations: (reason, the failing rows' keys)."""
    return {(reason, tuple(sorted(keys))) for reason, _, keys in failures_of((result,))[0]}


def row_check_failures(frame: pd.DataFrame, config: dict, dataset: str) -> set[tuple[str, tuple]]:
    checks = compile_row_checks(config, dataset)
    keys = frame[config["row_key"]].to_numpy()
    return {(reason, tuple(sorted(keys[rows].tolist()))) for reason, rows in checks.failures(frame)}


def load_sources(folder: Path, parameters: dict, tmp_path: Path, monkeypatch) -> dict:
    """The raw datasets, read through the project's catalog entries from ``folder``'s files."""
    where = tmp_path / folder.name
    (where / "data").mkdir(parents=True)
    (where / "data" / "01_raw").symlink_to(folder)
    monkeypatch.chdir(where)
    config = load_config(PROJECT_ROOT, "catalog")
    names = raw_datasets(parameters)
    return {name: DataCatalog.from_config({name: config[name]}).load(name) for name in names}


def assert_parity(raw: dict[str, pd.DataFrame], parameters: dict) -> int:
    """Each suite of ``raw`` and of its primary table, run by GX and by the row checks: the same
    failing rows for the same reasons. Returns how many (reason, rows) both found."""
    sources = sources_of(parameters["ingestion"])
    catalog = DataCatalog(
        datasets={
            **{name: MemoryDataset(data) for name, data in raw.items()},
            **{f"params:{k}": MemoryDataset(parameters[k]) for k in ("ingestion", "dataset")},
            PRIMARY_TABLE: KeptDataset(),
        }
    )
    SequentialRunner().run(ingestion(sources, target_optional=True), catalog)
    plan = check_validation_config(
        parameters["validation"], parameters["ingestion"], target_optional=True
    )
    found = 0
    for dataset, data in {**raw, PRIMARY_TABLE: catalog.load(PRIMARY_TABLE)}.items():
        config = suite_for(data, plan, dataset)
        expected = gx_failures(validate_dataset(data, plan, dataset))
        frame = prepare_frame(data, dataset, config)
        assert row_check_failures(frame, config, dataset) == expected, dataset
        found += len(expected)
    return found


@pytest.mark.slow
def test_the_checks_agree_with_gx_on_the_project_data(parameters, tmp_path, monkeypatch) -> None:
    raw = load_sources(PROJECT_ROOT / "data" / "01_raw", parameters, tmp_path, monkeypatch)
    assert_parity(raw, parameters)


def scoring_entries(batch: str) -> dict[str, dict] | None:
    """The catalog entries that read scoring batch ``batch`` for each configured source, or None
    when a source has no scoring entry (``scoring_raw_<source>``) or the batch lacks its file."""
    sources = sources_of(load_config(PROJECT_ROOT, "parameters")["ingestion"]).all
    catalog = load_config(PROJECT_ROOT, "catalog", runtime_params={"batch": batch})
    entries = {f"raw_{s}": catalog.get(f"scoring_raw_{s}") for s in sources}
    if not all(entries.values()):
        return None
    for entry in entries.values():  # a file path, or a SQLite database's
        path = entry.get("filepath") or entry.get("credentials", {}).get("con", "")
        if not (PROJECT_ROOT / path.removeprefix("sqlite:///")).is_file():
            return None
    return entries


def batches_of_the_configured_sources() -> list[str]:
    """The scoring batches that hold every configured source (the bundled batches are the
    sample's: a project configured for other data has none until it adds its own)."""
    if not BATCHES.is_dir():
        return []
    return sorted(p.name for p in BATCHES.iterdir() if p.is_dir() and scoring_entries(p.name))


@pytest.mark.slow
@pytest.mark.parametrize("batch", batches_of_the_configured_sources())
def test_the_checks_agree_with_gx_on_each_scoring_batch(batch, parameters, monkeypatch) -> None:
    entries = scoring_entries(batch)
    monkeypatch.chdir(PROJECT_ROOT)  # catalog paths are relative to the project root
    catalog = DataCatalog.from_config(entries)
    assert_parity({name: catalog.load(name) for name in entries}, parameters)


NUMBERS = itertools.count()


def entry(kind: str, column: str, **kwargs: Any) -> dict[str, Any]:
    entry_id = f"{kind}.{column}.{next(NUMBERS)}"
    return {
        "id": entry_id,
        "type": kind,
        "kwargs": {"column": column, **kwargs},
        "severity": "row",
        "description": entry_id,
    }


PLANTED = pd.DataFrame(
    {
        "key": [0, 1, 2, 3, 4, 5],
        "text": ["ab12", "x", None, "ab", "12ab", "zz"],
        "number": [1.0, 0.0, 5.0, np.nan, 100.0, -2.0],
        "whole": [1, 2, 3, 3, 5, 6],
        "mixed": pd.Series([1, "a", 2.5, None, True, "b"], dtype=object),
        "when": pd.to_datetime(["2024-01-01", "2023-01-01", None, "2024-06-01", "2025-01-01",
                                "2024-02-01"]),
    }
)  # fmt: skip
PLANTED_SUITE = [
    entry("expect_column_values_to_not_be_null", "text"),
    entry("expect_column_values_to_not_be_null", "number", mostly=0.5),  # met mostly: no rows
    entry("expect_column_values_to_be_null", "number"),
    entry("expect_column_values_to_match_regex", "text", regex=r"\d+"),  # search, not match
    entry("expect_column_values_to_match_regex", "text", regex=r"^ab\d*$", mostly=0.9),
    entry("expect_column_values_to_not_match_regex", "text", regex=r"^z"),
    entry("expect_column_values_to_be_in_set", "text", value_set=["ab12", "ab", "zz"]),
    entry("expect_column_values_to_be_in_set", "whole", value_set=[1, 2, 3]),
    entry("expect_column_values_to_be_between", "number", min_value=0, max_value=5),
    entry("expect_column_values_to_be_between", "number", min_value=0, strict_min=True),
    entry("expect_column_values_to_be_between", "whole", max_value=5, strict_max=True),
    entry("expect_column_values_to_be_between", "number", min_value="1", max_value=4.5),
    entry("expect_column_values_to_be_unique", "whole"),
    entry("expect_column_values_to_be_of_type", "mixed", type_="str"),
    entry("expect_column_values_to_be_of_type", "whole", type_="float64"),  # dtype: no rows
    entry("expect_column_value_lengths_to_be_between", "text", min_value=3),  # run by GX
]


def test_the_checks_agree_with_gx_on_planted_rows_of_each_kind() -> None:
    config = {"row_key": "key", "expectations": PLANTED_SUITE}
    expected = gx_failures(run_suite(PLANTED, "planted", config))
    assert row_check_failures(PLANTED, config, "planted") == expected
    kinds = {reason.split(".")[1] for reason, _ in expected}
    assert kinds == {e["type"] for e in PLANTED_SUITE}
    # One row at a time (a request of one row): GX and the checks still agree.
    for position in range(len(PLANTED)):
        row = PLANTED.iloc[[position]].reset_index(drop=True)
        assert row_check_failures(row, config, "planted") == gx_failures(
            run_suite(row, "planted", config)
        )


def test_text_checks_agree_with_gx_on_few_rows_and_on_many() -> None:
    # Up to FEW rows text is matched value by value in Python, past it by pandas: GX agrees
    # with both, on text where regex engines differ (a trailing newline before $, non-ASCII
    # digits for \d, case, spaces).
    text = ["ab12", "x", None, "ab", "12ab", "zz", "ab\n", "ab\u0661\u0662", "AB12", " ab"]
    rows = FEW + 2 * len(text)
    many = pd.DataFrame({"key": range(rows), "text": [text[i % len(text)] for i in range(rows)]})
    expectations = [e for e in PLANTED_SUITE if e["kwargs"]["column"] == "text"]
    config = {"row_key": "key", "expectations": expectations}
    for frame in (many, many.head(len(text))):
        expected = gx_failures(run_suite(frame, "planted", config))
        assert row_check_failures(frame, config, "planted") == expected, len(frame)
        assert {reason.split(".")[1] for reason, _ in expected} >= {
            "expect_column_values_to_match_regex",
            "expect_column_values_to_not_match_regex",
            "expect_column_values_to_be_in_set",
        }


def test_a_bound_the_checks_leave_to_gx_gets_gx_verdict() -> None:
    # A date bound: GX's own model reads it, so GX runs this one expectation.
    config = {
        "row_key": "key",
        "expectations": [
            entry("expect_column_values_to_be_between", "when", min_value="2024-01-01"),
            PLANTED_SUITE[0],
        ],
    }
    checks = compile_row_checks(config, "planted")
    assert not callable(checks.checks[0][1]) and callable(checks.checks[1][1])
    expected = gx_failures(run_suite(PLANTED, "planted", config))
    assert row_check_failures(PLANTED, config, "planted") == expected


def test_table_expectations_are_listed_as_unchecked() -> None:
    table = {
        **entry("expect_column_mean_to_be_between", "number", min_value=0),
        "severity": "table",
    }
    checks = compile_row_checks({"row_key": "key", "expectations": [table, PLANTED_SUITE[0]]}, "d")
    assert checks.unchecked == ({"dataset": "d", "id": table["id"], "type": table["type"]},)
    assert [entry_id for entry_id, _ in checks.checks] == [PLANTED_SUITE[0]["id"]]


def bad_value(expectation: dict[str, Any], good: Any) -> Any:
    """A raw (text) value that breaks ``expectation``, or None when none can be planted."""
    kind, kwargs = expectation["type"], expectation["kwargs"]
    if kind == "expect_column_values_to_not_be_null":
        return None
    if kind == "expect_column_values_to_match_regex":
        return "?"
    if kind == "expect_column_values_to_be_in_set":
        numbers = [v for v in kwargs["value_set"] if isinstance(v, int | float)]
        return str(max(numbers) + 1) if numbers else "?"
    if kind == "expect_column_values_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        return (
            str(low if kwargs.get("strict_min") else low - 1) if low is not None else str(high + 1)
        )
    if kind == "expect_column_values_to_be_unique":
        return good
    return None


@pytest.mark.slow
def test_the_served_model_refuses_a_planted_row_of_each_kind_with_the_batch_reason(
    parameters, tmp_path, monkeypatch
) -> None:
    ingestion_plan = check_ingestion_config(parameters["ingestion"], parameters["dataset"])
    validation = check_validation_config(
        parameters["validation"], parameters["ingestion"], parameters["dataset"]
    )
    numeric, categorical = feature_columns(parameters["training"])
    plan = serving_plan(
        ingestion_plan,
        validation,
        numeric=numeric,
        categorical=categorical,
        decision_threshold=0.5,
        keep_columns=[],
    )
    raw = load_sources(PROJECT_ROOT / "data" / "01_raw", parameters, tmp_path, monkeypatch)
    main, columns = plan["main_dataset"], list(plan["column_types"])
    clean = raw[main][columns].head(50).reset_index(drop=True)
    request = clean.assign(**{c: 0 for c in plan["related_columns"]})
    planted = []
    for dataset in (main, PRIMARY_TABLE):
        for expectation in plan["suites"][dataset]["expectations"]:
            column = expectation["kwargs"].get("column")
            if column not in columns:
                continue
            row = request.iloc[[len(planted) % len(request)]].copy()
            value = bad_value(expectation, row[column].iloc[0])
            if value is None and expectation["type"] != "expect_column_values_to_not_be_null":
                continue
            row[column] = value
            planted.append((f"{dataset}.{expectation['id']}", row))
    request = pd.concat([request, *(row for _, row in planted)], ignore_index=True)
    # The batch's own path on the same rows: GX's suites, then the quarantine.
    text = pd.DataFrame({c: pd.Series(request[c].map(as_text), dtype="str") for c in columns})
    primary = parse_columns(text, plan["column_types"], REQUEST)
    primary.insert(0, ROW_POSITION, np.arange(len(primary), dtype="int64"))
    primary = add_ratios(
        primary.assign(**{c: request[c].astype(float) for c in plan["related_columns"]}),
        plan["ratios"],
    )
    batch_plan = {"datasets": plan["suites"], "main_dataset": main, "max_quarantined_share": 1.0}
    results = [validate_dataset(text, batch_plan, main)]
    results.append(validate_dataset(primary, batch_plan, PRIMARY_TABLE))
    _, quarantined, _, _ = quarantine_rows(primary, {**batch_plan, "report_folder": ""}, *results)
    batch = dict.fromkeys(range(len(request)))
    batch.update(zip(quarantined[ROW_POSITION], quarantined["quarantine_reasons"], strict=True))
    # A real (if simple) fitted model: the answer format is the served model's.
    inputs = model_inputs(primary, numeric, categorical)
    model = DummyClassifier(strategy="prior").fit(inputs, np.arange(len(inputs)) % 2)
    answer = answer_rows(request, plan, model)
    assert answer["quarantine_reasons"].tolist() == [batch[i] for i in range(len(request))]
    for reason, _ in planted:  # each planted kind refused for its reason
        assert any(
            reason in (r or "").split(REASON_SEPARATOR) for r in answer["quarantine_reasons"]
        )
    kinds = {reason.split(".")[1] for reason, _ in planted}
    assert {e["type"] for s in plan["suites"].values() for e in s["expectations"]} <= kinds
    assert all(
        e["why"] in {"table", "target", "related source"} for e in plan["unchecked_expectations"]
    )
