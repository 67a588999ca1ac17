"""Unit tests of the monitoring nodes: drift statistics, the verdict, the alert and its webhook."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.python_package }}.errors import ConfigError
from {{ cookiecutter.python_package }}.groups import band_labels
from {{ cookiecutter.python_package }}.pipelines.monitoring import (
    alerts,
    assessment,
    create_pipeline,
    drift,
    report,
)
from {{ cookiecutter.python_package }}.pipelines.monitoring.assessment import (
    _level,
    compare_group_statistics,
    feature_drift,
    group_statistics,
    monitoring_metrics,
    performance_decay,
    prediction_drift,
)
from {{ cookiecutter.python_package }}.pipelines.monitoring.plan import check_monitoring_config
from {{ cookiecutter.python_package }}.problem import problem_of

PARAMS = {
    "batch": "test",
    "batch_number": None,
    "reference_max_rows": 20000,
    "seed": 0,
    "psi_bins": 10,
    "sensitive_features": {},
    "min_group_size": 50,
    "reference_run_id": None,
    "thresholds": {
        "feature_psi": {"warn": 0.1, "fail": 0.25},
        "prediction_psi": {"warn": 0.1, "fail": 0.25},
        "p_value": 0.001,
        "performance_drop": {"roc_auc": 0.05},
        "selection_rate_change": 0.1,
        "mean_prediction_change": 0.25,
    },
    "alert_on": "fail",
    "alert_recipients": ["model owner"],
    "alert_webhook_url": None,
    "webhook_timeout_s": 2,
    "on_fail": "flag",
    "report_folder": "data/08_reporting/monitoring",
    "dashboard_top_features": 8,
}
DATASET = {"problem_type": "binary", "target": {"column": "outcome", "positive": 1}}
CLASSES = [{"value": "low"}, {"value": "medium"}, {"value": "high"}]
MULTICLASS = {"problem_type": "multiclass", "target": {"column": "outcome", "classes": CLASSES}}
REGRESSION = {"problem_type": "regression", "target": {"column": "outcome", "unit": "EUR"}}
PLAN = check_monitoring_config(PARAMS, DATASET)
TRAINING = {
    "target": "outcome",
    "features": {"numeric": ["income"], "categorical": ["housing"], "drop": []},
    "sensitive_features": [],
    "decision_threshold": 0.5,
    "use_sensitive_features": False,
    "preprocessing": {"numeric_imputation": "median"},
}


def test_psi_is_zero_for_identical_samples_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    reference = rng.normal(0, 1, 5000)
    assert drift.psi_numeric(reference, reference) == pytest.approx(0.0, abs=1e-12)
    small = drift.psi_numeric(reference, rng.normal(0, 1, 5000))
    large = drift.psi_numeric(reference, rng.normal(1, 1, 5000))
    assert small < 0.02
    assert large > 0.25


def test_psi_counts_missing_values_as_their_own_bin():
    reference = np.array([1.0, 2.0, 3.0, 4.0] * 25)
    current = np.array([1.0, 2.0, np.nan, np.nan] * 25)
    assert drift.psi_numeric(reference, current, bins=4) > 1.0


def test_psi_of_categories_on_a_small_example():
    reference = pd.Series(["a"] * 50 + ["b"] * 50)
    current = pd.Series(["a"] * 80 + ["b"] * 20)
    expected = (0.8 - 0.5) * np.log(0.8 / 0.5) + (0.2 - 0.5) * np.log(0.2 / 0.5)
    assert drift.psi_categorical(reference, current) == pytest.approx(expected)
    # a category the reference never had still gives a finite, large index
    assert np.isfinite(drift.psi_categorical(reference, pd.Series(["c"] * 10)))


def test_ks_and_chi_squared_on_small_arrays():
    statistic, p_value = drift.ks_test(np.arange(10.0), np.arange(10.0) + 100)
    assert statistic == 1.0 and p_value < 0.001
    statistic, p_value = drift.ks_test(np.arange(10.0), np.arange(10.0))
    assert statistic == 0.0 and p_value == 1.0
    _, p_value = drift.chi_squared_test(pd.Series(list("ab") * 50), pd.Series(list("ab") * 50))
    assert p_value > 0.9
    _, p_value = drift.chi_squared_test(pd.Series(list("ab") * 50), pd.Series(["a"] * 100))
    assert p_value < 0.001


def _counts_on_distinct_values(reference: np.ndarray, current: np.ndarray):
    """What Spark counts for the KS test: equal to / strictly between the reference's values."""
    values = np.unique(reference)
    position = np.searchsorted(values, current, side="right")
    equal = (position > 0) & (values[np.maximum(position - 1, 0)] == current)
    return (
        np.bincount(position[equal] - 1, minlength=len(values)),
        np.bincount(position[~equal], minlength=len(values) + 1),
    )


