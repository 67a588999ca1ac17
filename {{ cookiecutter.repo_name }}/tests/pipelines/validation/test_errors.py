"""`kedro run` on broken data or configuration stops with a short message, not a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

PARAMETERS = Path("conf/base/parameters_validation.yml")
APPLICATIONS = Path("data/01_raw/applications.csv")


@pytest.fixture
def project(project_copy: Path) -> Path:
    if not (project_copy / APPLICATIONS).is_file():
        pytest.skip("No sample data in data/01_raw (rendered without it).")
    return project_copy


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


def edit_suite(project: Path, dataset: str, index: int, **changes: object) -> None:
    path = project / PARAMETERS
    config = yaml.safe_load(path.read_text())
    config["validation"]["datasets"][dataset]["expectations"][index].update(changes)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def test_missing_required_column_is_named(project: Path) -> None:
    lines = (project / APPLICATIONS).read_text().splitlines()
    without_age = [",".join(v for i, v in enumerate(line.split(",")) if i != 2) for line in lines]
    (project / APPLICATIONS).write_text("\n".join(without_age) + "\n")
    assert_stopped_clearly(kedro_run(project), "raw_applications", "['age']")


def test_empty_file_stops_clearly(project: Path) -> None:
    (project / APPLICATIONS).write_bytes(b"")
    assert_stopped_clearly(kedro_run(project), "raw_applications")


def test_garbage_bytes_stop_clearly(project: Path) -> None:
    (project / APPLICATIONS).write_bytes(bytes(range(256)) * 64)
    assert_stopped_clearly(kedro_run(project), "raw_applications")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"type": "expect_column_values_to_be_betwen"},
            "did you mean expect_column_values_to_be_between",
        ),
        ({"kwargs": {"column": "agee", "min_value": 18}}, "['agee'] are not columns"),
    ],
)
def test_bad_config_is_refused_before_data_is_read(
    project: Path, changes: dict, expected: str
) -> None:
    edit_suite(project, "primary_applications", 6, **changes)
    output = assert_stopped_clearly(
        kedro_run(project),
        "conf/base/parameters_validation.yml",
        "validation.datasets.primary_applications.expectations[6]",
        expected,
    )
    assert "Loading data from raw_" not in output
