"""Unit tests of the labels pipeline: label accounting, decay, error rates, the monitoring run."""

import mlflow
import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.python_package }}.errors import ConfigError, DataError
from {{ cookiecutter.python_package }}.pipelines.labels import create_pipeline, nodes
from {{ cookiecutter.python_package }}.pipelines.labels.plan import check_labels_config
from {{ cookiecutter.python_package }}.pipelines.labels.tracking import MonitoringRunUpdateDataset
from {{ cookiecutter.python_package }}.problem import problem_of

PARAMS = {
    "batch": "week_1",
    "experiment": "project_monitoring",
    "id_column": "member_id",
    "target": {"column": "renewed", "positive": "yes", "negative": "no"},
    "performance_drop": {"roc_auc": 0.05},
    "reference_run_id": None,
    "sensitive_features": {"region": {}, "age": {"bins": [18, 40, 120]}},
    "min_group_size": 2,
    "alert_on": "fail",
    "alert_recipients": ["machine learning engineer"],
    "alert_webhook_url": None,
    "webhook_timeout_s": 5,
    "on_fail": "flag",
    "report_folder": "data/08_reporting/monitoring",
}
DATASET = {"problem_type": "binary", "target": PARAMS["target"]}
SCORED = ["M1", "M2", "M3", "M4", "M5", "M6"]


@pytest.fixture
def plan() -> dict:
    return check_labels_config(PARAMS, DATASET)


def _batch(run_id: str = "") -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    predictions = pd.DataFrame(
        {
            "member_id": SCORED,
            "source_row": [0, 1, 3, 4, 5, 6],
            "probability": [0.9, 0.2, 0.8, 0.1, 0.7, 0.3],
            "prediction": [1, 0, 1, 0, 1, 0],
            "decision_threshold": 0.5,
            "model_uri": "models:/m-1",
            "model_run_id": run_id,
        }
    )
    rows = pd.DataFrame(
        {"member_id": SCORED, "region": list("NNNSSS"), "age": [25, 30, 45, 50, 60, 35]}
    )
    quarantined = pd.DataFrame({"member_id": ["Q1"], "quarantine_reasons": ["raw.age"]})
    return predictions, rows, quarantined


LABELS = pd.DataFrame(
    {
        "Member ID": [
            "M1", "M2", "M3", "M4", "M5",  # joined
            "X9", "",  # unknown id, empty id
            "Q1",  # a quarantined row: never scored
            "M1",  # the same label again
            "M6", "M6",  # M6's labels disagree: not joined
            "M2",  # a duplicate of M2
        ],
        "Renewed": ["yes", "no", "yes", "no", "no", "yes", "no", "yes", "yes", "yes", "no", "no"],
    },
    dtype="str",
)  # fmt: skip


def test_every_label_row_is_accounted_for(plan: dict) -> None:
    predictions, rows, quarantined = _batch()
    joined, accounting = nodes.join_labels(LABELS, predictions, rows, quarantined, plan)
    assert {k: accounting[k] for k in nodes.OUTCOMES} == {
        "joined": 5,
        "unknown_ids": 2,
        "quarantined_rows": 1,
        "duplicates": 3,
        "conflicting": 1,
        "invalid_labels": 0,
    }
    assert sum(accounting[k] for k in nodes.OUTCOMES) == accounting["labels_in"] == len(LABELS)
    assert accounting["conflicting_ids"] == ["M6"]
    assert accounting["examples"]["unknown_ids"] == ["", "X9"]
    assert joined["member_id"].tolist() == ["M1", "M2", "M3", "M4", "M5"]
    assert joined["renewed"].tolist() == [1, 0, 1, 0, 0]
    assert joined["group.age"].tolist() == ["18-39", "18-39", "40-119", "40-119", "40-119"]
    assert accounting["scored_rows_without_label"] == 1  # M6
    # The labels file is not changed.
    assert LABELS["Member ID"].tolist()[-1] == "M2" and len(LABELS) == 12


def test_a_value_that_is_neither_class_is_counted_not_joined(plan: dict) -> None:
    predictions, rows, quarantined = _batch()
    labels = pd.DataFrame({"member_id": ["M1", "M2"], "renewed": ["yes", "perhaps"]})
    joined, accounting = nodes.join_labels(labels, predictions, rows, quarantined, plan)
    assert accounting["joined"] == 1 and accounting["invalid_labels"] == 1
    assert joined["member_id"].tolist() == ["M1"]


def test_a_labels_file_without_the_id_or_target_column_is_refused(plan: dict) -> None:
    predictions, rows, quarantined = _batch()
    with pytest.raises(DataError, match=r"no column\(s\) \['renewed'\].*dataset.target"):
        nodes.join_labels(LABELS[["Member ID"]], predictions, rows, quarantined, plan)