@pytest.mark.parametrize("rows", [800, 12000])  # scipy's exact p-value, then its asymptotic one
def test_ks_from_counts_is_the_two_sample_ks_test(rows):
    rng = np.random.default_rng(3)
    # Rounded values: ties within and across the samples, values outside the reference's range.
    reference = np.round(rng.normal(0, 1, rows), 1)
    current = np.round(rng.normal(0.2, 1.3, rows + 37), 1)
    statistic, p_value = drift.ks_test_from_counts(
        reference, *_counts_on_distinct_values(reference, current)
    )
    expected = drift.ks_test(reference, current)
    assert statistic == pytest.approx(expected[0], abs=1e-15)
    assert p_value == pytest.approx(expected[1], rel=1e-9, abs=1e-300)


def test_ks_from_counts_of_an_empty_sample_is_nan():
    assert np.isnan(drift.ks_test_from_counts(np.array([1.0, 2.0]), [0, 0], [0, 0, 0])[0])


def test_feature_drift_flags_the_shifted_column_only():
    rng = np.random.default_rng(1)
    reference = pd.DataFrame(
        {"income": rng.normal(50, 10, 3000), "housing": rng.choice(["own", "rent"], 3000)}
    )
    batch = pd.DataFrame(
        {"income": rng.normal(35, 10, 1000), "housing": rng.choice(["own", "rent"], 1000)}
    )
    rows = {r["feature"]: r for r in feature_drift(reference, batch, TRAINING, PLAN)}
    assert rows["income"]["verdict"] == "fail" and rows["income"]["test"] == "ks"
    assert rows["housing"]["verdict"] == "pass" and rows["housing"]["test"] == "chi2"


def _assessment(income_psi: float) -> dict:
    return {
        "batch": "test",
        "rows_batch": 100,
        "rows_reference": 400,
        "model_uri": "models:/m-1",
        "model_source": "latest_run",
        "features": [
            {
                "feature": "income",
                "kind": "numeric",
                "psi": income_psi,
                "test": "ks",
                "statistic": 0.1,
                "p_value": 0.5,
                "verdict": _level(income_psi, PLAN["thresholds"]["feature_psi"]),
            },
        ],
        "prediction": {"psi": 0.01, "reference_mean": 0.2, "batch_mean": 0.2, "verdict": "pass"},
        "performance": {
            "labels": True,
            "metrics": [
                {
                    "metric": "roc_auc",
                    "reference": 0.8,
                    "batch": 0.79,
                    "drop": 0.01,
                    "max_drop": 0.05,
                    "verdict": "pass",
                },
            ],
        },
        "fairness": {"labels": True, "groups": []},
        "thresholds": PLAN["thresholds"],
    }


def test_no_alert_below_the_thresholds():
    alert, record = alerts.raise_alert(_assessment(0.02), PLAN)
    assert alert["alert"] is False and alert["verdict"] == "pass"
    assert record["tags"]["gate.monitoring"] == "pass"
    assert record["metrics"]["psi.income"] == pytest.approx(0.02)


class _Listener(BaseHTTPRequestHandler):
    received: ClassVar[list] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Listener.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Listener.received = []
    server = HTTPServer(("127.0.0.1", 0), _Listener)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alert", _Listener.received
    server.shutdown()
    server.server_close()


def test_a_crossed_threshold_alerts_and_posts_to_the_webhook(webhook, caplog):
    url, received = webhook
    alert, record = alerts.raise_alert(_assessment(0.6), {**PLAN, "alert_webhook_url": url})
    assert alert["alert"] is True and alert["verdict"] == "fail"
    assert record["tags"]["gate.monitoring"] == "fail"
    assert alert["webhook"]["status"] == "sent (HTTP 200)"
    assert len(received) == 1
    assert received[0]["batch"] == "test" and "feature income" in received[0]["reasons"][0]
    assert "MONITORING ALERT" in caplog.text


