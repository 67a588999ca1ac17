"""Fast tests: render the template with many answers, check the result parses and lints."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException

OPTION_COMBINATIONS = [
    {},
    {"include_sample_data": False},
    {"include_sample_data": "no"},
    {"project_name": "Churn Model_v2", "mlflow_tracking_uri": "http://127.0.0.1:5000"},
    {"project_name": "fraud", "python_package": "fraud_detection", "repo_name": "fraud-detection"},
    {"description": 'Quotes "and" backslashes \\ survive', "author_name": "O'Brien & Co"},
]
TEXT_SUFFIXES = {".py", ".toml", ".yml", ".yaml", ".md", ".json", ".txt", ".cfg", ".ini", ""}
KEDRO_KEYS = {"package_name", "project_name", "kedro_init_version", "source_dir", "tools", "example_pipeline"}


def text_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES]


@pytest.mark.parametrize("answers", OPTION_COMBINATIONS, ids=lambda a: ",".join(a) or "defaults")
def test_render_is_complete_and_parses(render_project, answers: dict) -> None:
    project = render_project(**answers)
    for path in text_files(project):
        text = path.read_text()
        assert "{{" not in text and "{%" not in text, f"unrendered Jinja in {path}"
        if path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix in {".yml", ".yaml"}:
            yaml.safe_load(text)
        elif path.suffix == ".json":
            json.loads(text)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert set(pyproject["tool"]["kedro"]) <= KEDRO_KEYS
    package = pyproject["tool"]["kedro"]["package_name"]
    assert (project / "src" / package / "pipeline_registry.py").is_file()
    assert "description" in pyproject["project"]
    assert yaml.safe_load((project / ".telemetry").read_text()) == {"consent": False}
    experiment = yaml.safe_load((project / "conf" / "base" / "mlflow.yml").read_text())
    assert experiment["tracking"]["experiment"]["name"] == package


@pytest.mark.parametrize("answers", OPTION_COMBINATIONS, ids=lambda a: ",".join(a) or "defaults")
def test_generated_code_is_ruff_clean(render_project, answers: dict) -> None:
    project = render_project(**answers)
    for command in (["check"], ["format", "--check"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "."], cwd=project, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_sample_data_option(render_project) -> None:
    with_data = render_project()
    assert (with_data / "data/01_raw/applications.csv").is_file()
    assert (with_data / "data/01_raw/bureau.db").is_file()
    without = render_project(project_name="No Data", include_sample_data="no")
    assert not (without / "data/01_raw/applications.csv").exists()
    assert not (without / "data/01_raw/bureau.db").exists()
    assert (with_data / "data/01_raw/batches/drifted/applications.csv").is_file()
    assert not (without / "data/01_raw/batches").exists()
    assert (without / "data/01_raw/README.md").is_file()


def test_names_are_derived_from_the_project_name(render_project) -> None:
    project = render_project(project_name="Credit Scoring-EU")
    assert project.name == "credit-scoring-eu"
    assert (project / "src" / "credit_scoring_eu").is_dir()


BAD_ANSWERS = [
    ({"python_package": "1loan"}, "not a Python identifier"),
    ({"python_package": "loan-risk"}, "not a Python identifier"),
    ({"python_package": "class"}, "Python keyword"),
    ({"python_package": "json"}, "standard-library"),
    ({"python_package": "logging"}, "standard-library"),
    ({"python_package": "pandas"}, "shadows the dependency"),
    ({"python_package": "mlflow"}, "shadows the dependency"),
    ({"python_package": "sklearn"}, "shadows the dependency"),
    ({"python_package": "great_expectations"}, "shadows the dependency"),
    ({"repo_name": "../escape"}, "not a safe folder name"),
    ({"repo_name": "a b"}, "not a safe folder name"),
    ({"repo_name": ".hidden"}, "not a safe folder name"),
    ({"mlflow_tracking_uri": "./mlruns"}, "file store"),
    ({"author_email": "not-an-email"}, "e-mail"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS, ids=lambda v: str(v))
def test_bad_answers_are_refused_and_nothing_is_written(
    tmp_path: Path, template_dir: Path, answers, message
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "cookiecutter", str(template_dir), "--no-input", "-o", str(out)]
        + [f"{k}={v}" for k, v in answers.items()],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert message in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, errors
    assert list(out.iterdir()) == []
    assert list(tmp_path.iterdir()) == [out]


def test_a_non_boolean_sample_data_answer_is_refused(tmp_path: Path, template_dir: Path) -> None:
    """Cookiecutter itself refuses it (before our hook), also leaving nothing behind."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            str(template_dir),
            "--no-input",
            "-o",
            str(tmp_path),
            "include_sample_data=maybe",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "maybe provided for variable include_sample_data" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_refused_answer_via_api_raises(render_project) -> None:
    with pytest.raises(FailedHookException):
        render_project(python_package="os")


def test_kedro_new_with_a_config_file(tmp_path: Path, template_dir: Path) -> None:
    answers = {
        "project_name": "Kedro Starter Check",
        "description": "Made by kedro new",
        "author_name": "Team",
        "author_email": "team@example.com",
        "include_sample_data": "no",
        "mlflow_tracking_uri": "sqlite:///mlflow.db",
        "output_dir": str(tmp_path),
    }
    config = tmp_path / "answers.yml"
    config.write_text(yaml.safe_dump(answers))
    kedro = Path(sys.executable).parent / "kedro"
    done = subprocess.run(
        [str(kedro), "new", f"--starter={template_dir}", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    project = tmp_path / "kedro-starter-check"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["tool"]["kedro"]["package_name"] == "kedro_starter_check"
    assert pyproject["project"]["description"] == "Made by kedro new"
    assert not (project / "data/01_raw/applications.csv").exists()
