"""The assessment of a scored batch against the training reference, and the monitoring gate.

Compared with the training reference (``training_set``): every model input (PSI, plus KS for
numbers and chi-squared for categories), the predicted probabilities (PSI), the selection rate of
each sensitive group against the training set (no labels needed) and, when the batch has labels,
the model's performance against the training run's ``test.*`` metrics (labels that arrive later:
the ``labels`` pipeline). Thresholds are in
``parameters_monitoring.yml``.
"""

import logging
from typing import Any

import numpy as np
import pandas as pd

from ...errors import DataError
from ...gates import enforce_gate, worst
from ...groups import group_column, metric_safe
from ...modelling import (
    feature_columns,
    greater_is_better,
    load_logged_model,
    predict_positive,
    score,
    seeded_sample,
)
from .drift import chi_squared_test, ks_test, psi_categorical, psi_numeric

logger = logging.getLogger(__name__)


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
    bins = int(plan["psi_bins"])
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
        kind = "numeric" if column in numeric else "categorical"
        rows.append(
            feature_row(
                column,
                kind,
                psi=psi,
                test=test,
                statistic=statistic,
                p_value=p_value,
                thresholds=thresholds,
            )
        )
    return rows


def feature_row(
    column: str,
    kind: str,
    *,
    psi: float,
    test: str,
    statistic: float,
    p_value: float,
    thresholds: dict[str, Any],
) -> dict[str, Any]:
    """One input's line of the report; its verdict from the PSI, a significant test warns."""
    verdict = _level(psi, thresholds["feature_psi"])
    if verdict == "pass" and not np.isnan(p_value) and p_value < thresholds["p_value"]:
        verdict = "warn"
    return {
        "feature": column,
        "kind": kind,
        "psi": psi,
        "test": test,
        "statistic": statistic,
        "p_value": p_value,
        "verdict": verdict,
    }


def present_groups(groups: dict[str, Any], columns: Any) -> list[tuple[str, str, Any]]:
    """(name, column, bins) of each sensitive attribute whose column is among ``columns``."""
    found = []
    for name, given in groups.items():
        spec = given or {}
        column = spec.get("column", name)
        if column in columns:
            found.append((name, column, spec.get("bins")))
    return found


def selection_rates(
    frame: pd.DataFrame, decision: np.ndarray, groups: dict[str, Any]
) -> dict[str, dict[str, dict[str, float]]]:
    """Share predicted positive and row count, per group of each sensitive attribute."""
    rates: dict[str, dict[str, dict[str, float]]] = {}
    for name, column, bins in present_groups(groups, frame.columns):
        labels = group_column(frame, column, bins).to_numpy()
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
    import mlflow
    from mlflow.exceptions import MlflowException

    if not run_id:
        return {}
    try:
        metrics = mlflow.MlflowClient().get_run(run_id).data.metrics
    except MlflowException as error:
        logger.warning("Cannot read training run %s: %s", run_id, str(error)[:200])
        return {}
    return {k.removeprefix("test."): v for k, v in metrics.items() if k.startswith("test.")}


def performance_decay(
    y: np.ndarray, scores: np.ndarray, run_id: str, threshold: float, drops: dict[str, float]
) -> dict[str, Any]:
    """The batch's metrics against the training run's ``test.*`` ones, with the allowed drops."""
    before = reference_metrics(run_id)
    now = score(list(drops), y, scores, threshold) if len(set(y)) == 2 else {}
    performance: dict[str, Any] = {"labels": True, "reference_run_id": run_id, "metrics": []}
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
    return performance


def selection_rate_drift(
    reference: pd.DataFrame,
    reference_decisions: np.ndarray,
    batch: pd.DataFrame,
    batch_decisions: np.ndarray,
    plan: dict[str, Any],
) -> dict[str, Any]:
    """Per sensitive group, the batch's selection rate against the training reference's."""
    groups = plan["sensitive_features"]
    return compare_selection_rates(
        selection_rates(reference, reference_decisions, groups),
        selection_rates(batch, batch_decisions, groups),
        plan,
    )


def compare_selection_rates(
    ref_rates: dict[str, dict[str, dict[str, float]]],
    batch_rates: dict[str, dict[str, dict[str, float]]],
    plan: dict[str, Any],
) -> dict[str, Any]:
    """Each group's selection rate in the batch against the reference's (``selection_rates``)."""
    min_size = int(plan["min_group_size"])
    allowed = float(plan["thresholds"]["selection_rate_change"])
    fairness: dict[str, Any] = {"labels": True, "groups": []}  # set by the caller
    for name, per_group in batch_rates.items():
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
    return fairness


