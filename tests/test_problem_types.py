"""Slow tests: a regression and a multiclass problem, from file to audited, scored, monitored run.

For each of the generator's ``regression`` and ``multiclass`` shapes (``tools/generate_shapes.py``:
planted signal, planted dirty rows, a planted group disparity), a copy of the installed default
project gets the generated file and a configuration written by ``kedro draft-config`` alone
(the problem type inferred from the target), then runs, as a team would:

1. ``kedro run`` (the default pipeline: one FINISHED MLflow run);
2. ``kedro run --pipelines inference`` on a batch of new rows without their target;
3. ``kedro run --pipelines monitoring`` on that batch;
4. ``kedro run --pipelines labels`` once the batch's labels arrive (with one unseen class or
   one value that is not a number among them, counted invalid).

The binary type is the default project itself (the sample), tested everywhere else.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from conftest import copy_of_default
from generate_shapes import generate
from project import python_json, run

pytestmark = pytest.mark.slow

ROWS, SEED, BATCH_ROWS, BATCH_SEED = 2000, 7, 400, 8
BATCH = "fresh"
TYPES = {
    "regression": {
        "draft": ["--id", "listing_id", "--sensitive", "seller_sex", "--sensitive", "seller_age"],
        "metrics": ["rmse", "mae", "r2", "median_absolute_error", "mape"],
        "baselines": {"dummy_mean", "dummy_median", "ridge"},
        "primary": "rmse",
        "plots": ["predicted_vs_actual", "residuals_vs_predicted", "residual_distribution"],
        "unseen_label": "unknown",
    },
    "multiclass": {
        "draft": [
            "--id",
            "ticket_id",
            "--sensitive",
            "requester_gender",
            "--sensitive",
            "requester_age",
        ],
        "metrics": [
            "balanced_accuracy",
            "accuracy",
            "f1_macro",
            "f1_weighted",
            "log_loss",
            "roc_auc_ovr",
            "precision.high",
            "recall.low",
        ],
        "baselines": {"dummy_prior", "logistic_regression"},
        "primary": "balanced_accuracy",
        "plots": ["confusion_matrix", "precision_recall_per_class"],
        "unseen_label": "urgent",
    },
}

RUNS = """
import json, sys
import mlflow
client = mlflow.MlflowClient(sys.argv[1])
out = {}
for name in (sys.argv[2], sys.argv[2] + "_monitoring"):
    experiment = client.get_experiment_by_name(name)
    runs = client.search_runs([experiment.experiment_id]) if experiment else []
    out[name] = [
        {
            "run_id": r.info.run_id,
            "status": r.info.status,
            "run_name": r.data.tags.get("mlflow.runName", ""),
            "metrics": r.data.metrics,
            "tags": r.data.tags,
            "artifacts": [
                a.path for folder in ("training", "benchmark", "fairness", "")
                for a in client.list_artifacts(r.info.run_id, folder)
            ],
        }
        for r in runs
    ]
