"""Monitoring nodes: is a scored batch still like the data the model was trained on?

Compared with the training reference (``training_set``): every model input (PSI, plus KS for
numbers and chi-squared for categories), the predicted probabilities (PSI), and, when the batch
has labels, the model's performance against the training run's ``test.*`` metrics and the
selection rate of each sensitive group against the training set. Thresholds are in
``parameters_monitoring.yml``; crossing one raises an alert (log, alert record, webhook).
"""

import json
import logging
import urllib.request
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ConfigError, DataError
from ...gates import check_on_fail, enforce_gate, gate_tags, worst
from ...modelling import METRICS, feature_columns, greater_is_better, score
from ..inference.nodes import load_model, predict_positive
from .drift import chi_squared_test, ks_test, psi_categorical, psi_numeric

logger = logging.getLogger(__name__)

PARAMETERS_FILE = "conf/base/parameters_monitoring.yml"


def check_monitoring_config(params: dict[str, Any]) -> dict[str, Any]:
    """Refuse a bad monitoring configuration before any data is read."""
    check_on_fail("monitoring", params.get("on_fail", "flag"), PARAMETERS_FILE)
    thresholds = params.get("thresholds") or {}
    for key in ("feature_psi", "prediction_psi"):
        levels = thresholds.get(key) or {}
        if not {"warn", "fail"} <= set(levels) or not levels["warn"] <= levels["fail"]:
            raise ConfigError(
                f"monitoring.thresholds.{key} in {PARAMETERS_FILE} needs warn <= fail, "
                f"e.g. warn: 0.1, fail: 0.25; it is {levels!r}."
            )
    unknown = set(thresholds.get("performance_drop") or {}) - set(METRICS)
    if unknown:
        raise ConfigError(
            f"monitoring.thresholds.performance_drop in {PARAMETERS_FILE} has unknown metric(s) "
            f"{sorted(unknown)}; use any of {sorted(METRICS)}."
        )
    if params.get("alert_on", "fail") not in ("warn", "fail"):
        raise ConfigError(f"monitoring.alert_on in {PARAMETERS_FILE} must be warn or fail.")
    url = params.get("alert_webhook_url")
    if url and not str(url).startswith(("http://", "https://")):
        raise ConfigError(
            f"monitoring.alert_webhook_url in {PARAMETERS_FILE} is {url!r}; give an http(s) URL."
        )
    return dict(params)


def _level(value: float, levels: dict[str, float]) -> str:
    if value >= levels["fail"]:
        return "fail"
    return "warn" if value >= levels["warn"] else "pass"


def feature_drift(
    reference: pd.DataFrame,
    batch: pd.DataFrame,
    training: dict[str, Any],
    plan: dict[str, Any],
) -> list[dict[str, Any]]:
    """PSI and a test per model input; the verdict comes from the PSI thresholds.

    A significant test (p < ``p_value``) with a small PSI only warns: on large batches tests
    find differences too small to matter.
    """
    numeric, categorical = feature_columns(training)
    thresholds = plan["thresholds"]
    bins = int(plan.get("psi_bins", 10))
    rows = []
    for column in numeric + categorical:
        if column not in batch.columns or column not in reference.columns:
            raise DataError(f"Column {column!r} is missing from the batch or the reference.")
        if column in numeric:
            ref = pd.to_numeric(reference[column], errors="coerce").to_numpy(dtype=float)
            cur = pd.to_numeric(batch[column], errors="coerce").to_numpy(dtype=float)
            psi = psi_numeric(ref, cur, bins)
            test, (statistic, p_value) = "ks", ks_test(ref, cur)
        else:
            psi = psi_categorical(reference[column], batch[column])
            test, (statistic, p_value) = "chi2", chi_squared_test(reference[column], batch[column])
        verdict = _level(psi, thresholds["feature_psi"])
        if verdict == "pass" and not np.isnan(p_value) and p_value < thresholds["p_value"]:
            verdict = "warn"
        rows.append(
            {
                "feature": column,
                "kind": "numeric" if column in numeric else "categorical",
                "psi": psi,
                "test": test,
                "statistic": statistic,
                "p_value": p_value,
                "verdict": verdict,
            }
        )
    return rows


def _bands(values: pd.Series, spec: dict[str, Any]) -> pd.Series:
    bins = spec.get("bins")
    if not bins:
        return values.astype(object).where(values.notna(), "<missing>").astype(str)
    numbers = pd.to_numeric(values, errors="coerce")
    return pd.cut(numbers, bins=bins, right=False).astype(str)