def assess_batch(
    training_set: pd.DataFrame,
    scoring_batch: pd.DataFrame,
    batch_predictions: pd.DataFrame,
    training: dict[str, Any],
    plan: dict[str, Any],
) -> dict[str, Any]:
    """Feature, prediction and selection-rate drift, and (with labels) performance decay.

    pandas frames; the pipeline's node (``engines.assess_batch``) hands Spark ones to
    ``spark.assess_spark_batch``, which gives the same report.
    """
    if batch_predictions.empty:
        raise DataError("batch_predictions has no rows: run the inference pipeline first.")
    thresholds = plan["thresholds"]
    first = batch_predictions.iloc[0]
    reference, reference_scores = reference_with_scores(
        training_set, str(first["model_uri"]), training, plan
    )
    features = feature_drift(reference, scoring_batch, training, plan)
    batch_scores = batch_predictions["probability"].to_numpy(dtype=float)
    prediction = prediction_drift(
        reference_scores,
        psi_numeric(reference_scores, batch_scores, int(plan["psi_bins"])),
        float(batch_scores.mean()),
        thresholds,
    )

    # Selection rates need no labels: judged on every batch.
    threshold = float(training["decision_threshold"])
    aligned = len(scoring_batch) == len(batch_scores)
    fairness: dict[str, Any] = {"labels": False, "groups": []}
    if aligned:
        fairness = selection_rate_drift(
            reference,
            (reference_scores >= threshold).astype(int),
            scoring_batch,
            (batch_scores >= threshold).astype(int),
            plan,
        )
    target = training["target"]
    labelled = scoring_batch[target].notna() if target in scoring_batch.columns else None
    performance: dict[str, Any] = {"labels": False, "metrics": []}
    if labelled is not None and labelled.all() and aligned:
        run_id = plan["reference_run_id"] or str(first.get("model_run_id") or "")
        y = scoring_batch[target].astype("int64").to_numpy()
        performance = performance_decay(
            y, batch_scores, run_id, threshold, thresholds["performance_drop"]
        )
    return drift_report(
        plan,
        target=target,
        rows_batch=len(scoring_batch),
        reference=reference,
        first_prediction=dict(first),
        features=features,
        prediction=prediction,
        performance=performance,
        fairness=fairness,
    )


def reference_with_scores(
    training_set: pd.DataFrame, model_uri: str, training: dict[str, Any], plan: dict[str, Any]
) -> tuple[pd.DataFrame, np.ndarray]:
    """The training rows the batch is compared with (all, or a seeded sample above the cap),
    and the model's positive-class probability for each of them."""
    max_rows = int(plan["reference_max_rows"] or len(training_set))
    reference = seeded_sample(training_set, max_rows, int(plan["seed"]))
    model = load_logged_model(model_uri)
    scores = predict_positive(model, reference, *feature_columns(training), "training_set")
    return reference, scores


def prediction_drift(
    reference_scores: np.ndarray, psi: float, batch_mean: float, thresholds: dict[str, Any]
) -> dict[str, Any]:
    """The report's prediction line: PSI of the scores, both means, the verdict."""
    return {
        "psi": psi,
        "reference_mean": float(reference_scores.mean()),
        "batch_mean": batch_mean,
        "verdict": _level(psi, thresholds["prediction_psi"]),
    }


def drift_report(
    plan: dict[str, Any],
    *,
    target: str,
    rows_batch: int,
    reference: pd.DataFrame,
    first_prediction: dict[str, Any],
    features: list[dict[str, Any]],
    prediction: dict[str, Any],
    performance: dict[str, Any],
    fairness: dict[str, Any],
) -> dict[str, Any]:
    """The drift report of either engine; says so in the log when the batch had no labels."""
    if not performance["labels"]:
        logger.info(
            "The batch has no labels (%s): performance decay skipped (it comes with "
            "`kedro run --pipelines labels`).",
            target,
        )
    fairness["labels"] = performance["labels"]
    return {
        "batch": str(plan["batch"]),
        "rows_batch": rows_batch,
        "rows_reference": len(reference),
        "model_uri": str(first_prediction["model_uri"]),
        "model_source": str(first_prediction.get("model_source", "")),
        "features": features,
        "prediction": prediction,
        "performance": performance,
        "fairness": fairness,
        "thresholds": plan["thresholds"],
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
    alert_on = plan["alert_on"]
    alert = verdict == "fail" or (alert_on == "warn" and verdict == "warn")
    return {
        "alert": alert,
        "verdict": verdict,
        "batch": assessment["batch"],
        "model_uri": assessment["model_uri"],
        "reasons": reasons,
        "warnings": warnings,
        "recipients": plan["alert_recipients"],
        "report": f"{plan['report_folder']}/{assessment['batch']}",
    }


def monitoring_metrics(assessment: dict[str, Any]) -> dict[str, float]:
    """Flat metrics for MLflow: PSI per feature, prediction PSI, performance, selection rates
    (the batch's, and the training reference's the dashboard draws beside them)."""
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
        group = metric_safe(row["group"])
        metrics[f"selection_rate.{row['feature']}.{group}"] = row["batch_selection_rate"]
        metrics[f"reference_selection_rate.{row['feature']}.{group}"] = row[
            "reference_selection_rate"
        ]
    return {k: float(v) for k, v in metrics.items() if not np.isnan(v)}


def enforce_monitoring_gate(
    alert: dict[str, Any], plan: dict[str, Any], monitoring_run: dict[str, Any]
) -> dict[str, Any]:
    """After the run is recorded: stop on a failed gate with ``on_fail: stop`` (default: flag)."""
    enforce_gate(
        "monitoring",
        alert["verdict"],
        plan["on_fail"],
        alert["reasons"],
        alert["report"],
    )
    return {"verdict": alert["verdict"], "alert": alert["alert"]}
