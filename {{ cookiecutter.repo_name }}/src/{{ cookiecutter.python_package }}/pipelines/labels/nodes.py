"""Late labels: join them to a batch's stored predictions, measure performance and errors by group.

Every row of the labels file is accounted for, in exactly one of: ``joined`` (its id was scored),
``unknown_ids`` (no row of the batch has that id, or the id is empty), ``quarantined_rows``
(the row was quarantined at scoring, so it has no prediction), ``duplicates`` (a further row
for an id already seen), ``conflicting`` (the first row of an id whose rows disagree: none of
them is joined) and ``invalid_labels`` (a value the target's description does not know, as
``problem.encode_target`` reads it: neither the positive nor the negative class, a class
training was not configured with, or not a number). Predictions and labels files stay as they
were written.

What is measured follows the problem type (``problem/``): performance decay on its metrics
(``labels.performance_drop``), and per sensitive group its error figures
(``problem.group_errors``: binary, the error, false positive and false negative rates;
multiclass, the error rate; regression, the mean absolute error and the mean residual).
"""

import logging
from typing import Any

import numpy as np
import pandas as pd

from ...columns import normalise_column_names
from ...errors import DataError
from ...gates import gate_tags, worst
from ...groups import group_column, metric_safe
from ...problem import Problem, problem_of
from ...spark_engine import is_spark_frame
from ..monitoring.alerts import deliver_alert
from ..monitoring.assessment import performance_decay

logger = logging.getLogger(__name__)

OUTCOMES = (
    "joined",
    "unknown_ids",
    "quarantined_rows",
    "duplicates",
    "conflicting",
    "invalid_labels",
)
# Why a label row was not joined, as the alert says it.
SET_ASIDE = {
    "unknown_ids": "for ids the batch does not have",
    "quarantined_rows": "for rows quarantined at scoring (never scored)",
    "duplicates": "repeating an id already labelled",
    "conflicting": "for ids whose labels disagree (none of them joined)",
    "invalid_labels": "",  # the problem type's words (problem.INVALID_LABEL_WORDS)
}


def _ids(values: pd.Series) -> pd.Series:
    """Ids compared as stripped text (a CSV's ``7`` and a table's integer 7 are one id)."""
    text = values.astype("string").str.strip()
    return text.where(text != "", pd.NA).reset_index(drop=True)


