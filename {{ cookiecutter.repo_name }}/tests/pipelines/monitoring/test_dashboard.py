"""The monitoring dashboard: the page built from fabricated run histories, and read from MLflow."""

import re

import pytest

from {{ cookiecutter.python_package }}.pipelines.monitoring.dashboard import (
    NO_LABELS,
    build_dashboard,
    latest_per_step,
    read_history,
)
from {{ cookiecutter.python_package }}.pipelines.monitoring.tracking import MonitoringRunDataset

PLAN = {
    "thresholds": {
        "feature_psi": {"warn": 0.1, "fail": 0.25},
        "prediction_psi": {"warn": 0.1, "fail": 0.25},
        "performance_drop": {"roc_auc": 0.05},
    },
    "dashboard_top_features": 2,
}
DATASET = {"problem_type": "binary", "target": {"column": "outcome", "positive": 1}}


def batch(name: str, step: int, psi: dict[str, float], verdict: str, **metrics: float) -> dict:
    """One run of the history as ``read_history`` returns it."""
    return {
        "run_id": f"run-{step}",
        "batch": name,
        "step": step,
        "start_time": 1000 * step,
        "metrics": {
            "prediction_psi": max(psi.values()),
            "mean_probability": 0.3,
            **{f"psi.{feature}": value for feature, value in psi.items()},
            **metrics,
        },
        "tags": {"gate.monitoring": verdict},
        "alerts": [
            {
                "check": "monitoring",
                "verdict": verdict,
                "alert": verdict == "fail",
                "reasons": [f"reason of {name}"] if verdict == "fail" else [],
                "warnings": [],
            }
        ],
    }


def three_batches(labelled: bool) -> list[dict]:
    labels = (
        {
            "performance.roc_auc": 0.71,
            "performance.roc_auc_drop": 0.08,
            "error_rate.region.north": 0.2,
            "error_rate.region.south": 0.3,
        }
        if labelled
        else {}
    )
    return [
        batch("first_month", 1, {"size": 0.01, "colour": 0.02, "weight": 0.03}, "pass"),
        batch("second_month", 2, {"size": 0.02, "colour": 0.4, "weight": 0.05}, "fail", **labels),
        batch(
            "third_month",
            3,
            {"size": 0.0, "colour": 0.5, "weight": 0.2},
            "warn",
            **{"selection_rate.region.north": 0.4, "selection_rate.region.south": 0.5},
        ),
    ]


