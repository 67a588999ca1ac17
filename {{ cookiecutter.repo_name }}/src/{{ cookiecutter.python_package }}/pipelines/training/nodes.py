"""Training nodes: a reproducible split, the configured model, held-out metrics and plots."""

import logging
from typing import Any

import numpy as np
import pandas as pd

from ...audit import frame_digest
from ...columns import ROW_POSITION
from ...errors import ConfigError, DataError, check_keys
from ...modelling import (
    TRAINING_PARAMETERS,
    build_estimator,
    build_model,
    check_columns,
    check_metrics,
    feature_columns,
    model_inputs,
    predict_positive,
    score,
    sensitive_columns,
    target_values,
    thread_limit,
)
from ...spark_engine import is_spark_frame

logger = logging.getLogger(__name__)

_INPUT = "validated_table"
TRAINING_KEYS = (
    "target",
    "id_column",
    "split",
    "features",
    "sensitive_features",
    "use_sensitive_features",
    "preprocessing",
    "candidate",
    "decision_threshold",
    "metrics",
    "max_threads",
    "input_example_rows",
    "modelling_sample",
)


def build_candidate_model(params: dict[str, Any]) -> Any:
    """The unfitted candidate: preprocessing + the estimator of ``training.candidate``.

    Runs on configuration alone, so a bad import path, keyword or feature list is refused
    before any data is read or any model is fitted.
    """
    check_keys(params, TRAINING_KEYS, "training", TRAINING_PARAMETERS)
    check_keys(
        params["split"], ("test_size", "seed", "stratify"), "training.split", TRAINING_PARAMETERS
    )
    check_metrics(params["metrics"], "training.metrics", TRAINING_PARAMETERS)
    split = params["split"]
    if not 0 < split["test_size"] < 1:
        raise ConfigError(
            f"training.split.test_size in {TRAINING_PARAMETERS} is {split['test_size']!r}; "
            "give a fraction between 0 and 1."
        )
    threshold = params["decision_threshold"]
    if (
        not isinstance(threshold, int | float)
        or isinstance(threshold, bool)
        or not 0 < threshold < 1
    ):
        raise ConfigError(
            f"training.decision_threshold in {TRAINING_PARAMETERS} is {threshold!r}; give a "
            "probability strictly between 0 and 1 (e.g. 0.5)."
        )
    estimator = build_estimator(
        params["candidate"], "training.candidate", TRAINING_PARAMETERS, split["seed"]
    )
    return build_model(params, estimator)


def check_modelling_sample(params: dict[str, Any]) -> dict[str, Any]:
    """``training.modelling_sample``, checked: ``max_rows`` (a positive whole number), ``seed``."""
    settings = params.get("modelling_sample")
    check_keys(settings, ("max_rows", "seed"), "training.modelling_sample", TRAINING_PARAMETERS)
    max_rows = settings["max_rows"]
    if not isinstance(max_rows, int) or isinstance(max_rows, bool) or max_rows < 10:
        raise ConfigError(
            f"training.modelling_sample.max_rows in {TRAINING_PARAMETERS} is {max_rows!r}; give "
            "a whole number of rows (at least 10), e.g. 500000."
        )
    return dict(settings)


