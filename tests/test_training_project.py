"""Training and benchmarking in a generated project: the model in MLflow, the leaderboard, the
benchmark gate on pure noise, and bad model configuration refused before any fitting."""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from generate_sample_data import generate
from project import kedro, python_json, run

pytestmark = pytest.mark.slow

CONFIGURED_MODELS = {"candidate", "dummy_prior", "logistic_regression"}
TEST_METRICS = {"roc_auc", "average_precision", "accuracy", "balanced_accuracy", "f1", "log_loss"}

# Runs in the project's own environment: the latest run's record, and the logged model loaded
# by its MLflow model URI predicting on the held-out rows.
RUN_RECORD = """
import json, sys
import mlflow, pandas as pd
from {package}.modelling import feature_columns, model_inputs
from kedro.config import OmegaConfigLoader

mlflow.set_tracking_uri(sys.argv[1])
experiment = mlflow.get_experiment_by_name("{package}")
run = mlflow.search_runs([experiment.experiment_id], output_format="list", max_results=1)[0]
found = mlflow.search_logged_models(
    experiment_ids=[experiment.experiment_id],
    filter_string=f"source_run_id = '{{run.info.run_id}}'",
    output_format="list",
)
held_out = pd.read_parquet("data/05_model_input/held_out_set.parquet")
params = OmegaConfigLoader("conf", base_env="base", default_run_env="local")["parameters"]
inputs = model_inputs(held_out, *feature_columns(params["training"]))
by_name = {{m.name: f"models:/{{m.model_id}}" for m in found}}
uri = by_name["model"]
pyfunc = mlflow.pyfunc.load_model(uri).predict(inputs)
sklearn = mlflow.sklearn.load_model(uri).predict_proba(held_out)
print(json.dumps({{
    "metrics": run.data.metrics,
    "tags": run.data.tags,
    "models": sorted(by_name),
    "serving_uri": by_name.get("serving_model"),
    "serving_uri_tag": run.data.tags.get("training.serving_model_uri"),
    "uri_tag": run.data.tags.get("training.model_uri"),
    "uri": uri,
    "signature_inputs": mlflow.models.get_model_info(uri).signature.inputs.input_names(),
    "rows": len(held_out),
    "pyfunc_shape": list(pyfunc.shape),
    "sklearn_shape": list(sklearn.shape),
    "probabilities_in_range": bool(((sklearn >= 0) & (sklearn <= 1)).all()),
    "artifacts": [
        a.path for folder in ("training", "benchmark", "decision")
        for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, folder)
    ],
}}))
"""


def run_record(root: Path, package: str, tracking_uri: str) -> dict:
    return python_json(root, RUN_RECORD.format(package=package), tracking_uri)


@pytest.fixture(scope="module")
def record(default_project) -> dict:
    """The default project's run record and model check (one subprocess for the module)."""
    return run_record(default_project.root, default_project.package, default_project.tracking_uri)


def test_model_is_logged_with_signature_and_predicts_held_out_rows(record: dict) -> None:
    # The scikit-learn model, and the validating served model (tests/test_production_project.py)
    assert record["models"] == ["model", "serving_model"]
    assert record["uri_tag"] == record["uri"]
    assert record["serving_uri_tag"] == record["serving_uri"]
    assert record["pyfunc_shape"] == record["sklearn_shape"] == [record["rows"], 2]
    assert record["probabilities_in_range"]
    # sensitive attributes are not model inputs by default; the proxy region_code is
    assert not {"sex", "age", "foreign_worker"} & set(record["signature_inputs"])
    assert "region_code" in record["signature_inputs"]
    metrics = record["metrics"]
    assert {f"test.{m}" for m in TEST_METRICS} <= set(metrics)
    assert metrics["test.roc_auc"] > 0.7
    assert metrics["train.rows"] + metrics["test.rows"] == pytest.approx(metrics["test.rows"] / 0.2)
    for plot in ("roc_curve", "precision_recall_curve", "confusion_matrix", "calibration"):
        assert f"training/{plot}.png" in record["artifacts"]
    for report in ("leaderboard.csv", "leaderboard.md", "fold_scores.png", "comparison.json"):
        assert f"benchmark/{report}" in record["artifacts"]


