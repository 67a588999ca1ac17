"""`kedro run` on broken data or configuration stops with a short message, not a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ...conftest import load_config

pytestmark = pytest.mark.slow

SUITES = Path("conf/base/parameters_validation_suites.yml")


def main_source_file(project: Path) -> Path | None:
    """The configured main source's file, if it is a local CSV file that exists."""
    main = load_config(project, "parameters")["ingestion"]["main_source"]
    entry = load_config(project, "catalog")[f"raw_{main}"]
    path = project / str(entry.get("filepath", ""))
    return path if entry["type"].endswith("CSVDataset") and path.is_file() else None


@pytest.fixture
def project(project_copy: Path) -> Path:
    return project_copy


@pytest.fixture
def main_csv(project: Path) -> Path:
    path = main_source_file(project)
    if path is None:
        pytest.skip("These cases edit the main source's file: it is not a local CSV file here.")
    return path


def kedro_run(project: Path) -> subprocess.CompletedProcess:
    kedro = Path(sys.executable).parent / "kedro"
    return subprocess.run(
        [str(kedro), "run", "--pipelines", "ingestion,validation"],
        cwd=project,
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},  # wide log lines: messages are not wrapped
    )


def assert_stopped_clearly(done: subprocess.CompletedProcess, *expected: str) -> str:
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    message = done.stderr[done.stderr.index("Run stopped:") :]
    for text in expected:
        assert text in message, message
    return output


def first_column_entry(project: Path) -> tuple[int, dict]:
    """The first primary_table expectation that names a column: its index and the entry."""
    suites = yaml.safe_load((project / SUITES).read_text())["validation_suites"]
    entries = suites["primary_table"]["expectations"]
    return next((i, e) for i, e in enumerate(entries) if "column" in (e.get("kwargs") or {}))


def edit_suite(project: Path, index: int, **changes: object) -> None:
    path = project / SUITES
    config = yaml.safe_load(path.read_text())
    config["validation_suites"]["primary_table"]["expectations"][index].update(changes)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def test_missing_required_column_is_named(project: Path, main_csv: Path) -> None:
    parameters = load_config(project, "parameters")["ingestion"]
    raw = pd.read_csv(main_csv, dtype=str, keep_default_na=False)
    typed = [c for c in parameters["column_types"] if c != parameters["target"]["column"]]
    dropped = next(c for c in raw.columns if c.strip().lower().replace(" ", "_") == typed[0])
    raw.drop(columns=[dropped]).to_csv(main_csv, index=False)
    main = parameters["main_source"]
    assert_stopped_clearly(kedro_run(project), f"raw_{main}", f"['{typed[0]}']")


def test_empty_file_stops_clearly(project: Path, main_csv: Path) -> None:
    main_csv.write_bytes(b"")
    main = load_config(project, "parameters")["ingestion"]["main_source"]
    assert_stopped_clearly(kedro_run(project), f"raw_{main}")


def test_garbage_bytes_stop_clearly(project: Path, main_csv: Path) -> None:
    main_csv.write_bytes(bytes(range(256)) * 64)
    main = load_config(project, "parameters")["ingestion"]["main_source"]
    assert_stopped_clearly(kedro_run(project), f"raw_{main}")


@pytest.mark.parametrize("problem", ["misspelt type", "unknown column"])
def test_bad_config_is_refused_before_data_is_read(project: Path, problem: str) -> None:
    index, entry = first_column_entry(project)
    if problem == "misspelt type":
        changes, expected = {"type": entry["type"][:-1]}, "did you mean " + entry["type"]
    else:
        column = entry["kwargs"]["column"]
        kwargs = {**entry["kwargs"], "column": column + "_x"}
        changes, expected = {"kwargs": kwargs}, f"['{column}_x'] are not columns"
    edit_suite(project, index, **changes)
    output = assert_stopped_clearly(
        kedro_run(project),
        "conf/base/parameters_validation_suites.yml",
        f"validation_suites.primary_table.expectations[{index}]",
        expected,
    )
    assert "Loading data from raw_" not in output
