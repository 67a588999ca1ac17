"""The assessment of a batch on Spark: histograms and group counts in Spark, the statistics here.

Called by ``assessment.assess_batch`` when the batch and its predictions are Spark DataFrames
(``--env spark``). The reference (``training_set``, the training sample) stays in pandas. The
batch is never collected: Spark computes, per model input, its counts in the reference's bins
and per category, the predictions' counts (what the problem type compares,
``problem.prediction_drift``: in the bins of the reference's predictions, or per class), and each
sensitive group's count and sums of its decisions (``problem.group_terms``); only these
aggregates reach the driver, and the PSI, the tests and the group checks of ``drift.py`` and
``assessment.py`` run on them.

How: the numeric inputs' bins (and the predicted numbers', one more job) are found in the Python
workers (``mapInPandas``, with ``np.searchsorted`` as on pandas), each chunk reduced there to its
counts, which Spark sums: one job for all numeric inputs. (Spark's ``Bucketizer`` on the
reference's distinct values, about 8,000 per input here, took 2 s or more per input; this takes
about 1 s for all of them.) Categories, predicted classes and groups are Spark ``groupBy``
counts, bands ``F.when`` chains.

Same figures as on pandas, where the computation is the same:

- histograms, PSI, chi-squared, group counts, selection rates and shares: identical (integer
  counts);
- Kolmogorov-Smirnov (inputs, and a predicted number): exact, not approximated. The test needs
  the batch's empirical distribution only where the reference's can change: Spark counts the
  batch's values equal to each distinct reference value and those strictly between two of them
  (``drift.ks_test_from_counts``), at most twice as many counts as the reference has distinct
  values;
- means (the mean probability or prediction, a group's mean prediction): Spark's sum runs in
  another order than numpy's, so they may differ from the pandas figures in the last digits
  (about 1e-16 relative);
- performance decay (a batch with labels): the metrics (ROC AUC needs every score's rank) are
  computed by scikit-learn on the label and prediction columns of each row, collected to the
  driver, the one per-row collect of the assessment.

Rows of the batch and of the predictions are matched by the row position (``source_row``,
which the predictions keep: ``dataset.keep_with_predictions``), not by their order.
"""

import logging
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from ...columns import ROW_POSITION
from ...errors import DataError
from ...groups import MISSING, band_labels
from ...modelling import decision_threshold_of, feature_columns
from ...problem import Problem, problem_of
from ...spark_engine import is_spark_frame, quoted
from .assessment import (
    compare_group_statistics,
    drift_report,
    feature_row,
    group_statistics,
    performance_decay,
    prediction_line,
    present_groups,
    reference_with_scores,
)
from .drift import (
    binned_counts,
    chi_squared_from_counts,
    ks_test_from_counts,
    numeric_bin_edges,
    psi_from_counts,
)

logger = logging.getLogger(__name__)

CATEGORY_MISSING = "<missing>"  # as drift.category_counts


def _number(column: str) -> Any:
    from pyspark.sql import functions as F

    value = quoted(column).try_cast("double")
    return F.when(~F.isnan(value), value)  # NaN as null: both are missing


def _counts_per_chunk(
    columns: list[str], edges: dict[str, np.ndarray], distinct: dict[str, np.ndarray]
) -> Any:
    """The function ``mapInPandas`` runs on each chunk of the batch's numeric columns: per
    column, the rows per (PSI bin, KS bin, equal to a reference value), counted in the worker."""

    def count(chunks: Any) -> Any:
        for chunk in chunks:
            parts = []
            for i, column in enumerate(columns):
                x = chunk[f"x{i}"].to_numpy(dtype=float)
                missing = np.isnan(x)
                psi_bin = np.where(
                    missing, len(edges[column]) + 1, np.searchsorted(edges[column], x, side="right")
                )
                values = distinct[column]
                ks_bin = np.searchsorted(values, x, side="right")  # distinct values <= x
                equal = np.zeros(len(x), dtype=bool)
                if len(values):
                    equal = (ks_bin > 0) & (values[np.maximum(ks_bin - 1, 0)] == x)
                keys = pd.DataFrame(
                    {
                        "column": i,
                        "psi_bin": psi_bin,
                        "ks_bin": np.where(missing, -1, ks_bin),
                        "equal": equal,
                    }
                )
                parts.append(keys.value_counts().rename("count").reset_index())
            if parts:
                yield pd.concat(parts, ignore_index=True).astype(
                    {"column": "int32", "psi_bin": "int64", "ks_bin": "int64", "count": "int64"}
                )

    return count