def test_the_threshold_is_chosen_by_value_and_what_it_is_worth_is_reported(
    default_project, record: dict
) -> None:
    """The sample's training.decision (choose: value, a missed positive costing 2.5 false flags)
    chooses a threshold well below 0.5 on the training rows; its held-out value is logged with
    its interval, against acting on all and on none, and the model card says it."""
    metrics, tags = record["metrics"], record["tags"]
    threshold = metrics["decision.threshold"]
    assert threshold != 0.5 and 0.15 < threshold < 0.45, threshold
    assert float(tags["decision.threshold"]) == threshold and tags["decision.rule"] == "value"
    assert metrics["decision.cv_rows"] == 5000
    low, value, high = (metrics[f"decision.value_per_case{s}"] for s in (".lower", "", ".upper"))
    assert low < value < high
    assert value > max(metrics["decision.value_act_on_all"], metrics["decision.value_act_on_none"])
    assert "decision.baseline.logistic_regression.value_per_case" in metrics
    assert 0 < metrics["calibration.brier"] < metrics["calibration.brier.dummy_prior"]
    for name in ("decision.json", "decision_report.json", "value_by_threshold.png"):
        assert f"decision/{name}" in record["artifacts"]
    assert "decision/reliability_curve.png" in record["artifacts"]
    card = (default_project.root / "data/08_reporting/model_card.md").read_text()
    worth = card.split("\n## What it is worth\n")[1].split("\n## ")[0]
    assert f"at least **{threshold:.3f}**" in worth
    assert f"worth **{value:,.2f} EUR per case**" in worth
    assert f"{low:,.2f} EUR to {high:,.2f} EUR" in worth


def test_leaderboard_lists_every_configured_model_with_intervals(default_project, record: dict) -> None:
    folder = default_project.root / "data" / "08_reporting" / "benchmark"
    with (folder / "leaderboard.csv").open() as file:
        board = list(csv.DictReader(file))
    assert {row["model"] for row in board} == CONFIGURED_MODELS
    for row in board:
        low, mean, high = (float(row[f"roc_auc_{k}"]) for k in ("ci_low", "mean", "ci_high"))
        assert low <= mean <= high
        assert int(row["folds"]) == 15
    report = (folder / "leaderboard.md").read_text()
    assert all(f"`{model}`" in report for model in CONFIGURED_MODELS)
    comparison = json.loads((folder / "comparison.json").read_text())
    assert record["tags"]["gate.benchmark"] == comparison["verdict"]
    assert record["metrics"]["benchmark.candidate.roc_auc_mean"] == pytest.approx(
        float(next(r["roc_auc_mean"] for r in board if r["model"] == "candidate"))
    )
    assert "Benchmark: fold 15/15 for model logistic_regression" in default_project.run_output
    print(f"\nbenchmark on the sample data: {comparison['verdict']}\n{report}")


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("training.candidate.class=sklearn.ensemble.NoSuchClassifier", "training.candidate.class"),
        ("training.candidate.kwargs.max_iterations=5", "training.candidate.kwargs.max_iterations"),
    ],
)
def test_bad_model_configuration_is_refused_before_fitting(
    default_project, tmp_path: Path, override: str, key: str
) -> None:
    model_file = default_project.root / "data" / "06_models" / "trained_model.pkl"
    before = model_file.stat().st_mtime_ns
    done = kedro(
        default_project.root,
        "run",
        "--pipelines",
        "training",
        "--params",
        override,
        check=False,
        MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}",
    )
    assert done.returncode == 1
    assert key in done.stderr
    assert "Traceback" not in done.stderr
    assert model_file.stat().st_mtime_ns == before, "a model was fitted despite the bad key"


def test_candidate_does_not_pass_the_benchmark_on_pure_noise(default_project, tmp_path: Path) -> None:
    """Labels drawn independently of every feature: the gate fails, and on_fail: stop stops."""
    copy = tmp_path / "noise"
    copy.mkdir()
    for name in ("pyproject.toml", "conf", "src"):
        source = default_project.root / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy / name)
    for folder in (default_project.root / "data").iterdir():
        (copy / "data" / folder.name).mkdir(parents=True)
    generate(rows=4000, seed=11, out_dir=copy / "data" / "01_raw", random_label=True)
    done = run(
        copy,
        str(default_project.root / ".venv" / "bin" / "kedro"),
        "run",
        "--to-nodes",
        "benchmarking.enforce_benchmark_gate",  # everything upstream of the gate, nothing after
        "--params",
        "benchmarking.on_fail=stop",
        check=False,
        MLFLOW_TRACKING_URI=f"sqlite:///{copy / 'mlflow.db'}",
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "The benchmark gate failed" in done.stderr
    comparison = json.loads((copy / "data/08_reporting/benchmark/comparison.json").read_text())
    assert comparison["verdict"] == "fail"
    assert comparison["improvement"]["p_value"] > comparison["alpha"]
