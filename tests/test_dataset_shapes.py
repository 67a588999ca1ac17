"""Slow tests: datasets shaped unlike the bundled sample go through the project by conf/ alone.

For each shape of ``tools/generate_shapes.py`` a copy of the installed default project gets the
generated data under ``data/01_raw/<shape>/`` and the hand-written configuration of
``tools/shapes/<shape>/conf/base/`` (four files replacing the sample's; nothing else in conf/
changes, no code changes), then runs ``kedro run`` once (module-scoped fixtures). A last test
drafts the configuration with ``kedro draft-config`` instead of writing it by hand.

The copies run the default project's venv: its code is installed from the default project's
``src/``, which is identical to the copy's (only conf/ and data/ differ).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from generate_shapes import PROBLEM_TYPES, SHAPES, generate
from project import TEMPLATE_DIR, run

pytestmark = pytest.mark.slow

SHAPES_DIR = TEMPLATE_DIR / "tools" / "shapes"
CONF_FILES = (
    "catalog.yml",
    "parameters_dataset.yml",
    "parameters_ingestion.yml",
    "parameters_validation_suites.yml",
)
ROWS, SEED = 2000, 7
GATES = ("gate.validation", "gate.benchmark", "gate.fairness")
VERDICTS = {"pass", "warn", "fail"}
# The expectation (its reason "<dataset>.<id>") of each fixture that catches each planted kind.
REASONS = {
    "single_table": {
        "hours_not_a_number": "raw_income_survey.expect_column_values_to_match_regex.hours_per_week",
        "capital_gain_not_a_number": "raw_income_survey.expect_column_values_to_match_regex.capital_gain",
        "age_out_of_range": "primary_table.expect_column_values_to_be_between.age",
        "hours_out_of_range": "primary_table.expect_column_values_to_be_between.hours_per_week",
    },
    "three_sources": {
        "monthly_fee_not_a_number": "raw_subscribers.expect_column_values_to_match_regex.monthly_fee",
        "tenure_negative": "primary_table.expect_column_values_to_be_between.tenure_months",
        "negative_settled_payment": "raw_payments.expect_column_values_to_be_between.amount",
    },
}


@dataclass
class ShapeRun:
    """A copy of the default project that ran ``kedro run`` once on a generated shape."""

    shape: str
    copy: Path
    manifest: dict[str, Any]
    done: subprocess.CompletedProcess
    runs: list[Any]

    @property
    def output(self) -> str:
        return f"--- stdout ---\n{self.done.stdout[-4000:]}\n--- stderr ---\n{self.done.stderr[-6000:]}"


def copy_project(default_project, parent: Path) -> Path:
    """The default project's files, not its venv or outputs (as the ``default_copy`` fixture).

    The default run's reports (JSON, CSV, Markdown under data/02_* .. 08_*) are removed too, so
    that every output a test reads was written by the copy's own run.
    """
    copy = parent / default_project.root.name
    shutil.copytree(
        default_project.root,
        copy,
        ignore=shutil.ignore_patterns(".venv", "mlflow.db", "mlartifacts", "*.parquet", "run.log*"),
    )
    for layer in (copy / "data").iterdir():
        if layer.is_dir() and layer.name != "01_raw":
            for path in [p for p in layer.rglob("*") if p.is_file() and p.name != ".gitkeep"]:
                path.unlink()
    return copy


def kedro_in(default_project, copy: Path, *args: str) -> subprocess.CompletedProcess:
    """The default project's ``kedro`` run in ``copy``, recording into the copy's MLflow store."""
    kedro = str(default_project.root / ".venv/bin/kedro")
    return run(copy, kedro, *args, check=False, MLFLOW_TRACKING_URI=f"sqlite:///{copy / 'mlflow.db'}")


def mlflow_runs(copy: Path, experiment: str) -> list[Any]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{copy / 'mlflow.db'}")
    found = client.get_experiment_by_name(experiment)
    return client.search_runs([found.experiment_id]) if found else []


def assert_rows_accounted(metrics: dict[str, float]) -> None:
    passed, quarantined = metrics["validation.rows_passed"], metrics["validation.rows_quarantined"]
    assert passed + quarantined == metrics["validation.rows_in"]


def the_run(result: ShapeRun) -> Any:
    assert result.done.returncode == 0, result.output
    assert len(result.runs) == 1, [r.info.run_id for r in result.runs]
    return result.runs[0]


# The binary shapes, configured by hand (tools/shapes/<shape>/conf/base); the regression and
# multiclass shapes are configured by `kedro draft-config` in test_problem_types.py.
BINARY_SHAPES = [shape for shape in SHAPES if PROBLEM_TYPES[shape] == "binary"]


@pytest.fixture(scope="module", params=BINARY_SHAPES)
def shape_run(request, default_project, tmp_path_factory) -> ShapeRun:
    shape = request.param
    copy = copy_project(default_project, tmp_path_factory.mktemp(shape))
    manifest = generate(shape, copy / "data" / "01_raw" / shape, rows=ROWS, seed=SEED)
    for name in CONF_FILES:
        shutil.copyfile(SHAPES_DIR / shape / "conf" / "base" / name, copy / "conf" / "base" / name)
    done = kedro_in(default_project, copy, "run")
    return ShapeRun(shape, copy, manifest, done, mlflow_runs(copy, default_project.package))


def test_manifest_plants_a_small_exact_share(shape_run: ShapeRun) -> None:
    manifest = shape_run.manifest
    assert manifest["shape"] == shape_run.shape and manifest["rows"] == ROWS
    quarantined = manifest["quarantined"]
    assert quarantined["count"] == len(quarantined["source_rows"]) > 0
    assert quarantined["count"] / ROWS < 0.05  # the validation gate stops a run above 5%
    assert 0.05 < manifest["target"]["positive_rate"] < 0.6


def test_run_finishes_with_one_tracked_run(shape_run: ShapeRun) -> None:
    assert the_run(shape_run).info.status == "FINISHED"


def test_validation_accounts_for_every_row_and_quarantines_the_planted_ones(shape_run: ShapeRun) -> None:
    metrics = the_run(shape_run).data.metrics
    manifest = shape_run.manifest
    assert metrics["validation.rows_in"] == manifest["rows"]
    assert_rows_accounted(metrics)
    assert metrics["validation.rows_quarantined"] == manifest["quarantined"]["count"]
    quarantined = pd.read_parquet(shape_run.copy / "data" / "03_primary" / "quarantined_rows.parquet")
    assert sorted(quarantined["source_row"].tolist()) == manifest["quarantined"]["source_rows"]

    # Each planted row is quarantined for its kind's expectation, and for nothing else.
    reasons = quarantined.set_index("source_row")["quarantine_reasons"].str.split("; ")
    reason_of = REASONS[shape_run.shape]
    expected = {}
    for kind, planted in manifest["dirty_rows"]["by_kind"].items():
        expected.update({row: [reason_of[kind]] for row in planted["source_rows"]})
    for planted in manifest.get("dirty_related_rows", {}).values():
        expected.update({row: [reason_of[planted["kind"]]] for row in planted["source_rows_of_keys"]})
    assert reasons.to_dict() == expected


def test_gates_are_tagged(shape_run: ShapeRun) -> None:
    tags = the_run(shape_run).data.tags
    assert {gate: tags.get(gate) in VERDICTS for gate in GATES} == dict.fromkeys(GATES, True), tags
    assert tags["gate.validation"] == "warn"  # rows quarantined, within the allowed share


def test_every_source_is_read_through_its_catalog_entry(shape_run: ShapeRun) -> None:
    metrics = the_run(shape_run).data.metrics
    manifest = shape_run.manifest
    main = manifest["main_source"]["catalog_entry"]
    related = manifest.get("related_sources", {})
    read = {name: value for name, value in metrics.items() if name.startswith("ingestion.rows_raw_")}
    expected = {f"ingestion.rows_raw_{name}": spec["rows_read"] for name, spec in related.items()}
    assert read == {f"ingestion.{main.replace('raw_', 'rows_raw_', 1)}": manifest["rows"], **expected}
    if "payments" in related:  # the SQL query's WHERE leaves the voided payments out
        assert related["payments"]["rows_read"] < related["payments"]["rows"]


def test_fairness_report_covers_exactly_the_configured_attributes(shape_run: ShapeRun) -> None:
    the_run(shape_run)
    conf = shape_run.copy / "conf" / "base"
    catalog = yaml.safe_load((conf / "catalog_fairness_review.yml").read_text())
    folder = yaml.safe_load((conf / "globals.yml").read_text())["reporting_folder"]
    filepath = catalog["fairness_report"]["dataset"]["filepath"]
    report_path = shape_run.copy / filepath.replace("${globals:reporting_folder}", folder)
    report = yaml.safe_load(report_path.read_text())  # JSON is YAML
    dataset = yaml.safe_load((conf / "parameters_dataset.yml").read_text())["dataset"]
    configured = list(dataset["sensitive_attributes"])
    assert configured == shape_run.manifest["sensitive_attributes"]
    assert report["sensitive_features"] == configured
    assert sorted(report["features"]) == sorted(configured)
    assert report["intersections"] == [] and report["verdict"] in VERDICTS


# One shape is enough to show the project's tests run on other data (the default render runs them
# on the sample): the three-source shape differs most (Parquet, a SQL query, no bands).
@pytest.mark.parametrize("shape_run", ["three_sources"], indirect=True)
def test_project_test_suite_passes_in_the_copy(shape_run: ShapeRun, default_project) -> None:
    """The project's own tests, on its new data: the sample's planted facts are skipped."""
    python = str(default_project.root / ".venv/bin/python")
    basetemp = f"--basetemp={shape_run.copy.parent / 'project-tests'}"  # cleaned with this session's
    done = run(shape_run.copy, python, "-m", "pytest", "-q", "-p", "no:cacheprovider", basetemp, check=False)
    output = done.stdout
    failures = output[output.find("= FAILURES =") :][:6000] if "= FAILURES =" in output else ""
    assert done.returncode == 0, failures + "\n...\n" + output[-2500:] + done.stderr[-2000:]


# --- the configuration drafted by `kedro draft-config` ------------------------------------------


@pytest.fixture(scope="module")
def drafted_run(default_project, tmp_path_factory) -> tuple[ShapeRun, subprocess.CompletedProcess]:
    copy = copy_project(default_project, tmp_path_factory.mktemp("drafted"))
    manifest = generate("single_table", copy / "data" / "01_raw" / "single_table", rows=ROWS, seed=SEED)
    drafted = kedro_in(
        default_project,
        copy,
        "draft-config",
        "data/01_raw/single_table/income_survey.csv",
        "--target",
        "income_bracket",
        "--positive",
        ">50K",
        "--sensitive",
        "age",
        "--sensitive",
        "sex",
        "--force",
    )
    if drafted.returncode != 0:
        return ShapeRun("single_table", copy, manifest, drafted, []), drafted
    done = kedro_in(default_project, copy, "run")
    return ShapeRun("single_table", copy, manifest, done, mlflow_runs(copy, default_project.package)), drafted


def git_versions(repo: Path, path: str) -> list[str]:
    """Every committed version of ``path`` in ``repo`` (newest first)."""
    log = subprocess.run(
        ["git", "log", "--all", "--format=%H", "--", path], cwd=repo, capture_output=True, text=True
    )
    return [
        subprocess.run(["git", "show", f"{rev}:{path}"], cwd=repo, capture_output=True, text=True).stdout
        for rev in log.stdout.split()
    ]


def test_draft_config_writes_the_four_files_and_keeps_the_old_ones_in_git(
    drafted_run, default_project
) -> None:
    result, drafted = drafted_run
    assert drafted.returncode == 0, drafted.stdout[-4000:] + drafted.stderr[-4000:]
    conf = result.copy / "conf" / "base"
    assert "data/01_raw/single_table/income_survey.csv" in (conf / "catalog.yml").read_text()
    for name in CONF_FILES:
        sample = (default_project.root / "conf" / "base" / name).read_text()
        assert (conf / name).read_text() != sample, f"conf/base/{name} was not drafted"
        assert sample in git_versions(result.copy, f"conf/base/{name}"), (
            f"conf/base/{name} was replaced without its old version in git"
        )


def test_drafted_configuration_runs_and_accounts_for_every_row(drafted_run) -> None:
    result, drafted = drafted_run
    assert drafted.returncode == 0, drafted.stdout[-4000:] + drafted.stderr[-4000:]
    run_ = the_run(result)
    assert run_.info.status == "FINISHED"
    metrics = run_.data.metrics
    # The drafted suites are drawn from the file itself: they need not catch every planted row.
    assert metrics["validation.rows_in"] == result.manifest["rows"]
    assert_rows_accounted(metrics)