print(json.dumps(out))
"""


@dataclass
class TypeRun:
    """A copy of the default project configured for one problem type, and what it ran."""

    kind: str
    copy: Path
    manifest: dict[str, Any]
    steps: dict[str, subprocess.CompletedProcess]
    records: dict[str, list[dict[str, Any]]]
    package: str
    before_labels: dict[str, list[dict[str, Any]]]  # the runs before the labels arrived

    def output(self, step: str) -> str:
        done = self.steps[step]
        return f"--- {step} stdout ---\n{done.stdout[-4000:]}\n--- stderr ---\n{done.stderr[-6000:]}"

    def ok(self, step: str) -> None:
        assert self.steps[step].returncode == 0, self.output(step)

    @property
    def training_runs(self) -> list[dict[str, Any]]:
        return [r for r in self.records[self.package] if r["run_name"].startswith("__default__")]

    @property
    def training(self) -> dict[str, Any]:
        self.ok("run")
        (found,) = self.training_runs
        return found

    def report(self, relative: str) -> Any:
        return json.loads((self.copy / "data" / "08_reporting" / relative).read_text())


def make_batch(copy: Path, kind: str, manifest: dict[str, Any], unseen: str) -> pd.DataFrame:
    """A batch of new rows in the raw layout, without its target; its labels file beside it.

    The labels carry one value that training never saw (counted invalid by the labels run).
    """
    scratch = copy / "build" / "batch"
    batch_manifest = generate(kind, scratch, rows=BATCH_ROWS, seed=BATCH_SEED)
    file = manifest["main_source"]["file"]
    rows = pd.read_csv(scratch / file, dtype=str, keep_default_na=False)
    target, id_column = manifest["target"]["column"], manifest["id_column"]
    folder = copy / "data" / "01_raw" / "batches" / BATCH
    folder.mkdir(parents=True, exist_ok=True)
    rows.drop(columns=[target]).to_csv(folder / file, index=False)
    labels = rows[[id_column, target]].copy()
    clean = labels.index.difference(batch_manifest["quarantined"]["source_rows"])
    labels.loc[clean[0], target] = unseen
    labels.to_csv(folder / "labels.csv", index=False)
    return labels


@pytest.fixture(scope="module", params=list(TYPES))
def type_run(request, default_project, tmp_path_factory) -> TypeRun:
    kind = request.param
    spec = TYPES[kind]
    copy, kedro = copy_of_default(default_project, tmp_path_factory.mktemp(kind))
    store, package, before_labels = f"sqlite:///{copy / 'mlflow.db'}", default_project.package, {}
    run(copy, "git", "init", "-q")  # draft-config keeps the replaced files in a commit
    manifest = generate(kind, copy / "data" / "01_raw" / kind, rows=ROWS, seed=SEED)
    source = f"data/01_raw/{kind}/{manifest['main_source']['file']}"
    target = manifest["target"]["column"]
    steps = {"draft": kedro("draft-config", source, "--target", target, *spec["draft"], "--force")}
    if steps["draft"].returncode == 0:
        steps["run"] = kedro("run")
    if steps.get("run") and steps["run"].returncode == 0:
        make_batch(copy, kind, manifest, spec["unseen_label"])
        for pipeline in ("inference", "monitoring", "labels"):
            if pipeline == "labels":
                before_labels = python_json(default_project.root, RUNS, store, package)
            steps[pipeline] = kedro("run", "--pipelines", pipeline, "--params", f"batch={BATCH}")
            if steps[pipeline].returncode != 0:
                break
    records = python_json(default_project.root, RUNS, store, package)
    return TypeRun(kind, copy, manifest, steps, records, package, before_labels)


def test_draft_config_infers_the_problem_type_and_says_why(type_run: TypeRun) -> None:
    type_run.ok("draft")
    said = type_run.steps["draft"].stdout + type_run.steps["draft"].stderr
    assert f"problem type: {type_run.kind}" in said
    dataset = yaml.safe_load((type_run.copy / "conf/base/parameters_dataset.yml").read_text())
    assert dataset["dataset"]["problem_type"] == type_run.kind
    assert "positive" not in dataset["dataset"]["target"]


def test_one_finished_run_with_exact_row_accounting(type_run: TypeRun) -> None:
    run_ = type_run.training
    assert run_["status"] == "FINISHED"
    metrics = run_["metrics"]
    assert metrics["validation.rows_in"] == ROWS
    assert metrics["validation.rows_passed"] + metrics["validation.rows_quarantined"] == ROWS
    quarantined = pd.read_parquet(type_run.copy / "data/03_primary/quarantined_rows.parquet")
    planted = set(type_run.manifest["quarantined"]["source_rows"])
    # every planted dirty row is quarantined with a reason (the drafted suites may catch more)
    assert planted <= set(quarantined["source_row"])
    assert quarantined["quarantine_reasons"].str.len().gt(0).all()


def test_the_types_metrics_plots_and_benchmark(type_run: TypeRun) -> None:
    spec = TYPES[type_run.kind]
    run_ = type_run.training
    metrics = run_["metrics"]
    for metric in spec["metrics"]:
        assert f"test.{metric}" in metrics and f"train.{metric}" in metrics, metric
    for plot in spec["plots"]:
        assert f"training/{plot}.png" in run_["artifacts"]
    board = pd.read_csv(type_run.copy / "data/08_reporting/benchmark/leaderboard.csv")
    assert set(board["model"]) == {"candidate", *spec["baselines"]}
    assert run_["tags"]["benchmark.primary_metric"] == spec["primary"]
    assert run_["tags"]["gate.benchmark"] in {"pass", "warn", "fail"}
    # the candidate beats the simplest baseline on the planted signal
    by_model = board.set_index("model")[f"{spec['primary']}_mean"]
    simplest = "dummy_mean" if type_run.kind == "regression" else "dummy_prior"
    better = by_model["candidate"] < by_model[simplest]
    assert better if spec["primary"] == "rmse" else not better
    # what drives the predictions and where the model is wrong, in the type's terms
    importance = type_run.report("explanation/feature_importance.json")
    assert importance["metric"] == spec["primary"]
    assert {f"explain.importance.{i['input']}" for i in importance["inputs"]} <= set(metrics)
    assert importance["inputs"][0]["ci_low"] > 0  # the planted signal is used
    cohorts = type_run.report("explanation/error_cohorts.json")
    assert metrics["explain.errors.error_rate"] == pytest.approx(cohorts["error_rate"])
    wording = "off by more than" if type_run.kind == "regression" else "misclassified"
    assert cohorts["error_definition"].startswith(wording)
    assert (type_run.copy / "data/08_reporting/explanation/partial_dependence.png").is_file()


def test_the_fairness_review_finds_the_planted_disparity(type_run: TypeRun) -> None:
    run_ = type_run.training
    report = type_run.report("fairness/fairness_report.json")
    planted = type_run.manifest["planted_disparity"]["attribute"]
    assert planted in report["sensitive_features"]
    assert report["verdict"] == "fail", report["reasons"]
    assert run_["tags"]["gate.fairness"] == "fail"
    assert any(reason.startswith(f"{planted}:") for reason in report["reasons"]), report["reasons"]


def test_the_model_card_speaks_of_the_type(type_run: TypeRun) -> None:
    type_run.ok("run")
    card = (type_run.copy / "data/08_reporting/model_card.md").read_text()
    target = type_run.manifest["target"]["column"]
    assert f"Predicts `{target}`" in card
    if type_run.kind == "multiclass":
        assert all(f"`{name}` = " in card for name in type_run.manifest["target"]["classes"])
    else:
        assert "mean residual" in card and "probability" not in card.split("## Metrics")[0]


def test_a_batch_is_scored_monitored_and_its_late_labels_joined(type_run: TypeRun) -> None:
    for step in ("inference", "monitoring", "labels"):
        type_run.ok(step)
    predictions = pd.read_parquet(type_run.copy / f"data/07_model_output/batches/{BATCH}/predictions.parquet")
    assert "prediction" in predictions.columns
    if type_run.kind == "multiclass":
        classes = type_run.manifest["target"]["classes"]
        assert set(predictions["prediction"]) <= set(classes)
        probabilities = predictions[[f"probability_{c}" for c in classes]]
        assert probabilities.sum(axis=1).round(9).eq(1).all()
    else:
        assert pd.api.types.is_float_dtype(predictions["prediction"])
    (monitoring,) = type_run.records[f"{type_run.package}_monitoring"]
    assert monitoring["status"] == "FINISHED"
    assert monitoring["tags"]["gate.monitoring"] in {"pass", "warn", "fail"}
    metrics = monitoring["metrics"]
    assert any(name.startswith("prediction") for name in metrics), sorted(metrics)
    primary = TYPES[type_run.kind]["primary"]
    assert any(primary in name for name in metrics), sorted(metrics)
    assert metrics["labels.invalid_labels"] >= 1  # the value training never saw


# One type is enough to show the project's own tests pass after the swap to another problem type
# (the default render runs them on the binary sample); both run when time allows.
def test_project_test_suite_passes_in_the_copy(type_run: TypeRun, default_project) -> None:
    type_run.ok("run")
    python = str(default_project.root / ".venv/bin/python")
    basetemp = f"--basetemp={type_run.copy.parent / 'project-tests'}"
    done = run(type_run.copy, python, "-m", "pytest", "-q", "-p", "no:cacheprovider", basetemp, check=False)
    output = done.stdout
    failures = output[output.find("= FAILURES =") :][:6000] if "= FAILURES =" in output else ""
    assert done.returncode == 0, failures + "\n...\n" + output[-2500:] + done.stderr[-2000:]


# --- the same on Spark -------------------------------------------------------------------------


def _differing(pandas_metrics: dict[str, float], spark_metrics: dict[str, float]) -> dict:
    """Metrics of the pandas run that Spark lacks or gives otherwise (beyond 1e-9; not timings)."""
    return {
        name: (value, spark_metrics.get(name))
        for name, value in pandas_metrics.items()
        if "seconds" not in name
        and (
            spark_metrics.get(name) is None or abs(value - spark_metrics[name]) > 1e-9 * max(1.0, abs(value))
        )
    }


def test_spark_gives_the_pandas_figures(type_run: TypeRun, spark_project) -> None:
    """`--env spark`: training, scoring and monitoring of the same data give the same figures."""
    for step in ("inference", "monitoring"):
        type_run.ok(step)
    package, store = spark_project.package, f"sqlite:///{type_run.copy / 'mlflow.db'}"
    kedro = str(spark_project.root / ".venv/bin/kedro")
    batches = type_run.copy / "data/01_raw/batches"
    shutil.copytree(batches / BATCH, batches / f"{BATCH}_spark")  # its own monitoring run
    batch = ("--params", f"batch={BATCH}_spark")
    for args in (("run",), ("run", "--pipelines", "inference", *batch)):
        done = run(type_run.copy, kedro, *args, "--env", "spark", check=False, MLFLOW_TRACKING_URI=store)
        assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    spark_training = python_json(spark_project.root, RUNS, store, package)
    args = ("run", "--pipelines", "monitoring", *batch, "--env", "spark")
    done = run(type_run.copy, kedro, *args, check=False, MLFLOW_TRACKING_URI=store)
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    spark_monitoring = python_json(spark_project.root, RUNS, store, package)

    def training_run(records: dict, env: str) -> dict[str, Any]:
        (found,) = [
            r
            for r in records[package]
            if r["tags"].get("kedro.pipeline") == "__default__" and r["tags"].get("kedro.env") == env
        ]
        return found

    monitoring = f"{package}_monitoring"
    (pandas_monitoring,) = type_run.before_labels[monitoring]
    known = {r["run_id"] for r in type_run.records[monitoring]}
    (spark_monitoring_run,) = [r for r in spark_monitoring[monitoring] if r["run_id"] not in known]
    for pandas_run, spark_run in (
        (training_run(type_run.records, "local"), training_run(spark_training, "spark")),
        (pandas_monitoring, spark_monitoring_run),
    ):
        assert spark_run["status"] == "FINISHED"
        gates = {k: v for k, v in spark_run["tags"].items() if k.startswith("gate.")}
        assert gates == {k: v for k, v in pandas_run["tags"].items() if k.startswith("gate.")}
        assert not _differing(pandas_run["metrics"], spark_run["metrics"])