def test_error_rates_per_group_and_metric_names(plan: dict) -> None:
    predictions, rows, quarantined = _batch()
    joined, accounting = nodes.join_labels(LABELS, predictions, rows, quarantined, plan)
    report = nodes.assess_labels(joined, accounting, plan)
    rates = {(r["feature"], r["group"]): r["error_rate"] for r in report["error_rates"]}
    # M5 (region S, age 60) is predicted 1 but labelled 0: the only error.
    assert rates == {
        ("region", "N"): 0.0,
        ("region", "S"): 0.5,
        ("age", "18-39"): 0.0,
        ("age", "40-119"): pytest.approx(1 / 3),
    }
    assert report["positive_rate"] == 0.4
    metrics = nodes.labels_metrics(report, problem_of(DATASET))
    assert metrics["error_rate.region.S"] == 0.5
    assert metrics["labels.joined"] == 5 and metrics["labels.duplicates"] == 3
    assert metrics["labels.unknown_ids"] == 2 and metrics["labels.quarantined_rows"] == 1


CLASSES = [{"value": "low"}, {"value": "medium"}, {"value": "high"}]
MULTICLASS = {"problem_type": "multiclass", "target": {"column": "priority", "classes": CLASSES}}
REGRESSION = {"problem_type": "regression", "target": {"column": "price", "unit": "EUR"}}


def _plan_of(dataset: dict) -> dict:
    params = {**PARAMS, "target": dataset["target"], "performance_drop": None}
    return check_labels_config(params, dataset)


def _multiclass_batch() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    predictions, rows, quarantined = _batch()
    probabilities = np.array(
        [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6],
         [0.5, 0.4, 0.1]]
    )  # fmt: skip
    classes = np.array(["low", "medium", "high"], dtype=object)
    predictions = predictions.drop(columns=["probability", "prediction", "decision_threshold"])
    predictions["prediction"] = classes[probabilities.argmax(axis=1)]
    for index, name in enumerate(classes):
        predictions[f"probability_{name}"] = probabilities[:, index]
    return predictions, rows, quarantined


def test_a_class_training_never_saw_is_an_invalid_label_not_joined() -> None:
    plan = _plan_of(MULTICLASS)
    predictions, rows, quarantined = _multiclass_batch()
    labels = pd.DataFrame(
        {"member_id": ["M1", "M2", "M3", "M4", "M5"],
         "priority": ["low", "Medium", "urgent", "high", "high"]}
    )  # fmt: skip
    joined, accounting = nodes.join_labels(labels, predictions, rows, quarantined, plan)
    assert accounting["invalid_labels"] == 1 and accounting["joined"] == 4
    assert accounting["examples"]["invalid_labels"] == ["M3"]
    assert joined["priority"].tolist() == [0, 1, 2, 2]  # class codes, as training's
    report, record = nodes.raise_labels_alert(nodes.assess_labels(joined, accounting, plan), plan)
    assert "1 label row(s) with a value that is none of the classes" in report["alert"]["warnings"]
    # M4 (region S) is predicted low but labelled high: the only error.
    rates = {(r["feature"], r["group"]): r["error_rate"] for r in report["error_rates"]}
    assert rates[("region", "N")] == 0.0 and rates[("region", "S")] == 0.5
    assert set(report["error_rates"][0]) == {"feature", "group", "count", "error_rate", "judged"}
    assert record["metrics"]["error_rate.region.S"] == 0.5
    assert report["share.high"] == 0.5  # the labels' class shares


def test_regression_labels_give_mae_and_mean_residual_per_group() -> None:
    plan = _plan_of(REGRESSION)
    predictions, rows, quarantined = _batch()
    predictions = predictions.drop(columns=["probability", "decision_threshold"])
    predictions["prediction"] = [100.0, 200.0, 300.0, 400.0, 500.0, 600.0]
    labels = pd.DataFrame(
        {"member_id": ["M1", "M2", "M3", "M4", "M5", "M6"],
         "price": ["110", "190", "300", "n/a", "450", "640.5"]}
    )  # fmt: skip
    joined, accounting = nodes.join_labels(labels, predictions, rows, quarantined, plan)
    assert accounting["invalid_labels"] == 1 and joined["price"].dtype == "float64"
    report = nodes.assess_labels(joined, accounting, plan)
    errors = {(r["feature"], r["group"]): r for r in report["error_rates"]}
    north, south = errors[("region", "N")], errors[("region", "S")]
    assert north["mae"] == pytest.approx(20 / 3) and north["mean_residual"] == 0.0
    assert south["mae"] == pytest.approx(45.25) and south["mean_residual"] == pytest.approx(-4.75)
    metrics = nodes.labels_metrics(report, problem_of(REGRESSION))
    assert metrics["mae.region.S"] == pytest.approx(45.25)
    assert metrics["mean_residual.region.S"] == pytest.approx(-4.75)
    assert "error_rate.region.S" not in metrics
    assert report["target_mean"] == pytest.approx((110 + 190 + 300 + 450 + 640.5) / 5)
    alert, _ = nodes.raise_labels_alert(report, plan)
    assert "1 label row(s) with a value that is not a number" in alert["alert"]["warnings"]


