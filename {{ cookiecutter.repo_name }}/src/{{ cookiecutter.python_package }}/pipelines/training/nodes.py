"""Training nodes: a reproducible split, the configured model, held-out metrics and plots."""

import logging
from typing import Any

import numpy as np
import pandas as pd

from ...audit import frame_digest
from ...columns import ROW_POSITION
from ...decision import calibrated_candidate, check_decision_config, decision_threshold
from ...errors import ConfigError, check_keys
from ...modelling import (
    TRAINING_PARAMETERS,
    check_columns,
    feature_columns,
    model_inputs,
    sensitive_columns,
    thread_limit,
)
from ...problem import problem_of
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
    "decision",
    "metrics",
    "max_threads",
    "input_example_rows",
    "modelling_sample",
)


def training_metrics(params: dict[str, Any], dataset: dict[str, Any]) -> list[str]:
    """``training.metrics``, or the problem type's default metrics when it is null."""
    problem = problem_of(dataset)
    if params["metrics"] is None:
        return list(problem.DEFAULT_METRICS)
    return problem.check_metrics(params["metrics"], "training.metrics", TRAINING_PARAMETERS)


def build_candidate_model(params: dict[str, Any], dataset: dict[str, Any]) -> Any:
    """The unfitted candidate: preprocessing + the estimator of ``training.candidate`` (its
    class null: the problem type's default, see ``problem/``).

    Runs on configuration alone, so a bad import path, keyword or feature list is refused
    before any data is read or any model is fitted.
    """
    problem = problem_of(dataset)
    # training.decision may be absent (a configuration from before it): the fixed threshold.
    present = tuple(k for k in TRAINING_KEYS if k != "decision" or "decision" in params)
    check_keys(params, present, "training", TRAINING_PARAMETERS)
    check_keys(
        params["split"], ("test_size", "seed", "stratify"), "training.split", TRAINING_PARAMETERS
    )
    training_metrics(params, dataset)
    split = params["split"]
    if not 0 < split["test_size"] < 1:
        raise ConfigError(
            f"training.split.test_size in {TRAINING_PARAMETERS} is {split['test_size']!r}; "
            "give a fraction between 0 and 1."
        )
    check_decision_config(params)
    return calibrated_candidate(params, problem)


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
    validated_table: Any, params: dict[str, Any], dataset: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The rows training, benchmarking and the fairness review work on, as a pandas table.

    Every validated row when there are at most ``training.modelling_sample.max_rows``; else a
    seeded sample of that size, stratified by the target for classes (each class keeps its
    share), a plain seeded sample for a number. A Spark
    table is sampled in Spark and only the sample is collected. The record gives the sample's
    size, the table's size and the sample's digest; the model card says which it was.
    """
    settings = check_modelling_sample(params)
    problem = problem_of(dataset)
    target, max_rows = params["target"], settings["max_rows"]
    if is_spark_frame(validated_table):
        from .spark import collect_modelling_sample

        table, total = collect_modelling_sample(validated_table, target, settings, problem)
    else:
        total = len(validated_table)
        table = validated_table
        if total > max_rows:
            from sklearn.model_selection import train_test_split

            labels = problem.target_values(validated_table, _INPUT)
            table, _ = train_test_split(
                validated_table,
                train_size=max_rows,
                random_state=settings["seed"],
                stratify=problem.stratify_by(labels),
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
            "training.modelling_sample": (
                ("stratified sample" if problem.is_classification else "random sample")
                if sampled
                else "all validated rows"
            ),
            "training.modelling_sample_sha256": frame_digest(table),
            "training.modelling_sample_seed": str(settings["seed"]),
        },
    }
    return table, record


def split_data(
    validated_table: pd.DataFrame, params: dict[str, Any], dataset: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Seeded split into a training set and a held-out set (all columns kept), stratified by
    class when ``training.split.stratify`` is true and the target is a class.

    The held-out ids are saved so benchmarking and the fairness review use exactly the rows
    the model never saw.
    """
    from sklearn.model_selection import train_test_split

    numeric, categorical = feature_columns(params)
    # The row's id, and its position in the main source (the id itself when id_column is null).
    id_columns = list(dict.fromkeys([params["id_column"] or ROW_POSITION, ROW_POSITION]))
    check_columns(validated_table, numeric + categorical, "training.features", _INPUT)
    check_columns(validated_table, id_columns[:1], "training.id_column", _INPUT)
    problem = problem_of(dataset)
    y = problem.target_values(validated_table, _INPUT)
    split = params["split"]
    stratify = problem.stratify_by(y) if split["stratify"] else None
    if stratify is not None:
        problem.check_folds(y, 2, f"training.split.stratify in {TRAINING_PARAMETERS}")
    training_set, held_out_set = train_test_split(
        validated_table,
        test_size=split["test_size"],
        random_state=split["seed"],
        stratify=stratify,
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


def train_model(
    training_set: pd.DataFrame,
    candidate_model: Any,
    params: dict[str, Any],
    dataset: dict[str, Any],
) -> Any:
    """Fit the candidate model on the training set."""
    from sklearn.base import clone

    numeric, categorical = feature_columns(params)
    X = model_inputs(training_set, numeric, categorical)
    y = problem_of(dataset).target_values(training_set, "training_set")
    model = clone(candidate_model)
    logger.info(
        "Fitting %s on %d rows, %d numeric and %d categorical features.",
        type(model.steps[-1][1]).__name__,
        len(X),
        len(numeric),
        len(categorical),
    )
    with thread_limit(params["max_threads"]):
        model.fit(X, y)
    return model


def predictions_of(
    model: Any, frame: pd.DataFrame, params: dict[str, Any], problem: Any, dataset_name: str
) -> np.ndarray:
    """The model's predictions for ``frame`` as the problem type defines them (``problem/``)."""
    numeric, categorical = feature_columns(params)
    check_columns(frame, numeric + categorical, "training.features", dataset_name)
    return problem.predict(model, model_inputs(frame, numeric, categorical))


def evaluate_model(  # noqa: PLR0917  (a Kedro node: inputs come positionally)
    trained_model: Any,
    training_set: pd.DataFrame,
    held_out_set: pd.DataFrame,
    decision: dict[str, Any],
    params: dict[str, Any],
    dataset: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Metrics on the held-out set (``test.*``) and on the training set (``train.*``).

    The problem type's metrics (``training.metrics``, null: its defaults) and its details (per
    class for a multiclass problem). A large gap between the two sets is over-fitting; the
    held-out figures are the ones to quote.
    """
    problem = problem_of(dataset)
    names = training_metrics(params, dataset)
    threshold = decision_threshold(decision)
    records = []
    for frame, name in ((held_out_set, "held_out_set"), (training_set, "training_set")):
        y = problem.target_values(frame, name)
        prediction = predictions_of(trained_model, frame, params, problem, name)
        metrics = problem.score(names, y, prediction, threshold)
        metrics |= problem.detail_metrics(y, prediction, threshold)
        metrics |= {"rows": len(frame), **problem.describe_labels(y)}
        records.append({"metrics": metrics})
    test = records[0]["metrics"]
    logger.info("Held-out metrics: %s", {k: round(v, 4) for k, v in test.items()})
    return records[0], records[1]


def plot_model_performance(
    trained_model: Any,
    held_out_set: pd.DataFrame,
    decision: dict[str, Any],
    params: dict[str, Any],
    dataset: dict[str, Any],
) -> dict[str, Any]:
    """The problem type's held-out plots (``problem/``): ROC, precision-recall, confusion
    matrix and calibration for two classes; a normalised confusion matrix and per-class
    precision-recall for several; predicted against actual and residuals for a number."""
    problem = problem_of(dataset)
    y = problem.target_values(held_out_set, "held_out_set")
    prediction = predictions_of(trained_model, held_out_set, params, problem, "held_out_set")
    return problem.plots(y, prediction, decision_threshold(decision))


def prepare_model_for_mlflow(
    trained_model: Any, held_out_set: pd.DataFrame, params: dict[str, Any], dataset: dict[str, Any]
) -> dict[str, Any]:
    """The model with a few input rows, from which MLflow records its signature and example,
    and the method MLflow's pyfunc flavour calls (``predict_proba`` for classes, ``predict``
    for a number).

    The example rows are stored with the model and are real people's features: keep
    ``input_example_rows`` small (at least 1).
    """
    numeric, categorical = feature_columns(params)
    rows = max(1, int(params["input_example_rows"]))
    example = model_inputs(held_out_set.head(rows), numeric, categorical)
    return {
        "model": trained_model,
        "input_example": example.reset_index(drop=True),
        "predict_fn": problem_of(dataset).PREDICT_METHOD,
    }
