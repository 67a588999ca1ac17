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
    create_pipeline,
    drift,
    report,
)
from {{ cookiecutter.python_package }}.pipelines.monitoring.assessment import (
    _level,
    feature_drift,
    selection_rates,
)
from {{ cookiecutter.python_package }}.pipelines.monitoring.plan import check_monitoring_config

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
    },
    "alert_on": "fail",
    "alert_recipients": ["model owner"],
    "alert_webhook_url": None,
    "webhook_timeout_s": 2,
    "on_fail": "flag",
    "report_folder": "data/08_reporting/monitoring",
    "dashboard_top_features": 8,
}
PLAN = check_monitoring_config(PARAMS)
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
    rates = selection_rates(
        frame, np.array([1, 0, 0, 0]), {"sex": {}, "age": {"bins": [18, 35, 120]}}
    )
    assert rates["sex"]["F"] == {"selection_rate": 0.5, "count": 2}
    assert band_labels([18, 35, 120]) == ["18-34", "35-119"]  # as in the fairness report
    assert rates["age"]["18-34"]["selection_rate"] == 0.5


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
        check_monitoring_config({**PARAMS, **change})


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