def sample_for_modelling(
    validated_table: Any, params: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The rows training, benchmarking and the fairness review work on, as a pandas table.

    Every validated row when there are at most ``training.modelling_sample.max_rows``; else a
    seeded sample of that size, stratified by the target (each class keeps its share). A Spark
    table is sampled in Spark and only the sample is collected. The record gives the sample's
    size, the table's size and the sample's digest; the model card says which it was.
    """
    settings = check_modelling_sample(params)
    target, max_rows = params["target"], settings["max_rows"]
    if is_spark_frame(validated_table):
        from .spark import collect_modelling_sample

        table, total = collect_modelling_sample(validated_table, target, settings)
    else:
        total = len(validated_table)
        table = validated_table
        if total > max_rows:
            from sklearn.model_selection import train_test_split

            labels = target_values(validated_table, target, _INPUT)
            table, _ = train_test_split(
                validated_table,
                train_size=max_rows,
                random_state=settings["seed"],
                stratify=labels,
            )
            table = table.sort_values(ROW_POSITION).reset_index(drop=True)
    sampled = len(table) < total
    if sampled:
        logger.info(
            "Modelling on a seeded, stratified sample of %d of the %d validated rows.",
            len(table),
            total,
        )
    record = {
        "metrics": {"modelling_rows": len(table), "validated_rows": total},
        "tags": {
            "training.modelling_sample": "stratified sample" if sampled else "all validated rows",
            "training.modelling_sample_sha256": frame_digest(table),
            "training.modelling_sample_seed": str(settings["seed"]),
        },
    }
    return table, record


def split_data(
    validated_table: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Stratified, seeded split into a training set and a held-out set (all columns kept).

    The held-out ids are saved so benchmarking and the fairness review use exactly the rows
    the model never saw.
    """
    from sklearn.model_selection import train_test_split

    numeric, categorical = feature_columns(params)
    # The row's id, and its position in the main source (the id itself when id_column is null).
    id_columns = list(dict.fromkeys([params["id_column"] or ROW_POSITION, ROW_POSITION]))
    check_columns(validated_table, numeric + categorical, "training.features", _INPUT)
    check_columns(validated_table, id_columns[:1], "training.id_column", _INPUT)
    y = target_values(validated_table, params["target"], _INPUT)
    split = params["split"]
    if split["stratify"] and np.bincount(y).min() < 2:
        raise DataError(f"Dataset '{_INPUT}' has fewer than 2 rows of one class: cannot stratify.")
    training_set, held_out_set = train_test_split(
        validated_table,
        test_size=split["test_size"],
        random_state=split["seed"],
        stratify=y if split["stratify"] else None,
    )
    unused = [
        c
        for c in validated_table.columns
        if c not in {*numeric, *categorical, params["target"], *id_columns}
        and c not in (params["features"].get("drop") or [])
        and c not in sensitive_columns(params)
    ]
    if unused:
        logger.warning(
            "Columns %s are not model inputs and not listed under training.features.drop in %s.",
            unused,
            TRAINING_PARAMETERS,
        )
    logger.info(
        "Split %d rows: %d training, %d held out (seed %s).",
        len(validated_table),
        len(training_set),
        len(held_out_set),
        split["seed"],
    )
    held_out_ids = held_out_set[id_columns].reset_index(drop=True)
    return training_set.reset_index(drop=True), held_out_set.reset_index(drop=True), held_out_ids


def train_model(training_set: pd.DataFrame, candidate_model: Any, params: dict[str, Any]) -> Any:
    """Fit the candidate model on the training set."""
    from sklearn.base import clone

    numeric, categorical = feature_columns(params)
    X = model_inputs(training_set, numeric, categorical)
    y = target_values(training_set, params["target"], "training_set")
    model = clone(candidate_model)
    logger.info(
        "Fitting %s on %d rows, %d numeric and %d categorical features.",
        params["candidate"]["class"],
        len(X),
        len(numeric),
        len(categorical),
    )
    with thread_limit(params["max_threads"]):
        model.fit(X, y)
    return model


def evaluate_model(
    trained_model: Any,
    training_set: pd.DataFrame,
    held_out_set: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Metrics on the held-out set (``test.*``) and on the training set (``train.*``).

    A large gap between the two is over-fitting; the held-out figures are the ones to quote.
    """
    records = []
    for frame, name in ((held_out_set, "held_out_set"), (training_set, "training_set")):
        y = target_values(frame, params["target"], name)
        probability = predict_positive(trained_model, frame, *feature_columns(params), name)
        metrics = score(params["metrics"], y, probability, params["decision_threshold"])
        metrics |= {"rows": len(frame), "positive_rate": float(y.mean())}
        records.append({"metrics": metrics})
    test = records[0]["metrics"]
    logger.info("Held-out metrics: %s", {k: round(v, 4) for k, v in test.items()})
    return records[0], records[1]


def plot_model_performance(
    trained_model: Any, held_out_set: pd.DataFrame, params: dict[str, Any]
) -> tuple[Any, Any, Any, Any]:
    """ROC, precision-recall, confusion-matrix and calibration plots on the held-out set."""
    from matplotlib.figure import Figure
    from sklearn.calibration import CalibrationDisplay
    from sklearn.metrics import (
        ConfusionMatrixDisplay,
        PrecisionRecallDisplay,
        RocCurveDisplay,
    )

    y = target_values(held_out_set, params["target"], "held_out_set")
    probability = predict_positive(
        trained_model, held_out_set, *feature_columns(params), "held_out_set"
    )
    decision = (probability >= params["decision_threshold"]).astype(int)
    figures = []
    for title, draw in (
        ("ROC curve", lambda ax: RocCurveDisplay.from_predictions(y, probability, ax=ax)),
        (
            "Precision-recall curve",
            lambda ax: PrecisionRecallDisplay.from_predictions(y, probability, ax=ax),
        ),
        (
            f"Confusion matrix (threshold {params['decision_threshold']})",
            lambda ax: ConfusionMatrixDisplay.from_predictions(y, decision, ax=ax, colorbar=False),
        ),
        (
            "Calibration",
            lambda ax: CalibrationDisplay.from_predictions(
                y, probability, n_bins=10, strategy="quantile", ax=ax
            ),
        ),
    ):
        figure = Figure(figsize=(5, 4.5), layout="constrained")
        ax = figure.subplots()
        draw(ax)
        ax.set_title(f"{title}, held-out set (n={len(y)})")
        figures.append(figure)
    return tuple(figures)


def prepare_model_for_mlflow(
    trained_model: Any, held_out_set: pd.DataFrame, params: dict[str, Any]
) -> dict[str, Any]:
    """The model with a few input rows, from which MLflow records its signature and example.

    The example rows are stored with the model and are real people's features: keep
    ``input_example_rows`` small (at least 1).
    """
    numeric, categorical = feature_columns(params)
    rows = max(1, int(params["input_example_rows"]))
    example = model_inputs(held_out_set.head(rows), numeric, categorical)
    return {"model": trained_model, "input_example": example.reset_index(drop=True)}