@pytest.mark.parametrize(
    "dataset, drop, default",
    [
        (MULTICLASS, {"roc_auc": 0.05}, {"balanced_accuracy": 0.05}),
        (REGRESSION, {"brier": 0.03}, {"rmse": "10%"}),
    ],
)
def test_a_metric_of_another_problem_type_is_refused(dataset, drop, default) -> None:
    params = {**PARAMS, "target": dataset["target"]}
    with pytest.raises(ConfigError, match=rf"labels\.performance_drop .*{next(iter(drop))}"):
        check_labels_config({**params, "performance_drop": drop}, dataset)
    assert (
        check_labels_config({**params, "performance_drop": None}, dataset)["performance_drop"]
        == default
    )


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"labels\.performance_drop.*unknown metric"):
        check_labels_config({**PARAMS, "performance_drop": {"roc_acu": 0.05}}, DATASET)
    with pytest.raises(ConfigError, match=r"labels\.experiment .*missing"):
        check_labels_config({k: v for k, v in PARAMS.items() if k != "experiment"}, DATASET)
    assert check_labels_config({**PARAMS, "id_column": None}, DATASET)["id_column"] == "source_row"


@pytest.fixture
def tracking(mlflow_store):
    return mlflow.MlflowClient()


def test_decay_alerts_and_goes_to_the_batchs_monitoring_run(plan: dict, tracking) -> None:
    training = tracking.create_run(tracking.create_experiment("project"))
    tracking.log_metric(training.info.run_id, "test.roc_auc", 0.9)
    monitoring = tracking.create_experiment("project_monitoring")
    run = tracking.create_run(
        monitoring, tags={"monitoring.batch": "week_1", "monitoring.step": "3"}
    )
    tracking.set_terminated(run.info.run_id, "FINISHED")
    with pytest.raises(DataError, match="kedro run --pipelines monitoring --params batch=week_2"):
        nodes.find_monitoring_run({**plan, "batch": "week_2"})

    predictions, rows, quarantined = _batch(training.info.run_id)
    # The labels now run against the scores: the ranking is reversed.
    labels = pd.DataFrame({"member_id": SCORED, "renewed": ["no", "yes", "no", "yes", "no", "yes"]})
    joined, accounting = nodes.join_labels(labels, predictions, rows, quarantined, plan)
    report, record = nodes.raise_labels_alert(nodes.assess_labels(joined, accounting, plan), plan)
    assert report["alert"]["alert"] is True and record["tags"]["gate.labels"] == "fail"
    assert "performance roc_auc" in report["alert"]["reasons"][0]

    target = nodes.find_monitoring_run(plan)
    assert target == {"run_id": run.info.run_id, "step": 4}  # after the run's own step
    MonitoringRunUpdateDataset().save(nodes.update_monitoring_run(report, record, target))
    logged = tracking.get_run(run.info.run_id)
    assert logged.data.tags["monitoring.labels"] == "6"
    assert logged.data.tags["gate.labels"] == "fail"
    assert logged.data.metrics["performance.roc_auc_drop"] == pytest.approx(0.9)
    (point,) = tracking.get_metric_history(run.info.run_id, "labels.joined")
    assert point.step == 4 and point.value == 6
    assert nodes.find_monitoring_run(plan)["step"] == 5  # labels sent again: one more step


def test_pipeline_wiring() -> None:
    pipeline = create_pipeline()
    assert {n.namespace for n in pipeline.nodes} == {"labels"}
    assert pipeline.inputs() == {
        "params:labels",
        "params:dataset",
        "batch_labels",
        "batch_predictions",
        "scoring_batch",
        "scoring_quarantined_rows",
        "monitoring_history",  # the dashboard, redrawn at the end
        "params:monitoring",
    }
    assert {
        "labelled_predictions",
        "labels_report",
        "labels_monitoring_run",
        "monitoring_dashboard",
    } <= set(pipeline.all_outputs())
