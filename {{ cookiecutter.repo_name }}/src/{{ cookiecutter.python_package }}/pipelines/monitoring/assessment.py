"""The assessment of a scored batch against the training reference, and the monitoring gate.

Compared with the training reference (``training_set``): every model input (PSI, plus KS for
numbers and chi-squared for categories), the predictions (what the problem type compares,
``problem.prediction_drift``: the probability of the positive class, the predicted class's
distribution with chi-squared, or the predicted number with KS), each sensitive group's
predictions against the training set's (no labels needed; ``problem.group_terms``: the selection
rate, the share predicted in each class, or the mean prediction) and, when the batch has labels,
the model's performance against the training run's ``test.*`` metrics (labels that arrive later:
the ``labels`` pipeline). Thresholds are in ``parameters_monitoring.yml``.
"""

import logging
from typing import Any

import numpy as np
import pandas as pd

from ...errors import DataError
from ...gates import enforce_gate, worst
from ...groups import group_column, metric_safe
from ...modelling import (
    check_columns,
    decision_threshold_of,
    feature_columns,
    load_logged_model,
    model_inputs,
    seeded_sample,
)
from ...problem import Problem, problem_of
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


def term_value(decisions: np.ndarray, value: Any) -> float:
    """One of ``problem.group_terms``: the share of ``decisions`` equal to ``value``, or their
    mean when it is None."""
    return float(np.mean(decisions)) if value is None else float(np.mean(decisions == value))