def test_an_unreachable_webhook_is_logged_not_fatal(caplog):
    url = "http://127.0.0.1:9/alert"  # discard port: nothing listens
    alert, _ = alerts.raise_alert(_assessment(0.6), {**PLAN, "alert_webhook_url": url})
    assert alert["alert"] is True and alert["webhook"]["status"].startswith("failed")
    assert "webhook" in caplog.text


def test_a_performance_drop_alerts():
    assessment = _assessment(0.02)
    assessment["performance"]["metrics"][0] |= {"batch": 0.7, "drop": 0.1, "verdict": "fail"}
    alert, _ = alerts.raise_alert(assessment, PLAN)
    assert alert["alert"] and "performance roc_auc" in alert["reasons"][0]


def test_selection_rates_by_group_and_band():
    frame = pd.DataFrame({"sex": ["F", "F", "M", "M"], "age": [20, 30, 40, 70]})
    groups = {"sex": {}, "age": {"bins": [18, 35, 120]}}
    rates = group_statistics(frame, np.array([1, 0, 0, 0]), groups, problem_of(DATASET))
    assert rates["sex"]["F"] == {"count": 2, "values": [0.5]}
    assert band_labels([18, 35, 120]) == ["18-34", "35-119"]  # as in the fairness report
    assert rates["age"]["18-34"]["values"] == [0.5]


def _plan(dataset: dict, **thresholds) -> dict:
    """The plan of ``dataset``'s problem type (performance_drop: its default unless given)."""
    given = {**PARAMS["thresholds"], "performance_drop": None, **thresholds}
    return check_monitoring_config({**PARAMS, "thresholds": given}, dataset)


def test_binary_prediction_drift_is_the_psi_of_the_probabilities():
    rng = np.random.default_rng(4)
    reference, batch = rng.beta(2, 5, 2000), pd.Series(rng.beta(3, 4, 500))
    line = prediction_drift(problem_of(DATASET), reference, batch, PLAN)
    assert list(line) == ["psi", "reference_mean", "batch_mean", "verdict"]
    assert line["psi"] == drift.psi_numeric(reference, batch.to_numpy(), 10) > 0.1
    assert line["batch_mean"] == pytest.approx(batch.mean())


def test_regression_prediction_drift_compares_the_predicted_numbers_with_a_ks_test():
    rng = np.random.default_rng(5)
    reference = rng.normal(3000, 500, 2000)
    problem, plan = problem_of(REGRESSION), _plan(REGRESSION)
    same = prediction_drift(problem, reference, pd.Series(rng.normal(3000, 500, 800)), plan)
    moved = prediction_drift(problem, reference, pd.Series(rng.normal(3600, 500, 800)), plan)
    assert list(same) == [
        "psi", "test", "statistic", "p_value", "reference_mean", "batch_mean", "verdict",
    ]  # fmt: skip
    assert same["test"] == "ks" and same["verdict"] == "pass" and same["p_value"] > 0.001
    assert moved["verdict"] == "fail" and moved["batch_mean"] > 3500
    metrics = problem.prediction_drift_metrics(moved)
    assert metrics == {
        "mean_prediction": moved["batch_mean"],
        "reference_mean_prediction": moved["reference_mean"],
    }


def test_multiclass_prediction_drift_compares_the_class_distribution():
    problem, plan = problem_of(MULTICLASS), _plan(MULTICLASS)
    reference = problem.drift_reference_values(np.tile([[0.6, 0.3, 0.1]], (50, 1)))
    assert set(reference) == {"low"}
    reference = np.array(["low"] * 500 + ["medium"] * 300 + ["high"] * 200, dtype=object)
    batch = pd.Series(["low"] * 200 + ["medium"] * 150 + ["high"] * 150)
    line = prediction_drift(problem, reference, batch, plan)
    assert line["test"] == "chi2" and line["p_value"] < 0.001
    expected = drift.psi_categorical(pd.Series(reference), batch)
    assert line["psi"] == pytest.approx(expected) and line["verdict"] == "warn"
    assert line["reference_share_high"] == 0.2 and line["batch_share_high"] == 0.3
    metrics = problem.prediction_drift_metrics(line)
    assert metrics["predicted_share.medium"] == 0.3
    assert metrics["reference_predicted_share.low"] == 0.5


