"""``kedro draft-config``: the drafted configuration, its refusals, and the files it keeps."""

import importlib
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner, Result

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["kedro"][
    "package_name"
]
module = importlib.import_module(f"{PACKAGE}.draft_config")

CONF = Path("conf/base")
BATCH = "data/01_raw/batches/${runtime_params:batch,no_drift}"  # a scoring batch's folder


def messy_csv(path: Path, rows: int = 120) -> Path:
    """Headers with spaces, values padded with spaces, '?' for missing, a text target."""
    rng = np.random.default_rng(3)
    lines = ["Age, Work Class, Hours Per Week, Group, Free Text, Seen On, Outcome Label"]
    for i in range(rows):
        hours = "?" if i % 17 == 0 else str(rng.integers(1, 99))
        work = " ?" if i % 23 == 0 else rng.choice(["private", "public", "self"])
        group = rng.choice(["a", "b"])
        outcome = "yes" if rng.random() < 0.3 else "no"
        lines.append(
            f"{rng.integers(18, 80)},  {work}, {hours} , {group}, text {i}, "
            f"2024-01-{i % 28 + 1:02d}, {outcome}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project-like folder (conf/base, data/01_raw) as the working directory."""
    (tmp_path / "conf" / "base").mkdir(parents=True)
    (tmp_path / "data" / "01_raw").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    # Git without the user's own configuration (no identity: the command must cope).
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(module.draft_config, list(args))


def conf(name: str) -> Any:
    return yaml.safe_load((CONF / name).read_text())


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


# A small evaluator of the drafted suites, after the contract of ingestion and validation.


def normalise(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def raw_and_primary(root: Path) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """The main source as its catalog entry reads it, and the primary table ingestion makes."""
    (name, entry), *_ = conf("catalog.yml").items()
    reader = {"pandas.CSVDataset": pd.read_csv, "pandas.ParquetDataset": pd.read_parquet}
    raw = reader[entry["type"]](root / entry["filepath"], **entry.get("load_args", {}))
    raw = raw.set_axis([normalise(c) for c in raw.columns], axis=1)
    raw.insert(0, "source_row", np.arange(len(raw)))
    primary = raw.copy()
    for column, kind in conf("parameters_ingestion.yml")["ingestion"]["column_types"].items():
        text = raw[column].astype(str).str.strip().where(raw[column].notna())
        parsers = {
            "integer": lambda s: pd.to_numeric(s, errors="coerce").astype("Int64"),
            "number": lambda s: pd.to_numeric(s, errors="coerce").astype("float64"),
            "date": lambda s: pd.to_datetime(s, format="ISO8601"),
            "boolean": lambda s: s.str.lower().map({"true": True, "false": False}),
        }
        primary[column] = parsers.get(kind, lambda s: s)(text)
    dataset = conf("parameters_dataset.yml")["dataset"]
    target = dataset["target"]
    values = primary[target["column"]]
    encoded = pd.Series(pd.NA, index=values.index, dtype="Int64")
    if dataset["problem_type"] == "binary":
        negative = (
            values.notna() & (values != target["positive"])
            if target["negative"] is None
            else values == target["negative"]
        )
        encoded[values == target["positive"]] = 1
        encoded[negative] = 0
    elif dataset["problem_type"] == "multiclass":
        text = values.astype("string").str.strip().str.lower()
        for code, spec in enumerate(target["classes"]):
            encoded[(text == str(spec["value"]).lower()).fillna(False)] = code
    else:
        encoded = pd.to_numeric(values, errors="coerce").astype("float64")
    primary[target["column"]] = encoded
    return name, raw, primary


def holds(frame: pd.DataFrame, expectation: dict[str, Any]) -> bool:  # noqa: PLR0911
    """Whether ``frame`` meets ``expectation`` (missing values ignored where GX ignores them)."""
    kind, kwargs = expectation["type"], expectation["kwargs"]
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if kind == "expect_table_row_count_to_be_between":
        return low <= len(frame) <= high
    if kind == "expect_column_values_to_not_be_null":
        return bool(frame[kwargs["column"]].notna().all())
    present = frame[kwargs["column"]].dropna()
    if kind == "expect_column_values_to_match_regex":
        return all(re.search(kwargs["regex"], value) for value in present)
    if kind == "expect_column_values_to_be_in_set":
        return bool(present.isin(kwargs["value_set"]).all())
    if kind == "expect_column_values_to_be_between":
        return bool(present.between(low, high).all())
    if kind == "expect_column_values_to_be_unique":
        return not present.duplicated().any()
    assert kind == "expect_column_mean_to_be_between", kind
    return low <= present.mean() <= high


def failures(frame: pd.DataFrame, expectations: list[dict[str, Any]]) -> list[str]:
    """The expectations ``frame`` breaks, as ``type.column``."""
    assert all(e["severity"] in ("row", "table") for e in expectations)
    return [f"{e['type']}.{e['kwargs'].get('column')}" for e in expectations if not holds(frame, e)]


def broken_rows(frame: pd.DataFrame, expectations: list[dict[str, Any]]) -> set[int]:
    """The source_row of each row that breaks a row expectation."""
    rows: set[int] = set()
    for e in expectations:
        if e["severity"] != "row" or e["type"] == "expect_column_values_to_be_unique":
            continue
        for position in range(len(frame)):
            if not holds(frame.iloc[[position]], e):
                rows.add(int(frame["source_row"].iloc[position]))
    return rows


def suite_kinds(suite: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {(e["type"], e["kwargs"].get("column")) for e in suite["expectations"]}


# The drafted configuration


def test_messy_csv_is_drafted_and_passes_its_own_suites(project: Path) -> None:
    messy_csv(project / "data" / "01_raw" / "My Data.csv")

    result = run(
        "data/01_raw/My Data.csv", "--target", "Outcome Label", "--positive", "yes",
        "--sensitive", "age", "--sensitive", "Group",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    catalog = conf("catalog.yml")
    assert list(catalog) == ["raw_my_data", "scoring_raw_my_data"]
    entry = catalog["raw_my_data"]
    assert entry["type"] == "pandas.CSVDataset"
    assert entry["filepath"] == "data/01_raw/My Data.csv"
    assert entry["load_args"]["dtype"] == "str"
    assert entry["load_args"]["keep_default_na"] is False
    assert entry["load_args"]["skipinitialspace"] is True
    assert entry["load_args"]["sep"] == ","
    assert {"", "?"} <= set(entry["load_args"]["na_values"])
    assert entry["metadata"]["kedro-viz"]["layer"] == "raw"
    batch = catalog["scoring_raw_my_data"]  # a scoring batch: the same file, read the same way
    assert batch["filepath"] == f"{BATCH}/My Data.csv"
    assert {**batch, "filepath": entry["filepath"]} == entry

    dataset = conf("parameters_dataset.yml")["dataset"]
    assert dataset["id_column"] is None
    assert dataset["problem_type"] == "binary"
    assert dataset["target"] == {
        "column": "outcome_label",
        "positive": "yes",
        "negative": "no",
        "positive_means": dataset["target"]["positive_means"],
        "negative_means": dataset["target"]["negative_means"],
        "favourable": False,
    }
    assert dataset["features"]["numeric"] == ["hours_per_week"]
    assert dataset["features"]["categorical"] == ["work_class"]
    assert dataset["features"]["drop"] == ["source_row", "free_text", "seen_on"]
    assert dataset["sensitive_attributes"]["group"] == {}
    bins = dataset["sensitive_attributes"]["age"]["bins"]
    assert bins == sorted(bins) and bins[0] <= 18 and bins[-1] > 79
    assert dataset["intersections"] == [] and dataset["fairness_criteria"] == {}
    assert dataset["keep_with_predictions"] == ["source_row"]

    ingestion_text = (CONF / "parameters_ingestion.yml").read_text()
    assert "  id_column: ${dataset.id_column}\n  target: ${dataset.target}\n" in ingestion_text
    ingestion = yaml.safe_load(ingestion_text)["ingestion"]
    assert ingestion["main_source"] == "my_data"
    assert ingestion["related_sources"] == {} and ingestion["ratios"] == {}
    assert ingestion["column_types"] == {
        "age": "integer",
        "work_class": "category",
        "hours_per_week": "integer",
        "group": "category",
        "free_text": "string",
        "seen_on": "date",
        "outcome_label": "category",
    }

    suites = conf("parameters_validation_suites.yml")["validation_suites"]
    assert set(suites) == {"raw_my_data", "primary_table"}
    name, raw, primary = raw_and_primary(project)
    assert raw["hours_per_week"].isna().sum() == 8  # the '?' markers, read as missing
    assert failures(raw, suites[name]["expectations"]) == []
    assert failures(primary, suites["primary_table"]["expectations"]) == []
    kinds = {
        (e["type"], e["kwargs"].get("column")) for e in suites["primary_table"]["expectations"]
    }
    assert ("expect_column_values_to_be_in_set", "work_class") in kinds
    assert ("expect_column_mean_to_be_between", "outcome_label") in kinds

    output = result.output
    assert "problem type: binary (outcome_label has two values: 'no', 'yes')" in output
    for words in ("'Outcome Label' -> outcome_label", "skipinitialspace", "'?'", "na_values"):
        assert words in output
    assert "breaks the drafted suites" not in output  # nothing quarantined
    assert "Review before your first run" in output
    assert output.rstrip().endswith("kedro run")


def test_integer_target_id_and_semicolons(project: Path) -> None:
    rows = ["Key;Size;Colour;Label"] + [
        f"k{i};{i * 1.5};{'red' if i % 3 else 'blue'};{int(i % 4 == 0)}" for i in range(40)
    ]
    (project / "data" / "01_raw" / "items.csv").write_text("\n".join(rows) + "\n")

    result = run("data/01_raw/items.csv", "--target", "label", "--positive", "1", "--id", "Key")

    assert result.exit_code == 0, result.output
    assert conf("catalog.yml")["raw_items"]["load_args"]["sep"] == ";"
    dataset = conf("parameters_dataset.yml")["dataset"]
    assert dataset["id_column"] == "key"
    assert dataset["target"]["positive"] == 1 and dataset["target"]["negative"] == 0
    assert dataset["features"]["numeric"] == ["size"]
    assert dataset["keep_with_predictions"] == ["key", "source_row"]
    assert conf("parameters_ingestion.yml")["ingestion"]["column_types"]["key"] == "string"
    suites = conf("parameters_validation_suites.yml")["validation_suites"]
    unique = [
        e
        for e in suites["primary_table"]["expectations"]
        if e["type"] == "expect_column_values_to_be_unique" and e["kwargs"]["column"] == "key"
    ]
    assert unique and unique[0]["severity"] == "row"
    name, raw, primary = raw_and_primary(project)
    assert failures(raw, suites[name]["expectations"]) == []
    assert failures(primary, suites["primary_table"]["expectations"]) == []


def test_boolean_target_latin1_and_a_byte_order_mark(project: Path) -> None:
    text = "Région,Score,Flag\n" + "".join(
        f"{'Zürich' if i % 2 else 'Genève'},{i % 7},{'True' if i % 3 else 'False'}\n"
        for i in range(30)
    )
    (project / "latin.csv").write_bytes(text.encode("latin-1"))
    (project / "bom.csv").write_bytes(text.encode("utf-8-sig"))

    for name, encoding in (("latin.csv", "latin-1"), ("bom.csv", "utf-8-sig")):
        result = run(name, "--target", "flag", "--positive", "true", "--force")
        assert result.exit_code == 0, result.output
        entry = next(iter(conf("catalog.yml").values()))
        assert entry["load_args"]["encoding"] == encoding
        target = conf("parameters_dataset.yml")["dataset"]["target"]
        assert target["positive"] is True and target["negative"] is False
        types = conf("parameters_ingestion.yml")["ingestion"]["column_types"]
        assert types == {"r_gion": "category", "score": "integer", "flag": "boolean"}


def test_parquet_is_read_with_its_own_dataset(project: Path) -> None:
    frame = pd.DataFrame({"x": np.arange(20) * 0.5, "kind": ["u", "v"] * 10, "y": [0, 1] * 10})
    frame.to_parquet(project / "data" / "01_raw" / "table.parquet")

    result = run("data/01_raw/table.parquet", "--target", "y", "--positive", "1")

    assert result.exit_code == 0, result.output
    entry = conf("catalog.yml")["raw_table"]
    assert entry["type"] == "pandas.ParquetDataset" and "load_args" not in entry
    suites = conf("parameters_validation_suites.yml")["validation_suites"]
    regexes = [e for e in suites["raw_table"]["expectations"] if "regex" in e["kwargs"]]
    assert regexes == []  # already typed: no text to check
    name, raw, primary = raw_and_primary(project)
    assert failures(raw, suites[name]["expectations"]) == []
    assert failures(primary, suites["primary_table"]["expectations"]) == []


def test_a_few_malformed_numbers_keep_the_column_numeric(project: Path) -> None:
    rows = ["amount,hours,y"] + [
        f"{'$12' if i in (5, 9) else i * 10},{'n.a.' if i % 40 == 7 else i % 50},{i % 2}"
        for i in range(200)
    ]
    (project / "d.csv").write_text("\n".join(rows) + "\n")

    result = run("d.csv", "--target", "y", "--positive", "1")

    assert result.exit_code == 0, result.output
    types = conf("parameters_ingestion.yml")["ingestion"]["column_types"]
    assert types["amount"] == "integer" and types["hours"] == "integer"
    assert "n.a." in conf("catalog.yml")["raw_d"]["load_args"]["na_values"]
    assert "breaks the drafted suites in 2 row(s)" in result.output
    assert "'$12'" in result.output
    suites = conf("parameters_validation_suites.yml")["validation_suites"]
    name, raw, primary = raw_and_primary(project)
    assert failures(raw, suites[name]["expectations"]) == [
        "expect_column_values_to_match_regex.amount"
    ]
    assert failures(primary, suites["primary_table"]["expectations"]) == []


def test_an_outlier_gets_a_band_of_its_own(project: Path) -> None:
    ages = [*range(20, 80), *range(20, 80), 999]
    rows = ["age,x,y"] + [f"{a},{i % 3},{i % 2}" for i, a in enumerate(ages)]
    (project / "d.csv").write_text("\n".join(rows) + "\n")

    result = run("d.csv", "--target", "y", "--positive", "1", "--sensitive", "age")

    assert result.exit_code == 0, result.output
    bins = conf("parameters_dataset.yml")["dataset"]["sensitive_attributes"]["age"]["bins"]
    assert bins[0] <= 20 and bins[-2] <= 100 and bins[-1] > 999
    assert bins == sorted(bins) and all(isinstance(b, int) for b in bins)


@pytest.mark.parametrize(
    ("low", "high"), [(18, 79), (0, 1), (0.02, 0.97), (-40, 40), (1000, 1000), (3, 250_000)]
)
def test_bins_are_round_increasing_and_cover_the_values(low: float, high: float) -> None:
    bins = module._nice_bins(low, high)
    assert 2 <= len(bins) <= 5
    assert bins == sorted(set(bins))
    assert bins[0] <= low and bins[-1] > high


# Problem types


def typed_csv(path: Path, target: list[Any], rows: int | None = None) -> Path:
    """Two features (a number, a category) and the given target column ``y``."""
    rows = rows or len(target)
    lines = ["size,kind,y"] + [
        f"{(i * 7) % 50 + 0.5},{'uvw'[i % 3]},{target[i % len(target)]}" for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def folds_of(project: Path, n_splits: int = 5, test_size: float = 0.2) -> None:
    """The project's benchmark folds and held-out share, as the shipped files write them."""
    benchmarking = {"benchmarking": {"cv": {"n_splits": n_splits, "n_repeats": 3, "seed": 1}}}
    training = {"training": {"split": {"test_size": test_size, "seed": 1, "stratify": True}}}
    (project / CONF / "parameters_benchmarking.yml").write_text(yaml.safe_dump(benchmarking))
    (project / CONF / "parameters_training.yml").write_text(yaml.safe_dump(training))


@pytest.mark.parametrize(
    ("target", "kind", "why"),
    [
        (["no", "yes", "no"], "binary", "y has two values: 'no', 'yes'"),
        ([True, False], "binary", "y has two values: 'False', 'True'"),
        (["red", "green", "blue", "green"], "multiclass", "y is text with 3 distinct values"),
        ([1, 2, 3, 4, 2], "multiclass", "y is whole numbers with 4 distinct values"),
        (list(range(40)), "regression", "y is numeric with 40 distinct values"),
        ([0.5, 1.25, 2.0], "regression", "y is numeric with 3 distinct values, not all whole"),
    ],
)
def test_the_problem_type_is_inferred_and_said(
    project: Path, target: list[Any], kind: str, why: str
) -> None:
    typed_csv(project / "data" / "01_raw" / "d.csv", target, rows=120)
    positive = ["--positive", str(target[0])] if kind == "binary" else []

    result = run("data/01_raw/d.csv", "--target", "y", *positive)

    assert result.exit_code == 0, result.output
    assert f"problem type: {kind} ({why}); override with --problem-type" in result.output
    dataset = conf("parameters_dataset.yml")["dataset"]
    assert dataset["problem_type"] == kind
    comments = " ".join((CONF / "parameters_dataset.yml").read_text().replace("#", " ").split())
    assert why in comments  # the reason, in the file
    keys = {
        "binary": ["column", "positive", "negative", "positive_means", "negative_means"],
        "multiclass": ["column", "classes"],
        "regression": ["column", "means", "unit", "higher_is_favourable"],
    }[kind]
    assert list(dataset["target"])[: len(keys)] == keys


def test_a_text_target_of_many_values_needs_a_problem_type(project: Path) -> None:
    typed_csv(project / "d.csv", [f"v{i}" for i in range(30)], rows=120)

    result = run("d.csv", "--target", "y")

    assert result.exit_code == 1
    assert "Cannot tell the problem type of target y" in result.output
    assert "pass --problem-type" in result.output
    assert not list((project / CONF).iterdir())


@pytest.mark.parametrize(
    ("target", "kind"), [([1.5, 2.5, 3.5], "regression"), (list("abc"), "multiclass")]
)
def test_positive_is_refused_for_other_types(project: Path, target: list[Any], kind: str) -> None:
    typed_csv(project / "d.csv", target, rows=60)

    result = run("d.csv", "--target", "y", "--positive", str(target[0]))

    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert lines == [
        f"Error: --positive is for a binary target; y is drafted as {kind}: leave --positive "
        "out, or pass --problem-type binary to predict that value against every other."
    ]
    assert not list((project / CONF).iterdir())


def test_a_binary_target_needs_positive(project: Path) -> None:
    typed_csv(project / "d.csv", ["no", "yes"], rows=40)

    result = run("d.csv", "--target", "y")

    assert result.exit_code == 1
    assert "--positive VALUE is needed for a binary target" in result.output
    assert "'no', 'yes'" in result.output


def test_problem_type_overrides_the_inference(project: Path) -> None:
    typed_csv(project / "d.csv", [1, 2, 3, 4, 2], rows=100)

    as_number = run("d.csv", "--target", "y", "--problem-type", "regression")
    assert as_number.exit_code == 0, as_number.output
    assert "problem type: regression (--problem-type)" in as_number.output
    assert conf("parameters_dataset.yml")["dataset"]["problem_type"] == "regression"
    assert conf("parameters_ingestion.yml")["ingestion"]["column_types"]["y"] == "number"

    one_against_rest = run(
        "d.csv", "--target", "y", "--problem-type", "binary", "--positive", "4", "--force"
    )
    assert one_against_rest.exit_code == 0, one_against_rest.output
    dataset = conf("parameters_dataset.yml")["dataset"]
    assert dataset["problem_type"] == "binary"
    assert dataset["target"]["positive"] == 4 and dataset["target"]["negative"] is None

    typed_csv(project / "t.csv", ["a", "b", "c"], rows=60)
    text = run("t.csv", "--target", "y", "--problem-type", "regression", "--force")
    assert text.exit_code == 1
    assert "--problem-type regression: target y is not numeric" in text.output


def test_multiclass_classes_and_suites(project: Path) -> None:
    # 'low' most frequent, then 'medium', 'high'; a padded spelling and a missing marker
    target = ["low"] * 5 + [" Medium"] + ["medium"] * 2 + ["high"] * 2 + ["?"]
    typed_csv(project / "data" / "01_raw" / "d.csv", target, rows=220)

    result = run("data/01_raw/d.csv", "--target", "y")

    assert result.exit_code == 0, result.output
    dataset = conf("parameters_dataset.yml")["dataset"]
    assert dataset["target"] == {
        "column": "y",
        "classes": [
            {"value": "low", "means": "have y = low", "favourable": None},
            {"value": "medium", "means": "have y = medium", "favourable": None},
            {"value": "high", "means": "have y = high", "favourable": None},
        ],
    }
    text = (CONF / "parameters_dataset.yml").read_text()
    assert "text: most frequent first" in text and "REVIEW" in text
    suites = conf("parameters_validation_suites.yml")["validation_suites"]
    raw_set = [
        e["kwargs"]["value_set"]
        for e in suites["raw_d"]["expectations"]
        if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "y"
    ]
    assert raw_set == [["Medium", "high", "low", "medium"]]  # every spelling as read
    primary = {
        (e["type"], str(e["kwargs"].get("value_set")))
        for e in suites["primary_table"]["expectations"]
        if e["kwargs"].get("column") == "y"
    }
    assert primary == {
        ("expect_column_values_to_not_be_null", "None"),
        ("expect_column_values_to_be_in_set", "[0, 1, 2]"),
    }
    name, raw, primary_table = raw_and_primary(project)
    missing = set(primary_table["source_row"][primary_table["y"].isna()])
    assert len(missing) == 20  # the '?' rows: quarantined by the primary not-null
    assert broken_rows(raw, suites[name]["expectations"]) == set()
    assert broken_rows(primary_table, suites["primary_table"]["expectations"]) == missing
    assert "breaks the drafted suites in 20 row(s)" in result.output


def test_a_rare_class_is_refused_in_one_line(project: Path) -> None:
    folds_of(project)  # 5 folds on the 80% not held out: 7 rows per class
    target = ["a"] * 9 + ["b"] * 6 + ["c"] * 4 + ["d"]  # d: 3 of 60 rows (5%)
    typed_csv(project / "d.csv", target, rows=60)

    result = run("d.csv", "--target", "y")

    assert result.exit_code == 1
    (line,) = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert line.startswith("Error: Class 'd' of target y has 3 row(s), fewer than the 7 ")
    assert "benchmarking.cv.n_splits" in line and "parameters_benchmarking.yml" in line
    assert not (project / CONF / "catalog.yml").exists()


def test_a_few_stray_values_are_not_classes(project: Path) -> None:
    folds_of(project)
    target = ["a", "b", "c", "a"] * 50 + ["urgent"]  # one stray row in 201 (0.5%)
    typed_csv(project / "data" / "01_raw" / "d.csv", target)

    result = run("data/01_raw/d.csv", "--target", "y")

    assert result.exit_code == 0, result.output
    classes = conf("parameters_dataset.yml")["dataset"]["target"]["classes"]
    assert [c["value"] for c in classes] == ["a", "b", "c"]
    assert "not classes (each under 0.5% of the rows; quarantined" in result.output
    assert "'urgent' (1)" in result.output
    suites = conf("parameters_validation_suites.yml")["validation_suites"]
    name, raw, primary = raw_and_primary(project)
    assert broken_rows(raw, suites[name]["expectations"]) == {200}
    assert broken_rows(primary, suites["primary_table"]["expectations"]) == {200}


def test_regression_target_and_suites(project: Path) -> None:
    prices = [f"{1000 + 13.7 * i:.2f}" for i in range(300)]
    prices[10], prices[20], prices[30] = "on request", "n/a", "tbd"
    typed_csv(project / "data" / "01_raw" / "prices.csv", prices)

    result = run("data/01_raw/prices.csv", "--target", "y")

    assert result.exit_code == 0, result.output
    dataset = conf("parameters_dataset.yml")["dataset"]
    assert dataset["problem_type"] == "regression"
    assert dataset["target"] == {
        "column": "y",
        "means": "y",
        "unit": None,
        "higher_is_favourable": None,
    }
    assert conf("parameters_ingestion.yml")["ingestion"]["column_types"]["y"] == "number"
    suites = conf("parameters_validation_suites.yml")["validation_suites"]
    assert ("expect_column_values_to_match_regex", "y") in suite_kinds(suites["raw_prices"])
    target_rules = {kind for kind, column in suite_kinds(suites["primary_table"]) if column == "y"}
    assert target_rules == {"expect_column_values_to_not_be_null"}
    name, raw, primary = raw_and_primary(project)
    assert broken_rows(raw, suites[name]["expectations"]) == {10, 30}  # text: the raw regex
    assert broken_rows(primary, suites["primary_table"]["expectations"]) == {10, 20, 30}
    assert "breaks the drafted suites in 3 row(s)" in result.output
    assert "2 row(s) where y is not a number: 'on request', 'tbd'" in result.output


def test_outlying_values_and_rare_gaps_are_quarantined(project: Path) -> None:
    rng = np.random.default_rng(5)
    area = [f"{v:.1f}" for v in rng.uniform(30, 250, 1000)]
    area[3], area[4], area[5] = "-66.0", "0.0", "?"  # a positive quantity: <= 0 is an error
    tenure = [str(v) for v in rng.integers(0, 120, 1000)]
    tenure[7] = "1200"  # far beyond the rest
    rows = enumerate(zip(area, tenure, strict=True))
    lines = ["area,tenure,y"] + [f"{a},{t},{i % 2}" for i, (a, t) in rows]
    (project / "data" / "01_raw" / "d.csv").write_text("\n".join(lines) + "\n")

    result = run("data/01_raw/d.csv", "--target", "y", "--positive", "1")

    assert result.exit_code == 0, result.output
    suites = conf("parameters_validation_suites.yml")["validation_suites"]
    ranges = {
        e["kwargs"]["column"]: (e["kwargs"]["min_value"], e["kwargs"]["max_value"])
        for e in suites["primary_table"]["expectations"]
        if e["type"] == "expect_column_values_to_be_between"
    }
    assert ranges["area"][0] > 0 and ranges["tenure"][1] < 1200
    name, raw, primary = raw_and_primary(project)
    assert broken_rows(raw, suites[name]["expectations"]) == {5}  # area missing, only there
    assert broken_rows(primary, suites["primary_table"]["expectations"]) == {3, 4, 7}
    assert "breaks the drafted suites in 4 row(s)" in result.output
    assert "area is far from the rest of its values (-66.0, 0.0)" in result.output


# Every environment: the sources' catalogs, the fairness review's attribute


def shipped_conf(project: Path) -> None:
    """The project's own conf/ (base and spark), with its git history."""
    for env in ("base", "spark"):
        shutil.copytree(PROJECT_ROOT / "conf" / env, project / "conf" / env, dirs_exist_ok=True)
    git(project, "init", "-q")
    git(project, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    git(project, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "start")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_the_spark_and_scoring_catalogs_are_drafted(project: Path, suffix: str) -> None:
    (project / "conf" / "spark").mkdir()
    frame = pd.DataFrame({"x": np.arange(40) * 0.5, "y": ["a", "b"] * 20})
    path = project / "data" / "01_raw" / f"rows{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)

    result = run(f"data/01_raw/rows{suffix}", "--target", "y", "--positive", "a")

    assert result.exit_code == 0, result.output
    base = conf("catalog.yml")
    assert list(base) == ["raw_rows", "scoring_raw_rows"]
    batch = base["scoring_raw_rows"]
    assert batch["type"] == base["raw_rows"]["type"]  # a Parquet batch for a Parquet source
    assert batch["filepath"] == f"{BATCH}/rows{suffix}"
    spark = yaml.safe_load((project / "conf" / "spark" / "catalog.yml").read_text())
    assert list(spark) == ["raw_rows", "scoring_raw_rows"]
    raw, scoring = spark["raw_rows"], spark["scoring_raw_rows"]
    assert raw["type"] == scoring["type"] == "spark.SparkDataset"
    assert raw["filepath"] == "${project_path:'" + f"data/01_raw/rows{suffix}'" + "}"
    assert scoring["filepath"] == "${project_path:'" + f"{BATCH}/rows{suffix}'" + "}"
    if suffix == ".csv":
        assert raw["file_format"] == "csv"
        assert raw["load_args"]["header"] is True and raw["load_args"]["inferSchema"] is False
    else:
        assert raw["file_format"] == "parquet" and "load_args" not in raw
    assert "conf/spark/catalog.yml" in result.output


def test_no_name_of_the_replaced_dataset_survives_in_conf(project: Path) -> None:
    shipped_conf(project)
    before = conf("catalog.yml"), conf("parameters_dataset.yml")["dataset"]
    typed_csv(project / "data" / "01_raw" / "fresh.csv", list("abcab"), rows=100)

    result = run("data/01_raw/fresh.csv", "--target", "y", "--sensitive", "kind", "--force")

    assert result.exit_code == 0, result.output
    catalog, dataset = before
    names = set()
    for entry_name, entry in catalog.items():
        names |= {entry_name, re.sub(r"^(scoring_)?raw_", "", entry_name)}
        for key in ("filepath", "table_name", "table"):
            if key in entry:
                names.add(Path(str(entry[key])).name)
    columns = [dataset["target"]["column"], dataset["id_column"], *dataset["sensitive_attributes"]]
    columns += [c for kind in ("numeric", "categorical", "drop") for c in dataset["features"][kind]]
    names |= {c for c in columns if c and "_" in c and c != "source_row"}  # distinctive names
    names -= {"raw_fresh", "fresh", "scoring_raw_fresh", "fresh.csv"}
    found = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, sorted(names))) + r")(?![\w])")
    survivors = [
        f"{path.relative_to(project)}:{number}: {line.strip()}"
        for path in sorted((project / "conf").rglob("*.yml"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if found.search(line)
    ]
    assert not survivors, "\n".join(survivors)
    fairness = yaml.safe_load((project / "conf/base/parameters_fairness_review.yml").read_text())
    assert fairness["fairness_review"]["mitigation"]["sensitive_feature"] == "kind"
    # the replaced versions are in git (here: as committed), every drafted file among them
    drafted = [
        "conf/base/catalog.yml",
        "conf/base/parameters_dataset.yml",
        "conf/base/parameters_ingestion.yml",
        "conf/base/parameters_validation_suites.yml",
        "conf/spark/catalog.yml",
        "conf/base/parameters_fairness_review.yml",
    ]
    changed = git(project, "status", "--porcelain", "--", "conf").splitlines()
    assert sorted(line.split()[-1] for line in changed) == sorted(drafted)
    assert "the replaced files are as in commit" in result.output


def test_the_fairness_key_is_rewritten_with_its_comments() -> None:
    text = (
        "fairness_review:\n"
        "  mitigation: # report only\n"
        "    enabled: false\n"
        "    sensitive_feature: old_name # which attribute\n"
        "  other:\n"
        "    sensitive_feature: kept\n"
    )
    drafted = module._fairness_file(text, "new_name")
    assert drafted == text.replace("old_name", "new_name")
    assert module._fairness_file(text, None).count("sensitive_feature: null # which") == 1
    assert module._fairness_file("fairness_review: {}\n", "x") is None


# Refusals


def test_a_positive_value_that_never_occurs_is_refused(project: Path) -> None:
    messy_csv(project / "data.csv")

    result = run("data.csv", "--target", "outcome_label", "--positive", "maybe")

    assert result.exit_code == 1
    assert "--positive 'maybe' never occurs in column outcome_label" in result.output
    assert "'no', 'yes'" in result.output
    assert not list((project / "conf" / "base").iterdir())


@pytest.mark.parametrize(
    ("column", "words"), [("dup", "values repeat"), ("gap", "have no value"), ("nope", "no such")]
)
def test_a_bad_id_is_refused(project: Path, column: str, words: str) -> None:
    rows = ["dup,gap,v,y"] + [f"{i // 2},{'' if i == 3 else i},{i},{i % 2}" for i in range(20)]
    (project / "d.csv").write_text("\n".join(rows) + "\n")

    result = run("d.csv", "--target", "y", "--positive", "1", "--id", column)

    assert result.exit_code == 1
    assert words in result.output


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("ragged.csv", "a,b,y\n1,2,0\n1,2,3,4\n", "cannot be read"),
        ("sheet.xlsx", "not a workbook", "sheet.xlsx"),
        ("notes.xyz", "a,y\n1,0\n", "unknown file type"),
    ],
)
def test_an_unreadable_file_is_refused_in_one_line(
    project: Path, name: str, content: str, words: str
) -> None:
    (project / name).write_text(content)

    result = run(name, "--target", "y", "--positive", "1")

    assert result.exit_code == 1
    assert words in result.output and "Traceback" not in result.output


def test_quoted_values_after_a_space_are_read_as_one_field(project: Path) -> None:
    rows = ["name, kind, y"] + [f'{i}, "a, {i % 3}", {i % 2}' for i in range(30)]
    (project / "q.csv").write_text("\n".join(rows) + "\n")

    result = run("q.csv", "--target", "y", "--positive", "1")

    assert result.exit_code == 0, result.output
    types = conf("parameters_ingestion.yml")["ingestion"]["column_types"]
    assert types == {"name": "integer", "kind": "category", "y": "integer"}


def test_existing_files_need_force(project: Path) -> None:
    messy_csv(project / "data.csv")
    (project / CONF / "catalog.yml").write_text("mine: {}\n")

    result = run("data.csv", "--target", "outcome_label", "--positive", "yes")

    assert result.exit_code == 1
    assert "conf/base/catalog.yml" in result.output and "--force" in result.output
    assert (project / CONF / "catalog.yml").read_text() == "mine: {}\n"


# Keeping the replaced files


def test_force_commits_the_replaced_files_in_a_repository(project: Path) -> None:
    messy_csv(project / "data" / "01_raw" / "data.csv")
    (project / CONF / "catalog.yml").write_text("first: {}\n")
    git(project, "init", "-q")
    git(project, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    git(project, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "start")
    (project / CONF / "catalog.yml").write_text("edited: {}\n")  # not committed yet
    (project / CONF / "parameters_dataset.yml").write_text("untracked: {}\n")
    (project / "other.txt").write_text("not mine to commit\n")

    result = run(
        "data/01_raw/data.csv", "--target", "outcome_label", "--positive", "yes", "--force"
    )

    assert result.exit_code == 0, result.output
    assert (
        git(project, "log", "-1", "--format=%s") == "Configuration replaced by kedro draft-config"
    )
    assert git(project, "show", "HEAD:conf/base/catalog.yml") == "edited: {}"
    assert git(project, "show", "HEAD:conf/base/parameters_dataset.yml") == "untracked: {}"
    assert git(project, "rev-parse", "--short", "HEAD") in result.output
    assert "other.txt" in git(project, "status", "--porcelain")  # left alone
    assert "raw_data" in conf("catalog.yml")


@pytest.mark.parametrize("where", ["rows.csv", "data/01_raw/rows.csv"])
def test_force_outside_a_repository_commits_the_project_first(project: Path, where: str) -> None:
    messy_csv(project / where)  # never committed: ignored, or left out explicitly
    (project / ".gitignore").write_text("data/**\n")
    (project / CONF / "catalog.yml").write_text("before: {}\n")
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")

    result = run(where, "--target", "outcome_label", "--positive", "yes", "--force")

    assert result.exit_code == 0, result.output
    committed = git(project, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
    assert sorted(committed) == [".gitignore", "conf/base/catalog.yml", "pyproject.toml"]
    assert git(project, "show", "HEAD:conf/base/catalog.yml") == "before: {}"
    assert git(project, "rev-parse", "--short", "HEAD") in result.output
    if where == "rows.csv":
        assert "data/01_raw/" in result.output  # advice to move the file out of git's way


def test_the_command_module_imports_no_heavy_library() -> None:
    code = (
        f"import sys, {PACKAGE}.draft_config; "
        "print(sorted(m for m in ('pandas', 'mlflow', 'great_expectations', 'sklearn') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [__import__("sys").executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