def group_statistics(
    frame: pd.DataFrame, decision: np.ndarray, groups: dict[str, Any], problem: Problem
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per group of each sensitive attribute: its row count and the statistics of its decisions
    that the problem type compares (``problem.group_terms``: binary, the selection rate;
    multiclass, the share predicted in each class; regression, the mean prediction)."""
    terms = problem.group_terms()
    statistics: dict[str, dict[str, dict[str, Any]]] = {}
    for name, column, bins in present_groups(groups, frame.columns):
        labels = group_column(frame, column, bins).to_numpy()
        statistics[name] = {}
        for group in sorted(set(labels)):
            chosen = decision[labels == group]
            statistics[name][str(group)] = {
                "count": len(chosen),
                "values": [term_value(chosen, value) for _, _, value in terms],
            }
    return statistics


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
    problem: Problem,
    y: np.ndarray,
    prediction: np.ndarray,
    *,
    run_id: str,
    threshold: float,
    drops: dict[str, Any],
) -> dict[str, Any]:
    """The batch's metrics against the training run's ``test.*`` ones, with the allowed drops.

    ``prediction`` is what ``problem.predict`` gives; ``drops`` maps each metric to its largest
    allowed drop (``problem.performance_drops``: a number, or a share of the training value).
    """
    before = reference_metrics(run_id)
    now = problem.score(list(drops), y, prediction, threshold) if problem.can_score(y) else {}
    performance: dict[str, Any] = {"labels": True, "reference_run_id": run_id, "metrics": []}
    for metric, allowed in drops.items():
        if metric not in before or metric not in now or np.isnan(now[metric]):
            continue
        drop = before[metric] - now[metric]
        drop = drop if problem.greater_is_better(metric) else -drop
        max_drop = problem.allowed_drop(allowed, before[metric])
        performance["metrics"].append(
            {
                "metric": metric,
                "reference": before[metric],
                "batch": now[metric],
                "drop": drop,
                "max_drop": max_drop,
                "verdict": "fail" if drop > max_drop else "pass",
            }
        )
    return performance


def compare_group_statistics(
    reference: dict[str, dict[str, dict[str, Any]]],
    batch: dict[str, dict[str, dict[str, Any]]],
    problem: Problem,
    allowed: float,
    plan: dict[str, Any],
) -> dict[str, Any]:
    """Each group's statistics in the batch against the reference's (``group_statistics``);
    a change larger than ``allowed`` fails, in groups large enough to judge."""
    min_size = int(plan["min_group_size"])
    terms = problem.group_terms()
    fairness: dict[str, Any] = {"labels": True, "groups": []}  # set by the caller
    for name, per_group in batch.items():
        for group, current in per_group.items():
            ref = reference.get(name, {}).get(group)
            if ref is None:
                continue
            judged = current["count"] >= min_size and ref["count"] >= min_size
            for (fields, statistic, _), before, now in zip(
                terms, ref["values"], current["values"], strict=True
            ):
                change = now - before
                fairness["groups"].append(
                    {
                        "feature": name,
                        "group": group,
                        **fields,
                        f"reference_{statistic}": before,
                        f"batch_{statistic}": now,
                        "change": change,
                        "batch_count": current["count"],
                        "verdict": ("fail" if abs(change) > allowed else "pass")
                        if judged
                        else "too small to judge",
                    }
                )
    return fairness


def statistic_of(row: dict[str, Any]) -> str:
    """The statistic a group drift row compares (its ``batch_<statistic>`` key)."""
    return next(
        k.removeprefix("batch_") for k in row if k.startswith("batch_") and k != "batch_count"
    )


def assess_batch(
    training_set: pd.DataFrame,
    scoring_batch: pd.DataFrame,
    batch_predictions: pd.DataFrame,
    training: dict[str, Any],
    plan: dict[str, Any],
) -> dict[str, Any]:
    """Feature, prediction and group drift, and (with labels) performance decay.

    pandas frames; the pipeline's node (``engines.assess_batch``) hands Spark ones to
    ``spark.assess_spark_batch``, which gives the same report.
    """
    if batch_predictions.empty:
        raise DataError("batch_predictions has no rows: run the inference pipeline first.")
    problem = problem_of(plan["dataset"])
    first = batch_predictions.iloc[0]
    threshold = decision_threshold_of(str(first.get("model_run_id", "")), training)
    reference, reference_prediction = reference_with_scores(
        training_set, str(first["model_uri"]), training, plan
    )
    features = feature_drift(reference, scoring_batch, training, plan)
    spec = problem.prediction_drift()
    if spec.column not in batch_predictions.columns:
        raise DataError(
            f"batch_predictions has no column {spec.column!r} (a {problem.kind} problem's "
            "predictions have it): score the batch again with the inference pipeline."
        )
    prediction = prediction_drift(
        problem,
        problem.drift_reference_values(reference_prediction, threshold),
        batch_predictions[spec.column],
        plan,
    )

    # Group statistics need no labels: judged on every batch.
    batch_prediction = problem.prediction_of_columns(batch_predictions)
    aligned = len(scoring_batch) == len(batch_prediction)
    fairness: dict[str, Any] = {"labels": False, "groups": []}
    if aligned:
        groups = plan["sensitive_features"]
        reference_decision = problem.decide(reference_prediction, threshold)
        fairness = compare_group_statistics(
            group_statistics(reference, reference_decision, groups, problem),
            group_statistics(
                scoring_batch, problem.decide(batch_prediction, threshold), groups, problem
            ),
            problem,
            problem.group_drift_allowed(plan["thresholds"], reference_decision),
            plan,
        )
    target = training["target"]
    labelled = scoring_batch[target].notna() if target in scoring_batch.columns else None
    performance: dict[str, Any] = {"labels": False, "metrics": []}
    if labelled is not None and labelled.all() and aligned:
        run_id = plan["reference_run_id"] or str(first.get("model_run_id") or "")
        performance = performance_decay(
            problem,
            problem.label_values(scoring_batch[target]),
            batch_prediction,
            run_id=run_id,
            threshold=threshold,
            drops=plan["thresholds"]["performance_drop"],
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
    and the model's prediction for each of them (``problem.predict``)."""
    problem = problem_of(plan["dataset"])
    max_rows = int(plan["reference_max_rows"] or len(training_set))
    reference = seeded_sample(training_set, max_rows, int(plan["seed"]))
    numeric, categorical = feature_columns(training)
    check_columns(reference, numeric + categorical, "training.features", "training_set")
    model = load_logged_model(model_uri)
    prediction = problem.predict(model, model_inputs(reference, numeric, categorical))
    return reference, prediction


def prediction_drift(
    problem: Problem, reference: np.ndarray, batch: pd.Series, plan: dict[str, Any]
) -> dict[str, Any]:
    """The report's prediction line on pandas: ``reference`` and ``batch`` are the values of the
    problem type's drift column (``problem.prediction_drift``), the training reference's and the
    batch's."""
    spec = problem.prediction_drift()
    if spec.kind == "numeric":
        values = batch.to_numpy(dtype=float)
        psi = psi_numeric(reference, values, int(plan["psi_bins"]))
        test = ("ks", *ks_test(reference, values)) if spec.test else None
        summaries = (spec.summary(mean=np.mean(reference)), spec.summary(mean=np.mean(values)))
    else:
        ref_values, cur_values = pd.Series(reference, dtype=object), batch.astype(object)
        psi = psi_categorical(ref_values, cur_values)
        test = ("chi2", *chi_squared_test(ref_values, cur_values)) if spec.test else None
        summaries = (
            spec.summary(counts=ref_values.astype(str).value_counts().to_dict()),
            spec.summary(counts=cur_values.astype(str).value_counts().to_dict()),
        )
    return prediction_line(psi, test, *summaries, plan["thresholds"])


def prediction_line(
    psi: float,
    test: tuple[str, float, float] | None,
    reference: dict[str, float],
    batch: dict[str, float],
    thresholds: dict[str, Any],
) -> dict[str, Any]:
    """The report's prediction line of either engine: the PSI, the test (if the problem type
    has one), the reference's and the batch's figures (``reference_<figure>``,
    ``batch_<figure>``) and the verdict: from the PSI; a significant test with a small PSI only
    warns, as for the inputs."""
    line: dict[str, Any] = {"psi": psi}
    if test is not None:
        line.update(zip(("test", "statistic", "p_value"), test, strict=True))
    line.update({f"reference_{key}": value for key, value in reference.items()})
    line.update({f"batch_{key}": value for key, value in batch.items()})
    verdict = _level(psi, thresholds["prediction_psi"])
    if verdict == "pass" and test is not None and test[2] < thresholds["p_value"]:
        verdict = "warn"
    line["verdict"] = verdict
    return line


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
                f"in training (drop {row['drop']:.3f} > {row['max_drop']:.4g})"
            )
    for row in assessment["fairness"]["groups"]:
        if row["verdict"] == "fail":
            statistic = statistic_of(row)
            words = statistic.replace("_", " ") + (f" of {row['class']}" if "class" in row else "")
            reasons.append(
                f"fairness {row['feature']}={row['group']}: {words} "
                f"{row[f'batch_{statistic}']:.3f} vs {row[f'reference_{statistic}']:.3f}"
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


def monitoring_metrics(assessment: dict[str, Any], problem: Problem) -> dict[str, float]:
    """Flat metrics for MLflow: PSI per feature, prediction PSI and the problem type's figures of
    the predictions, performance, and each group's statistics (the batch's, and the training
    reference's the dashboard draws beside them: ``<statistic>[.<class>].<feature>.<group>``)."""
    metrics: dict[str, float] = {
        "rows": assessment["rows_batch"],
        "prediction_psi": assessment["prediction"]["psi"],
        **problem.prediction_drift_metrics(assessment["prediction"]),
        "features_drifted": sum(r["verdict"] == "fail" for r in assessment["features"]),
    }
    for row in assessment["features"]:
        metrics[f"psi.{row['feature']}"] = row["psi"]
    for row in assessment["performance"]["metrics"]:
        metrics[f"performance.{row['metric']}"] = row["batch"]
        metrics[f"performance.{row['metric']}_drop"] = row["drop"]
    for row in assessment["fairness"]["groups"]:
        statistic = statistic_of(row)
        name = f"{statistic}.{metric_safe(row['class'])}" if "class" in row else statistic
        key = f"{name}.{row['feature']}.{metric_safe(row['group'])}"
        metrics[key] = row[f"batch_{statistic}"]
        metrics[f"reference_{key}"] = row[f"reference_{statistic}"]
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