def test_multiclass_group_drift_is_the_share_predicted_in_each_class_per_group():
    problem, plan = problem_of(MULTICLASS), _plan(MULTICLASS)
    frame = pd.DataFrame({"sex": ["F"] * 60 + ["M"] * 60})
    reference = np.array([0, 1, 2] * 40)  # a third in each class, in both groups
    batch = np.array([2] * 30 + [0] * 30 + [0, 1, 2] * 20)  # F: half high
    groups = {"sex": {}}
    fairness = compare_group_statistics(
        group_statistics(frame, reference, groups, problem),
        group_statistics(frame, batch, groups, problem),
        problem,
        problem.group_drift_allowed(plan["thresholds"], reference),
        plan,
    )
    rows = {(r["group"], r["class"]): r for r in fairness["groups"]}
    assert len(rows) == 6
    high = rows[("F", "high")]
    assert high["batch_selection_rate"] == 0.5 and high["change"] == pytest.approx(0.5 - 1 / 3)
    assert high["verdict"] == "fail" and rows[("M", "high")]["verdict"] == "pass"
    metrics = monitoring_metrics(
        {
            "rows_batch": 120,
            "prediction": {
                "psi": 0.0,
                **{
                    f"{s}_share_{c}": 0.3
                    for s in ("reference", "batch")
                    for c in ("low", "medium", "high")
                },
            },
            "features": [],
            "performance": {"metrics": []},
            "fairness": fairness,
        },
        problem,
    )
    assert metrics["selection_rate.high.sex.F"] == 0.5
    assert metrics["reference_selection_rate.high.sex.F"] == pytest.approx(1 / 3)
    alert = assessment.judge({**_assessment(0.0), "fairness": fairness}, plan)
    assert "fairness sex=F: selection rate of high 0.500 vs 0.333" in alert["reasons"]


def test_regression_group_drift_is_the_mean_prediction_per_group_in_standard_deviations():
    problem = problem_of(REGRESSION)
    plan = _plan(REGRESSION, mean_prediction_change=0.5)
    frame = pd.DataFrame({"sex": ["F"] * 50 + ["M"] * 50})
    reference = np.tile([90.0, 110.0], 50)  # std 10.05: 0.5 std allows about 5
    batch = np.concatenate([np.full(50, 108.0), np.full(50, 102.0)])
    allowed = problem.group_drift_allowed(plan["thresholds"], reference)
    assert allowed == pytest.approx(0.5 * np.std(reference, ddof=1))
    fairness = compare_group_statistics(
        group_statistics(frame, reference, {"sex": {}}, problem),
        group_statistics(frame, batch, {"sex": {}}, problem),
        problem,
        allowed,
        plan,
    )
    rows = {r["group"]: r for r in fairness["groups"]}
    assert rows["F"]["reference_mean_prediction"] == 100.0
    assert rows["F"]["batch_mean_prediction"] == 108.0 and rows["F"]["verdict"] == "fail"
    assert rows["M"]["change"] == 2.0 and rows["M"]["verdict"] == "pass"


MULTICLASS_SCORES = [[0.8, 0.1, 0.1], [0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.1, 0.8, 0.1]]
DECAY_CASES = {
    # binary: as today, roc_auc and brier
    "binary": (DATASET, None, [0, 1, 0, 1], [0.9, 0.1, 0.8, 0.2], {"roc_auc": 0.8, "brier": 0.2},
               {"roc_auc", "brier"}),
    # multiclass: balanced accuracy, half the rows right
    "multiclass": (MULTICLASS, None, [0, 1, 2, 0], MULTICLASS_SCORES, {"balanced_accuracy": 0.7},
                   {"balanced_accuracy"}),
    # regression: rmse may rise by 10% of the training run's
    "regression_within": (REGRESSION, None, [10.0, 20.0, 30.0], [11.0, 19.0, 31.0],
                          {"rmse": 0.95}, set()),
    "regression_beyond": (REGRESSION, None, [10.0, 20.0, 30.0], [12.0, 18.0, 32.0],
                          {"rmse": 0.95}, {"rmse"}),
    "regression_mae": (REGRESSION, {"mae": 2.5}, [10.0, 20.0, 30.0], [12.0, 18.0, 32.0],
                       {"mae": 0.5}, set()),
}  # fmt: skip