def selection_rates(
    frame: pd.DataFrame, decision: np.ndarray, groups: dict[str, Any]
) -> dict[str, dict[str, dict[str, float]]]:
    """Share predicted positive and row count, per group of each sensitive attribute."""
    rates: dict[str, dict[str, dict[str, float]]] = {}
    for name, given in groups.items():
        spec = given or {}
        column = spec.get("column", name)
        if column not in frame.columns:
            continue
        labels = _bands(frame[column], spec).to_numpy()
        rates[name] = {
            str(group): {
                "selection_rate": float(decision[labels == group].mean()),
                "count": int((labels == group).sum()),
            }
            for group in sorted(set(labels))
        }
    return rates


def reference_metrics(run_id: str) -> dict[str, float]:
    """The ``test.*`` metrics of a training run (empty if it has none or cannot be read)."""
    import mlflow  # noqa: PLC0415
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    if not run_id:
        return {}
    try:
        metrics = mlflow.MlflowClient().get_run(run_id).data.metrics
    except MlflowException as error:
        logger.warning("Cannot read training run %s: %s", run_id, str(error)[:200])
        return {}
    return {k.removeprefix("test."): v for k, v in metrics.items() if k.startswith("test.")}


def assess_batch(
    training_set: pd.DataFrame,
    scoring_batch: pd.DataFrame,
    batch_predictions: pd.DataFrame,
    training: dict[str, Any],
    plan: dict[str, Any],
) -> dict[str, Any]:
    """Feature drift, prediction drift, and (with labels) performance decay and fairness drift."""
    if batch_predictions.empty:
        raise DataError("batch_predictions has no rows: run the inference pipeline first.")
    thresholds = plan["thresholds"]
    first = batch_predictions.iloc[0]
    max_rows = int(plan.get("reference_max_rows") or len(training_set))
    reference = training_set
    if len(reference) > max_rows:
        reference = reference.sample(n=max_rows, random_state=int(plan.get("seed", 42)))
    features = feature_drift(reference, scoring_batch, training, plan)

    model = load_model(str(first["model_uri"]))
    reference_scores = predict_positive(model, reference, training)
    batch_scores = batch_predictions["probability"].to_numpy(dtype=float)
    prediction_psi = psi_numeric(reference_scores, batch_scores, int(plan.get("psi_bins", 10)))
    prediction = {
        "psi": prediction_psi,
        "reference_mean": float(reference_scores.mean()),
        "batch_mean": float(batch_scores.mean()),
        "verdict": _level(prediction_psi, thresholds["prediction_psi"]),
    }

    target = training["target"]
    labelled = scoring_batch[target].notna() if target in scoring_batch.columns else None
    performance: dict[str, Any] = {"labels": False, "metrics": []}
    fairness: dict[str, Any] = {"labels": False, "groups": []}
    if labelled is not None and labelled.all() and len(scoring_batch) == len(batch_scores):
        y = scoring_batch[target].astype("int64").to_numpy()
        threshold = float(training["decision_threshold"])
        drops = thresholds.get("performance_drop") or {}
        run_id = plan.get("reference_run_id") or str(first.get("model_run_id") or "")
        before = reference_metrics(run_id)
        now = score(list(drops), y, batch_scores, threshold) if len(set(y)) == 2 else {}
        performance = {"labels": True, "reference_run_id": run_id, "metrics": []}
        for metric, allowed in drops.items():
            if metric not in before or metric not in now:
                continue
            drop = before[metric] - now[metric]
            drop = drop if greater_is_better(metric) else -drop
            performance["metrics"].append(
                {
                    "metric": metric,
                    "reference": before[metric],
                    "batch": now[metric],
                    "drop": drop,
                    "max_drop": allowed,
                    "verdict": "fail" if drop > allowed else "pass",
                }
            )
        groups = plan.get("sensitive_features") or {}
        min_size = int(plan.get("min_group_size", 50))
        ref_rates = selection_rates(reference, (reference_scores >= threshold).astype(int), groups)
        cur_rates = selection_rates(scoring_batch, (batch_scores >= threshold).astype(int), groups)
        allowed = float(thresholds["selection_rate_change"])
        fairness = {"labels": True, "groups": []}
        for name, per_group in cur_rates.items():
            for group, current in per_group.items():
                ref = ref_rates.get(name, {}).get(group)
                if ref is None:
                    continue
                change = current["selection_rate"] - ref["selection_rate"]
                judged = current["count"] >= min_size and ref["count"] >= min_size
                fairness["groups"].append(
                    {
                        "feature": name,
                        "group": group,
                        "reference_selection_rate": ref["selection_rate"],
                        "batch_selection_rate": current["selection_rate"],
                        "change": change,
                        "batch_count": current["count"],
                        "verdict": ("fail" if abs(change) > allowed else "pass")
                        if judged
                        else "too small to judge",
                    }
                )
    else:
        logger.info("The batch has no labels (%s): performance and fairness drift skipped.", target)

    return {
        "batch": str(plan.get("batch", "")),
        "rows_batch": len(scoring_batch),
        "rows_reference": len(reference),
        "model_uri": str(first["model_uri"]),
        "model_source": str(first.get("model_source", "")),
        "features": features,
        "prediction": prediction,
        "performance": performance,
        "fairness": fairness,
        "thresholds": thresholds,
    }