def join_labels(
    labels: pd.DataFrame,
    predictions: pd.DataFrame,
    scored_rows: pd.DataFrame,
    quarantined: pd.DataFrame,
    plan: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The scored rows that received a label, and the accounting of every label row.

    ``scored_rows`` is the batch's validated table (``scoring_batch``), aligned row by row with
    ``predictions``; it gives the groups of the sensitive attributes. In Spark (``--env spark``)
    the batch's tables are first reduced, in Spark, to the rows whose id is in the labels file
    (``spark.py``): the joined table is never larger than the labels file, already in memory.
    """
    scored_total = None
    if any(map(is_spark_frame, (predictions, scored_rows, quarantined))):
        from .spark import rows_with_label_ids

        named = normalise_column_names(labels)
        id_column = plan["id_column"]
        label_ids = _ids(named[id_column]) if id_column in named.columns else None
        predictions, scored_rows, quarantined, scored_total = rows_with_label_ids(
            label_ids, predictions, scored_rows, quarantined, plan
        )
    return _join_labels(
        labels, predictions, scored_rows, quarantined, plan, scored_total=scored_total
    )


def _join_labels(
    labels: pd.DataFrame,
    predictions: pd.DataFrame,
    scored_rows: pd.DataFrame,
    quarantined: pd.DataFrame,
    plan: dict[str, Any],
    *,
    scored_total: int | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``join_labels`` on pandas frames; ``scored_total``: the batch's scored rows, when
    ``predictions`` holds only those with a labelled id (and was checked for duplicate ids)."""
    id_column, target = plan["id_column"], plan["target"]["column"]
    batch = plan["batch"]
    labels = normalise_column_names(labels)
    missing = [c for c in (id_column, target) if c not in labels.columns]
    if missing:
        raise DataError(
            f"The labels file of batch {batch!r} has no column(s) {missing}; it has "
            f"{list(labels.columns)}. It needs the id column ({id_column}) and the target "
            f"({target}): see dataset.id_column and dataset.target in "
            "conf/base/parameters_dataset.yml."
        )
    if id_column not in predictions.columns:
        raise DataError(
            f"batch_predictions of batch {batch!r} has no id column {id_column!r}: add it to "
            "dataset.keep_with_predictions (conf/base/parameters_dataset.yml) and score again."
        )
    if len(scored_rows) != len(predictions):
        raise DataError(
            f"scoring_batch ({len(scored_rows)} rows) and batch_predictions "
            f"({len(predictions)}) of batch {batch!r} differ: score the batch again "
            f"(kedro run --pipelines inference --params batch={batch})."
        )
    scored_ids = _ids(predictions[id_column])
    if scored_ids.duplicated().any():
        raise DataError(
            f"batch_predictions of batch {batch!r} has several rows with one {id_column}: a "
            "label cannot be joined to one of them; make the id unique (a row expectation)."
        )
    quarantined_ids = (
        set(_ids(quarantined[id_column]).dropna()) if id_column in quarantined.columns else set()
    )
    label_ids = _ids(labels[id_column])
    problem = problem_of(plan["dataset"])
    values = problem.encode_target(labels[target].reset_index(drop=True))
    known = set(scored_ids.dropna())
    outcome = pd.Series("joined", index=label_ids.index, dtype=object)
    outcome[~label_ids.isin(known)] = "unknown_ids"
    outcome[~label_ids.isin(known) & label_ids.isin(quarantined_ids)] = "quarantined_rows"
    on_scored = outcome == "joined"
    outcome[on_scored & values.isna()] = "invalid_labels"
    valid = outcome == "joined"
    outcome[valid & label_ids.duplicated()] = "duplicates"
    disagree = values[valid].groupby(label_ids[valid]).nunique() > 1
    conflicting_ids = sorted(disagree[disagree].index)
    outcome[(outcome == "joined") & label_ids.isin(conflicting_ids)] = "conflicting"
    counts = {name: int((outcome == name).sum()) for name in OUTCOMES}
    if sum(counts.values()) != len(labels):  # never lose a label
        raise DataError(f"Label accounting broke: {len(labels)} != {counts}.")

    chosen = pd.DataFrame({id_column: label_ids, target: values})[outcome == "joined"]
    frame = predictions.reset_index(drop=True).copy()
    frame["_id"] = scored_ids
    groups = {}
    for name, spec in plan["sensitive_features"].items():
        column = (spec or {}).get("column", name)
        if column in scored_rows.columns:
            groups[f"group.{name}"] = group_column(
                scored_rows.reset_index(drop=True), column, (spec or {}).get("bins")
            )
    frame = frame.assign(**groups)
    joined = frame.merge(
        chosen.rename(columns={id_column: "_id"}), on="_id", how="inner", validate="one_to_one"
    ).drop(columns="_id")
    joined[target] = problem.label_values(joined[target])

    def sample(name: str) -> list[str]:
        return sorted(map(str, label_ids[outcome == name].fillna("").unique()))[:20]

    scored = len(predictions) if scored_total is None else scored_total
    accounting = {
        "batch": batch,
        "labels_in": len(labels),
        "scored_rows": scored,
        "scored_rows_labelled": len(joined),
        "scored_rows_without_label": scored - len(joined),
        **counts,
        "examples": {name: sample(name) for name in OUTCOMES if name != "joined"},
        "conflicting_ids": [str(i) for i in conflicting_ids][:20],
    }
    set_aside = {k: v for k, v in counts.items() if k != "joined" and v}
    logger.info(
        "Labels of batch %r: %d rows, %d joined to predictions%s.",
        batch,
        len(labels),
        counts["joined"],
        f"; set aside (counted in the report): {set_aside}" if set_aside else "",
    )
    return joined, accounting


def error_rates(
    joined: pd.DataFrame, plan: dict[str, Any], problem: Problem
) -> list[dict[str, Any]]:
    """The problem type's error figures (``problem.group_errors``) per sensitive group."""
    target, min_size = plan["target"]["column"], int(plan["min_group_size"])
    rows = []
    for name in plan["sensitive_features"]:
        column = f"group.{name}"
        if column not in joined.columns:
            continue
        for group, part in joined.groupby(column, sort=True):
            y = problem.label_values(part[target])
            rows.append(
                {
                    "feature": name,
                    "group": str(group),
                    "count": len(part),
                    **problem.group_errors(y, problem.decision_of_columns(part)),
                    "judged": len(part) >= min_size,
                }
            )
    return rows


def assess_labels(
    joined: pd.DataFrame, accounting: dict[str, Any], plan: dict[str, Any]
) -> dict[str, Any]:
    """Performance decay against the model's training run, and error figures per group."""
    problem = problem_of(plan["dataset"])
    target = plan["target"]["column"]
    run_id = plan["reference_run_id"] or (
        str(joined["model_run_id"].iloc[0]) if len(joined) and "model_run_id" in joined else ""
    )
    y = problem.label_values(joined[target])
    threshold = 0.5  # the problem type's default; binary predictions carry theirs
    if len(joined) and "decision_threshold" in joined:
        threshold = float(joined["decision_threshold"].iloc[0])
    prediction = problem.prediction_of_columns(joined) if len(joined) else problem.predict_nothing()
    performance = performance_decay(
        problem, y, prediction, run_id=run_id, threshold=threshold, drops=plan["performance_drop"]
    )
    if len(joined) and not performance["metrics"]:
        logger.warning(
            "No performance decay for batch %r: the labels cannot be scored (e.g. one class "
            "only), or training run %r has no test.* metrics.",
            plan["batch"],
            run_id,
        )
    return {
        "batch": plan["batch"],
        "model_uri": str(joined["model_uri"].iloc[0]) if len(joined) else "",
        "labels": accounting,
        "performance": performance,
        "error_rates": error_rates(joined, plan, problem),
        **problem.describe_labels(y),
    }


def labels_metrics(report: dict[str, Any], problem: Problem) -> dict[str, float]:
    """Flat metrics: ``labels.*`` counts, ``performance.*`` (as monitoring), and the problem
    type's error figures per group (``<figure>.<attribute>.<group>``, e.g. ``error_rate.*``)."""
    metrics: dict[str, float] = {
        f"labels.{name}": report["labels"][name] for name in OUTCOMES if name != "joined"
    }
    metrics["labels.joined"] = report["labels"]["joined"]
    for row in report["performance"]["metrics"]:
        metrics[f"performance.{row['metric']}"] = row["batch"]
        metrics[f"performance.{row['metric']}_drop"] = row["drop"]
    for row in report["error_rates"]:
        for figure in problem.GROUP_ERROR_METRICS:
            metrics[f"{figure}.{row['feature']}.{metric_safe(row['group'])}"] = row[figure]
    return {k: float(v) for k, v in metrics.items() if not np.isnan(v)}


def raise_labels_alert(
    report: dict[str, Any], plan: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The verdict on the labelled batch; an alert (log, webhook) when performance fell too far."""
    problem = problem_of(plan["dataset"])
    set_aside = {**SET_ASIDE, "invalid_labels": problem.INVALID_LABEL_WORDS}
    reasons = [
        f"performance {row['metric']}: {row['batch']:.3f} vs {row['reference']:.3f} in training "
        f"(drop {row['drop']:.3f} > {row['max_drop']:.4g})"
        for row in report["performance"]["metrics"]
        if row["verdict"] == "fail"
    ]
    accounting = report["labels"]
    warnings = [
        f"{accounting[name]} label row(s) {set_aside[name]}"
        for name in set_aside
        if accounting[name]
    ]
    if not accounting["joined"]:
        warnings.append("no label could be joined to a prediction")
    verdict = worst("fail" if reasons else "pass", "warn" if warnings else "pass")
    alert = verdict == "fail" or (plan["alert_on"] == "warn" and verdict == "warn")
    record = {
        "alert": alert,
        "verdict": verdict,
        "batch": plan["batch"],
        "model_uri": report["model_uri"],
        "reasons": reasons,
        "warnings": warnings,
        "recipients": plan["alert_recipients"],
        "report": f"{plan['report_folder']}/{plan['batch']}",
        "webhook": {"url": plan["alert_webhook_url"] or None, "status": "not sent"},
    }
    if alert:
        logger.warning(
            "LABELS ALERT for batch %r (model %s), verdict %s:\n  - %s\nReport: %s",
            plan["batch"],
            report["model_uri"],
            verdict,
            "\n  - ".join(reasons + warnings),
            record["report"],
        )
        deliver_alert(record, plan)
    else:
        logger.info("Labels of batch %r: %s, no alert.", plan["batch"], verdict)
    run_record = {
        "metrics": labels_metrics(report, problem),
        "tags": {**gate_tags("labels", verdict), "labels.alert": alert},
    }
    return {**report, "alert": record}, run_record


def find_monitoring_run(plan: dict[str, Any]) -> dict[str, Any]:
    """The latest FINISHED run of the batch (tag ``monitoring.batch``) in the monitoring
    experiment, with the step its labels go to: one after the run's last."""
    import mlflow

    experiment, batch = plan["experiment"], plan["batch"]
    client = mlflow.MlflowClient()
    found = client.get_experiment_by_name(experiment)
    runs = []
    if found is not None:
        runs = client.search_runs(
            [found.experiment_id],
            filter_string=f"tags.`monitoring.batch` = '{batch}' and attributes.status = 'FINISHED'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
    if not runs:
        raise DataError(
            f"Batch {batch!r} has no monitoring run in MLflow experiment {experiment!r} "
            f"({mlflow.get_tracking_uri()}): run `kedro run --pipelines monitoring --params "
            f"batch={batch}` first."
        )
    tags = runs[0].data.tags
    last = max(int(tags.get("monitoring.step", 0)), int(tags.get("monitoring.labels_step", 0)))
    return {"run_id": runs[0].info.run_id, "step": last + 1}


def update_monitoring_run(
    report: dict[str, Any], run_record: dict[str, Any], monitoring_run: dict[str, Any]
) -> dict[str, Any]:
    """What the batch's monitoring run receives: the metrics at a new step, tags, the report."""
    return {
        **monitoring_run,
        "metrics": run_record["metrics"],
        "tags": {
            **run_record["tags"],
            "monitoring.labels": report["labels"]["joined"],
            "monitoring.labels_step": monitoring_run["step"],
        },
        "json": {"labels_report.json": report},
    }