@pytest.mark.parametrize("case", DECAY_CASES)
def test_performance_decay_on_the_problem_types_metrics(monkeypatch, case):
    dataset, drops, y, prediction, reference, failed = DECAY_CASES[case]
    problem = problem_of(dataset)
    monkeypatch.setattr(assessment, "reference_metrics", lambda run_id: reference)
    drops = problem.performance_drops(drops, "monitoring.thresholds.performance_drop", "file")
    assert set(drops) == set(reference)
    performance = performance_decay(
        problem,
        problem.label_values(y),
        np.asarray(prediction),
        run_id="run",
        threshold=0.5,
        drops=drops,
    )
    rows = {row["metric"]: row for row in performance["metrics"]}
    assert set(rows) == set(reference)
    assert {m for m, row in rows.items() if row["verdict"] == "fail"} == failed
    if drops == {"rmse": "10%"}:
        assert rows["rmse"]["max_drop"] == pytest.approx(0.095)
        assert rows["rmse"]["drop"] == pytest.approx(rows["rmse"]["batch"] - 0.95)


@pytest.mark.parametrize(
    "dataset, drops, message",
    [
        (REGRESSION, {"roc_auc": 0.05}, r"unknown metric\(s\) \['roc_auc'\] for a regression"),
        (MULTICLASS, {"brier": 0.03}, r"\['brier'\] for a multiclass problem.*balanced_accuracy"),
        (DATASET, {"rmse": 1.0}, r"\['rmse'\] for a binary"),
        (REGRESSION, {"rmse": "ten percent"}, r"performance_drop\.rmse .*'10%'"),
        (DATASET, {"roc_auc": -0.1}, r"performance_drop\.roc_auc"),
    ],
)
def test_a_performance_drop_metric_the_problem_type_does_not_have_is_refused(
    dataset, drops, message
):
    with pytest.raises(ConfigError, match=message):
        _plan(dataset, performance_drop=drops)


def test_a_null_performance_drop_is_the_problem_types_default():
    assert _plan(DATASET, performance_drop=None)["thresholds"]["performance_drop"] == {
        "roc_auc": 0.05,
        "brier": 0.03,
    }
    assert _plan(MULTICLASS, performance_drop=None)["thresholds"]["performance_drop"] == {
        "balanced_accuracy": 0.05
    }
    assert _plan(REGRESSION, performance_drop=None)["thresholds"]["performance_drop"] == {
        "rmse": "10%"
    }
    thresholds = {k: v for k, v in PARAMS["thresholds"].items() if k != "mean_prediction_change"}
    with pytest.raises(ConfigError, match="mean_prediction_change"):
        check_monitoring_config({**PARAMS, "thresholds": thresholds}, REGRESSION)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"thresholds": {**PLAN["thresholds"], "feature_psi": {"warn": 0.3, "fail": 0.2}}},
            "feature_psi",
        ),
        ({"thresholds": {**PLAN["thresholds"], "performance_drop": {"auc": 0.1}}}, "auc"),
        ({"alert_webhook_url": "ftp://x"}, "alert_webhook_url"),
        ({"on_fail": "explode"}, "on_fail"),
        ({"colour": "red"}, "monitoring.colour"),
    ],
)
def test_bad_configuration_is_refused(change, message):
    with pytest.raises(ConfigError, match=message):
        check_monitoring_config({**PARAMS, **change}, DATASET)


def test_the_report_and_plot_render():
    assessment = _assessment(0.6)
    alert, record = alerts.raise_alert(assessment, PLAN)
    run, figure, html = report.publish_monitoring_run(assessment, alert, record, PLAN)
    assert "ALERT" in html and "income" in html
    assert run["figures"]["drift_report.png"] is figure
    assert run["tags"]["gate.monitoring"] == "fail"


def test_pipeline_wiring():
    pipeline = create_pipeline()
    assert {"training_set", "scoring_batch", "batch_predictions"} <= pipeline.inputs()
    assert {"monitoring_alert", "monitoring_run", "drift_report"} <= pipeline.all_outputs()