def judge(assessment: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """The monitoring verdict and the reasons (every check that crossed its threshold)."""
    reasons, warnings = [], []
    for row in assessment["features"]:
        text = (
            f"feature {row['feature']}: PSI {row['psi']:.3f}, {row['test']} p={row['p_value']:.2g}"
        )
        if row["verdict"] == "fail":
            reasons.append(text)
        elif row["verdict"] == "warn":
            warnings.append(text)
    prediction = assessment["prediction"]
    text = f"predictions: PSI {prediction['psi']:.3f}"
    if prediction["verdict"] == "fail":
        reasons.append(text)
    elif prediction["verdict"] == "warn":
        warnings.append(text)
    for row in assessment["performance"]["metrics"]:
        if row["verdict"] == "fail":
            reasons.append(
                f"performance {row['metric']}: {row['batch']:.3f} vs {row['reference']:.3f} "
                f"in training (drop {row['drop']:.3f} > {row['max_drop']})"
            )
    for row in assessment["fairness"]["groups"]:
        if row["verdict"] == "fail":
            reasons.append(
                f"fairness {row['feature']}={row['group']}: selection rate "
                f"{row['batch_selection_rate']:.3f} vs {row['reference_selection_rate']:.3f}"
            )
    verdict = worst("fail" if reasons else "pass", "warn" if warnings else "pass")
    alert_on = plan.get("alert_on", "fail")
    alert = verdict == "fail" or (alert_on == "warn" and verdict == "warn")
    return {
        "alert": alert,
        "verdict": verdict,
        "batch": assessment["batch"],
        "model_uri": assessment["model_uri"],
        "reasons": reasons,
        "warnings": warnings,
        "recipients": plan.get("alert_recipients") or [],
        "report": f"{plan.get('report_folder', 'data/08_reporting/monitoring')}/"
        f"{assessment['batch']}",
    }


def post_json(url: str, payload: dict[str, Any], timeout: float) -> int:
    """POST ``payload`` as JSON; the HTTP status code."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, default=str).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(response.status)


def raise_alert(
    assessment: dict[str, Any], plan: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The alert record; when thresholds are crossed, log it and POST it to the webhook.

    A webhook that cannot be reached is logged, never fatal: the alert record and the MLflow
    run keep the alert.
    """
    alert = judge(assessment, plan)
    alert["webhook"] = {"url": plan.get("alert_webhook_url") or None, "status": "not sent"}
    if alert["alert"]:
        logger.warning(
            "MONITORING ALERT for batch %r (model %s), verdict %s:\n  - %s\nReport: %s",
            alert["batch"],
            alert["model_uri"],
            alert["verdict"],
            "\n  - ".join(alert["reasons"] + alert["warnings"]),
            alert["report"],
        )
        url = plan.get("alert_webhook_url")
        if url:
            try:
                status = post_json(url, alert, float(plan.get("webhook_timeout_s", 5)))
                alert["webhook"]["status"] = f"sent (HTTP {status})"
            except Exception as error:
                alert["webhook"]["status"] = f"failed: {type(error).__name__}: {error}"
                logger.error("Alert webhook %s failed: %s", url, error)
    else:
        logger.info("Monitoring of batch %r: %s, no alert.", alert["batch"], alert["verdict"])
    record = {
        "metrics": monitoring_metrics(assessment),
        "tags": {**gate_tags("monitoring", alert["verdict"]), "monitoring.alert": alert["alert"]},
    }
    return alert, record


def monitoring_metrics(assessment: dict[str, Any]) -> dict[str, float]:
    """Flat metrics for MLflow: PSI per feature, prediction PSI, performance, selection rates."""
    metrics: dict[str, float] = {
        "rows": assessment["rows_batch"],
        "prediction_psi": assessment["prediction"]["psi"],
        "mean_probability": assessment["prediction"]["batch_mean"],
        "features_drifted": sum(r["verdict"] == "fail" for r in assessment["features"]),
    }
    for row in assessment["features"]:
        metrics[f"psi.{row['feature']}"] = row["psi"]
    for row in assessment["performance"]["metrics"]:
        metrics[f"performance.{row['metric']}"] = row["batch"]
        metrics[f"performance.{row['metric']}_drop"] = row["drop"]
    for row in assessment["fairness"]["groups"]:
        group = "".join(c if c.isalnum() or c in "._-" else "_" for c in row["group"])
        metrics[f"selection_rate.{row['feature']}.{group}"] = row["batch_selection_rate"]
    return {k: float(v) for k, v in metrics.items() if not np.isnan(v)}


def plot_drift(assessment: dict[str, Any]) -> Any:
    """PSI per feature (with the thresholds) and the prediction PSI, as one figure."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    rows = sorted(assessment["features"], key=lambda r: r["psi"])
    levels = assessment["thresholds"]["feature_psi"]
    colours = {"pass": "tab:green", "warn": "tab:orange", "fail": "tab:red"}
    figure = Figure(figsize=(7, 0.3 * len(rows) + 2), layout="constrained")
    ax = figure.subplots()
    ax.barh(
        [r["feature"] for r in rows],
        [r["psi"] for r in rows],
        color=[colours[r["verdict"]] for r in rows],
    )
    for name, value in levels.items():
        ax.axvline(value, linestyle="--", color="grey")
        ax.text(value, len(rows) - 0.5, f" {name}", color="grey", va="top")
    ax.set_xlabel("population stability index vs training set")
    ax.set_title(
        f"Batch {assessment['batch']!r}: {assessment['rows_batch']} rows; prediction PSI "
        f"{assessment['prediction']['psi']:.3f}"
    )
    return figure


def render_report(assessment: dict[str, Any], alert: dict[str, Any]) -> str:
    """A self-contained HTML drift report."""
    from html import escape  # noqa: PLC0415

    def table(rows: list[dict[str, Any]]) -> str:
        if not rows:
            return "<p>none</p>"
        head = "".join(f"<th>{escape(str(k))}</th>" for k in rows[0])
        body = "".join(
            "<tr>"
            + "".join(
                f"<td>{v:.4g}</td>" if isinstance(v, float) else f"<td>{escape(str(v))}</td>"
                for v in row.values()
            )
            + "</tr>"
            for row in rows
        )
        return f"<table><tr>{head}</tr>{body}</table>"

    items = "".join(f"<li>{escape(r)}</li>" for r in alert["reasons"] + alert["warnings"])
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Monitoring report</title>"
        "<style>td,th{border:1px solid #ccc;padding:2px 6px}table{border-collapse:collapse}"
        "</style></head><body>"
        f"<h1>Batch {escape(assessment['batch'])}: {escape(alert['verdict'])}"
        f"{' (ALERT)' if alert['alert'] else ''}</h1>"
        f"<p>Model {escape(assessment['model_uri'])} ({escape(assessment['model_source'])}); "
        f"{assessment['rows_batch']} batch rows vs {assessment['rows_reference']} reference "
        f"rows.</p><ul>{items}</ul>"
        f"<h2>Feature drift</h2>{table(assessment['features'])}"
        f"<h2>Prediction drift</h2>{table([assessment['prediction']])}"
        f"<h2>Performance</h2>{table(assessment['performance']['metrics'])}"
        f"<h2>Fairness (selection rate by group)</h2>{table(assessment['fairness']['groups'])}"
        "</body></html>"
    )


def publish_monitoring_run(
    assessment: dict[str, Any], alert: dict[str, Any], record: dict[str, Any], plan: dict[str, Any]
) -> tuple[dict[str, Any], Any, str]:
    """The monitoring experiment's run (metrics, tags, report files), the plot and the HTML."""
    figure = plot_drift(assessment)
    html = render_report(assessment, alert)
    run = {
        "step": plan.get("batch_number"),
        "metrics": record["metrics"],
        "tags": {k: str(v) for k, v in record["tags"].items()}
        | {"monitoring.batch": assessment["batch"], "monitoring.model_uri": alert["model_uri"]},
        "params": {"batch": assessment["batch"], "model_source": assessment["model_source"]},
        "json": {"drift_report.json": assessment, "alert.json": alert},
        "text": {"drift_report.html": html},
        "figures": {"drift_report.png": figure},
    }
    return run, figure, html


def enforce_monitoring_gate(
    alert: dict[str, Any], plan: dict[str, Any], monitoring_run: dict[str, Any]
) -> dict[str, Any]:
    """After the run is recorded: stop on a failed gate with ``on_fail: stop`` (default: flag)."""
    enforce_gate(
        "monitoring",
        alert["verdict"],
        plan.get("on_fail", "flag"),
        alert["reasons"],
        alert["report"],
    )
    return {"verdict": alert["verdict"], "alert": alert["alert"]}