def svg_texts(page: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", page)


def test_the_page_shows_every_batch_and_chart_and_is_self_contained() -> None:
    page = build_dashboard(three_batches(labelled=True), PLAN, DATASET)
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 5
    assert not re.search(r"<script|<link|<img|src=", page), "the page must need nothing else"
    texts = svg_texts(page)
    for name in ("first_month", "second_month", "third_month"):
        assert any(name in text for text in texts), f"batch {name} not on the x axis"
    # The two most drifted inputs (largest PSI over the batches), not the third.
    assert {"colour", "weight"} <= set(texts) and "size" not in texts
    # Labels for one batch: its performance is plotted, the others say they have none.
    assert texts.count("no labels yet") == 2 * 2
    assert "roc_auc" in texts and {"north", "south"} <= set(texts)
    assert "error rate by region" in texts and "selection rate by region" in texts
    # The alerts, latest batch first, with their reasons.
    table = page[page.index("<table class='alerts'>") :]
    assert table.index("third_month") < table.index("second_month") < table.index("first_month")
    assert "reason of second_month" in table and table.count("ALERT") == 1


def test_without_labels_the_page_says_so_instead_of_an_empty_chart() -> None:
    page = build_dashboard(three_batches(labelled=False), PLAN, DATASET)
    assert page.count("<svg") == 3  # predictions, inputs, selection rates
    assert NO_LABELS.format(what="performance decay") in page
    assert NO_LABELS.format(what="the error rate by group") in page
    assert "no labels yet" not in svg_texts(page)


def test_selection_rates_show_the_training_reference_when_recorded() -> None:
    batches = three_batches(labelled=False)
    batches[-1]["metrics"].update(
        {"reference_selection_rate.region.north": 0.3, "reference_selection_rate.region.south": 0.6}
    )
    texts = svg_texts(build_dashboard(batches, PLAN, DATASET))
    assert "selection rate by region (dashed: training)" in texts


def test_no_batch_yet() -> None:
    page = build_dashboard([], PLAN, DATASET)
    assert "No batch has been monitored yet" in page and "<svg" not in page


def test_a_batch_monitored_again_counts_once_with_its_latest_run() -> None:
    runs = three_batches(labelled=False)
    again = {**runs[0], "run_id": "again", "start_time": 99_000, "batch": "first_again"}
    chosen = latest_per_step([*runs, again])
    assert [r["step"] for r in chosen] == [1, 2, 3] and chosen[0]["run_id"] == "again"


def test_read_history_from_a_real_mlflow_store(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs saved as the monitoring pipeline saves them, and labels logged later at a new step."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient()
    client.create_experiment("dash", artifact_location=(tmp_path / "artifacts").as_uri())
    dataset = MonitoringRunDataset(experiment="dash")
    alert = {"alert": True, "verdict": "fail", "reasons": ["drift"], "warnings": []}
    for step, name in ((1, "first"), (2, "second")):
        dataset.save(
            {
                "step": step,
                "metrics": {"prediction_psi": 0.1 * step, "psi.size": 0.2 * step},
                "tags": {"monitoring.batch": name, "gate.monitoring": "fail"},
                "params": {"batch": name},
                "json": {"alert.json": alert, "drift_report.json": {"features": []}},
            }
        )
    second = dataset.load()["run_id"]
    client.log_metric(second, "performance.roc_auc", 0.7, step=3)  # labels, later
    client.log_metric(second, "psi.size", 0.9, step=3)

    history = read_history("dash")
    assert read_history("no such experiment") == []
    assert [(r["batch"], r["step"]) for r in history] == [("first", 1), ("second", 2)]
    assert history[1]["metrics"]["performance.roc_auc"] == 0.7
    assert history[1]["metrics"]["psi.size"] == 0.9  # the last value logged
    assert history[0]["alerts"] == [{"check": "monitoring", **alert}]
    page = build_dashboard(history, PLAN, DATASET)
    assert page.count("<svg") == 3 and "second" in page


def test_a_multiclass_page_shows_the_class_shares_and_each_class_by_group() -> None:
    classes = [{"value": "low"}, {"value": "medium"}, {"value": "high"}]
    dataset = {"problem_type": "multiclass", "target": {"column": "y", "classes": classes}}
    history = three_batches(labelled=True)
    for run in history:
        run["metrics"] |= {
            "predicted_share.low": 0.5,
            "predicted_share.high": 0.2,
            "reference_predicted_share.high": 0.25,
            "selection_rate.high.region.north": 0.3,
            "reference_selection_rate.high.region.north": 0.2,
        }
    page = build_dashboard(
        history, {**PLAN, "thresholds": {**PLAN["thresholds"], "performance_drop": None}}, dataset
    )
    texts = svg_texts(page)
    assert "share predicted in each class (dashed: training)" in texts
    assert {"low", "high"} <= set(texts)
    assert "selection rate of high" in texts and "by region (dashed: training)" in texts
    assert "Selection rate of medium by group" in page  # no metric yet: said, not drawn


def test_a_regression_page_shows_the_mean_prediction_and_the_errors_by_group() -> None:
    dataset = {"problem_type": "regression", "target": {"column": "price", "means": "price"}}
    history = three_batches(labelled=False)
    history[1]["metrics"] |= {
        "mean_prediction": 3100.0,
        "reference_mean_prediction": 3000.0,
        "mean_prediction.region.north": 2900.0,
        "performance.rmse": 510.0,
        "performance.rmse_drop": 20.0,
        "mae.region.north": 400.0,
        "mean_residual.region.north": -150.0,
    }
    plan = {**PLAN, "thresholds": {**PLAN["thresholds"], "performance_drop": None}}
    page = build_dashboard(history, plan, dataset)
    texts = svg_texts(page)
    assert "mean predicted price (dashed: training)" in texts
    assert "mean prediction by region" in texts and "rmse" in texts
    assert "mean absolute error by region" in texts
    assert "mean residual (actual - predicted) by region" in texts
    assert "Error rate by group" not in page