def numeric_histograms(
    batch: Any, columns: list[str], edges: dict[str, np.ndarray], distinct: dict[str, np.ndarray]
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """In one Spark job, for each numeric column: the batch's counts in the PSI bins (as
    ``drift.binned_counts``: the bins, then the missing values), and its counts equal to each
    of the reference's distinct values and strictly between two of them (for the KS test).

    The bins are found by ``np.searchsorted`` in the Python workers (``mapInPandas``), as on
    pandas; each chunk of rows is reduced to its counts there, and Spark sums the counts.
    """
    from pyspark.sql import functions as F

    out = {
        c: (
            np.zeros(len(edges[c]) + 2, dtype=np.int64),
            np.zeros(len(distinct[c]), dtype=np.int64),
            np.zeros(len(distinct[c]) + 1, dtype=np.int64),
        )
        for c in columns
    }
    if not columns:
        return out
    frame = batch.select(*(_number(c).alias(f"x{i}") for i, c in enumerate(columns)))
    schema = "column int, psi_bin long, ks_bin long, equal boolean, count long"
    rows = (
        frame.mapInPandas(_counts_per_chunk(columns, edges, distinct), schema)
        .groupBy("column", "psi_bin", "ks_bin", "equal")
        .agg(F.sum("count").alias("count"))
        .collect()
    )
    for row in rows:
        psi_counts, equal_counts, between_counts = out[columns[row["column"]]]
        psi_counts[row["psi_bin"]] += row["count"]
        if row["ks_bin"] < 0:  # missing
            continue
        if row["equal"]:
            equal_counts[row["ks_bin"] - 1] += row["count"]
        else:
            between_counts[row["ks_bin"]] += row["count"]
    return out


def category_histogram(batch: Any, column: str) -> dict[str, int]:
    """The batch's count per category (missing values as one category), from Spark."""
    from pyspark.sql import functions as F

    text = F.coalesce(quoted(column).cast("string"), F.lit(CATEGORY_MISSING))
    return {row[0]: int(row[1]) for row in batch.groupBy(text).count().collect()}


def feature_drift(
    reference: pd.DataFrame, batch: Any, training: dict[str, Any], plan: dict[str, Any]
) -> list[dict[str, Any]]:
    """``assessment.feature_drift`` with the batch's histograms computed in Spark."""
    numeric, categorical = feature_columns(training)
    thresholds, bins = plan["thresholds"], int(plan["psi_bins"])
    for column in numeric + categorical:
        if column not in batch.columns or column not in reference.columns:
            raise DataError(f"Column {column!r} is missing from the batch or the reference.")
    values = {
        c: pd.to_numeric(reference[c], errors="coerce").to_numpy(dtype=float) for c in numeric
    }
    edges = {c: numeric_bin_edges(values[c], bins) for c in numeric}
    present = {c: values[c][~np.isnan(values[c])] for c in numeric}
    histograms = numeric_histograms(
        batch, numeric, edges, {c: np.unique(present[c]) for c in numeric}
    )
    rows = []
    for column in numeric + categorical:
        if column in numeric:
            counts, equal, between = histograms[column]
            psi = psi_from_counts(binned_counts(values[column], edges[column]), counts)
            statistic, p_value = ks_test_from_counts(present[column], equal, between)
            rows.append(
                feature_row(
                    column,
                    "numeric",
                    psi=psi,
                    test="ks",
                    statistic=statistic,
                    p_value=p_value,
                    thresholds=thresholds,
                )
            )
            continue
        values = reference[column]
        ref_text = values.astype(object).where(values.notna(), CATEGORY_MISSING).astype(str)
        ref_by_category = ref_text.value_counts().to_dict()
        cur_by_category = category_histogram(batch, column)
        categories = sorted(set(ref_by_category) | set(cur_by_category))
        ref_counts = np.array([ref_by_category.get(c, 0) for c in categories])
        cur_counts = np.array([cur_by_category.get(c, 0) for c in categories])
        psi = psi_from_counts(ref_counts, cur_counts)
        statistic, p_value = chi_squared_from_counts(ref_counts, cur_counts)
        rows.append(
            feature_row(
                column,
                "categorical",
                psi=psi,
                test="chi2",
                statistic=statistic,
                p_value=p_value,
                thresholds=thresholds,
            )
        )
    return rows


def spark_group_column(frame: Any, column: str, bins: list[float] | None) -> Any:
    """``groups.group_column`` in Spark: the value as text, or its band; missing: ``missing``."""
    from pyspark.sql import functions as F

    value = quoted(column)
    if bins:
        number = _number(column)
        label = F.when(number.isNull(), F.lit(MISSING))
        for (low, high), band in zip(pairwise(bins), band_labels(bins), strict=True):
            label = label.when((number >= low) & (number < high), F.lit(band))
        return label.otherwise(F.lit("outside bands"))
    if dict(frame.dtypes)[column] == "boolean":  # as pandas writes them
        text = F.when(value, F.lit("True")).when(~value, F.lit("False"))
    elif dict(frame.dtypes)[column] in ("float", "double"):
        text = F.when(~F.isnan(value), value.cast("string"))
    else:
        text = value.cast("string")
    return F.coalesce(text, F.lit(MISSING))


def batch_group_statistics(
    scored: Any, groups: dict[str, Any], problem: Problem
) -> dict[str, dict[str, dict[str, Any]]]:
    """``assessment.group_statistics`` of the scored batch (with ``decision``), from Spark: per
    group, its row count and the sums of ``problem.group_terms``, divided here."""
    from pyspark.sql import functions as F

    terms = problem.group_terms()
    sums = [
        F.sum(
            F.col("decision")
            if value is None
            else F.when(F.col("decision") == value, 1).otherwise(0)
        ).alias(f"term_{i}")
        for i, (_, _, value) in enumerate(terms)
    ]
    statistics: dict[str, dict[str, dict[str, Any]]] = {}
    for name, column, bins in present_groups(groups, scored.columns):
        group = spark_group_column(scored, column, bins).alias("group")
        counts = scored.groupBy(group).agg(F.count(F.lit(1)).alias("count"), *sums)
        statistics[name] = {
            str(row["group"]): {
                "count": int(row["count"]),
                "values": [row[f"term_{i}"] / int(row["count"]) for i in range(len(terms))],
            }
            for row in sorted(counts.collect(), key=lambda row: str(row["group"]))
        }
    return statistics


def spark_prediction_drift(
    problem: Problem,
    reference: np.ndarray,
    predictions: Any,
    plan: dict[str, Any],
) -> tuple[dict[str, Any], int]:
    """``assessment.prediction_drift`` with the batch's side counted in Spark, and the number of
    scored rows: numbers, their counts in the reference's bins (and, for the KS test, equal to
    and between the reference's distinct values) and their mean; classes, their counts."""
    from pyspark.sql import functions as F

    spec = problem.prediction_drift()
    if spec.column not in predictions.columns:
        raise DataError(
            f"batch_predictions has no column {spec.column!r} (a {problem.kind} problem's "
            "predictions have it): score the batch again with the inference pipeline."
        )
    if spec.kind == "numeric":
        reference = np.asarray(reference, dtype=float)
        edges = numeric_bin_edges(reference, int(plan["psi_bins"]))
        present = reference[~np.isnan(reference)]
        distinct = np.unique(present) if spec.test else np.array([])
        counts, equal, between = numeric_histograms(
            predictions, [spec.column], {spec.column: edges}, {spec.column: distinct}
        )[spec.column]
        psi = psi_from_counts(binned_counts(reference, edges), counts)
        test = ("ks", *ks_test_from_counts(present, equal, between)) if spec.test else None
        mean = predictions.select(F.avg(quoted(spec.column))).first()[0]
        summaries = (spec.summary(mean=np.mean(reference)), spec.summary(mean=mean))
        rows = int(counts.sum())
    else:
        values = pd.Series(reference, dtype=object)
        ref_by_category = values.astype(str).value_counts().to_dict()
        cur_by_category = category_histogram(predictions, spec.column)
        categories = sorted(set(ref_by_category) | set(cur_by_category))
        ref_counts = np.array([ref_by_category.get(c, 0) for c in categories])
        cur_counts = np.array([cur_by_category.get(c, 0) for c in categories])
        psi = psi_from_counts(ref_counts, cur_counts)
        test = ("chi2", *chi_squared_from_counts(ref_counts, cur_counts)) if spec.test else None
        summaries = (spec.summary(counts=ref_by_category), spec.summary(counts=cur_by_category))
        rows = int(cur_counts.sum())
    return prediction_line(psi, test, *summaries, plan["thresholds"]), rows


def assess_spark_batch(
    training_set: pd.DataFrame,
    scoring_batch: Any,
    batch_predictions: Any,
    training: dict[str, Any],
    plan: dict[str, Any],
) -> dict[str, Any]:
    """``assessment.assess_batch`` on a Spark batch and Spark predictions: the same report."""
    from pyspark.sql import functions as F

    # One of them in pandas (e.g. a catalog that keeps the predictions in pandas): to Spark.
    spark = next(f for f in (scoring_batch, batch_predictions) if is_spark_frame(f)).sparkSession
    if not is_spark_frame(scoring_batch):
        scoring_batch = spark.createDataFrame(scoring_batch)
    if not is_spark_frame(batch_predictions):
        batch_predictions = spark.createDataFrame(batch_predictions)
    provenance = ("model_uri", "model_source", "model_run_id")
    first = batch_predictions.select(
        *(c for c in provenance if c in batch_predictions.columns)
    ).first()
    if first is None:
        raise DataError("batch_predictions has no rows: run the inference pipeline first.")
    first = first.asDict()
    problem = problem_of(plan["dataset"])
    threshold = decision_threshold_of(str(first.get("model_run_id", "")), training)
    reference, reference_prediction = reference_with_scores(
        training_set, str(first["model_uri"]), training, plan
    )
    features = feature_drift(reference, scoring_batch, training, plan)
    prediction, rows_scored = spark_prediction_drift(
        problem,
        problem.drift_reference_values(reference_prediction, threshold),
        batch_predictions,
        plan,
    )

    rows_batch = scoring_batch.count()
    aligned = rows_batch == rows_scored and ROW_POSITION in batch_predictions.columns
    if rows_batch == rows_scored and not aligned:
        logger.warning(
            "batch_predictions has no %s column (dataset.keep_with_predictions): its rows "
            "cannot be matched with the batch's, group statistics and performance skipped.",
            ROW_POSITION,
        )
    columns = [c for c in problem.prediction_column_names() if c in batch_predictions.columns]
    scored = None
    if aligned:
        scored = scoring_batch.join(
            batch_predictions.select(
                quoted(ROW_POSITION),
                *(quoted(c).alias(f"_{c}") for c in columns),
                problem.spark_decision(threshold).alias("decision"),
            ),
            on=ROW_POSITION,
            how="inner",
        )
    fairness: dict[str, Any] = {"labels": False, "groups": []}
    if scored is not None:
        groups = plan["sensitive_features"]
        reference_decision = problem.decide(reference_prediction, threshold)
        fairness = compare_group_statistics(
            group_statistics(reference, reference_decision, groups, problem),
            batch_group_statistics(scored, groups, problem),
            problem,
            problem.group_drift_allowed(plan["thresholds"], reference_decision),
            plan,
        )
    target = training["target"]
    performance: dict[str, Any] = {"labels": False, "metrics": []}
    labelled = (
        target in scoring_batch.columns
        and scoring_batch.filter(quoted(target).isNull()).limit(1).count() == 0
    )
    if labelled and scored is not None:
        run_id = plan["reference_run_id"] or str(first.get("model_run_id") or "")
        pairs = scored.select(
            quoted(target).alias("_y"), *(F.col(f"_{c}").alias(c) for c in columns)
        ).toPandas()
        logger.info(
            "Performance decay on the %d labelled rows' labels and predictions collected "
            "from Spark.",
            len(pairs),
        )
        performance = performance_decay(
            problem,
            problem.label_values(pairs["_y"]),
            problem.prediction_of_columns(pairs),
            run_id=run_id,
            threshold=threshold,
            drops=plan["thresholds"]["performance_drop"],
        )
    return drift_report(
        plan,
        target=target,
        rows_batch=rows_batch,
        reference=reference,
        first_prediction=first,
        features=features,
        prediction=prediction,
        performance=performance,
        fairness=fairness,
    )
