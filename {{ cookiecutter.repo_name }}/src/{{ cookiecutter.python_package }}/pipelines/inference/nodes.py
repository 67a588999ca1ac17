"""Inference nodes: pick the model, score the validated batch.

The batch goes through the ingestion and validation pipelines themselves (see ``pipeline.py``),
with the same configuration as the training data: rows that break a row expectation are
quarantined with the reason, not scored. The model is the registered version with the champion
alias, else the one with the challenger alias (``inference.model``); when no model has either
(the default run's fairness gate flags the planted bias, so nothing is promoted), the latest
logged model is used, and the log and every prediction say so.
"""

import logging
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ...errors import ConfigError, DataError, check_keys
from ...modelling import (
    check_columns,
    decision_threshold_of,
    feature_columns,
    load_logged_model,
    model_inputs,
)
from ...problem import problem_of
from ...spark_engine import is_spark_frame

logger = logging.getLogger(__name__)

PARAMETERS_FILE = "conf/base/parameters_inference.yml"
SOURCES = ("alias", "version", "latest_run", "uri")
MODEL_KEYS = (
    "source",
    "registered_model_name",
    "alias",
    "version",
    "uri",
    "fallback_to_latest_run",
)


def check_inference_config(params: dict[str, Any]) -> dict[str, Any]:
    """Refuse a bad ``inference.model`` before any data is read; return the checked settings."""
    check_keys(params, ("experiment", "model", "keep_columns"), "inference", PARAMETERS_FILE)
    model = dict(params["model"] or {})
    check_keys(model, MODEL_KEYS, "inference.model", PARAMETERS_FILE)
    source = model["source"]
    if source not in SOURCES:
        raise ConfigError(
            f"inference.model.source in {PARAMETERS_FILE} is {source!r}; use one of {SOURCES}."
        )
    for needed, key in (("version", "version"), ("uri", "uri")):
        if source == needed and not model.get(key):
            raise ConfigError(
                f"inference.model.source is {source!r} but inference.model.{key} in "
                f"{PARAMETERS_FILE} is empty."
            )
    if not model.get("registered_model_name") and source in ("alias", "version"):
        raise ConfigError(f"inference.model.registered_model_name in {PARAMETERS_FILE} is empty.")
    return {**params, "model": model}


def _latest_logged_model(experiment_name: str) -> Any:
    """The latest model logged by a complete run: FINISHED, with every gate recorded.

    A model logged by a run that was then interrupted (KILLED) or failed is skipped.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    from ...run_status import is_complete

    experiment = mlflow.get_experiment_by_name(experiment_name)
    models = []
    if experiment is not None:
        models = mlflow.search_logged_models(
            experiment_ids=[experiment.experiment_id],
            order_by=[{"field_name": "creation_time", "ascending": False}],
            max_results=100,
            output_format="list",
        )
    client = mlflow.MlflowClient()
    for model in models:
        if not model.source_run_id:
            continue
        try:
            run = client.get_run(model.source_run_id)
        except MlflowException:  # its run was deleted
            continue
        # The run's scikit-learn model, not its validating served model (serving_model).
        trained = run.data.tags.get("training.model_uri", f"models:/{model.model_id}")
        if is_complete(run) and trained == f"models:/{model.model_id}":
            return model
    raise DataError(
        f"No model logged by a FINISHED run with its gates in MLflow experiment "
        f"{experiment_name!r} (tracking store {mlflow.get_tracking_uri()}): run `kedro run` "
        "first (interrupted or failed runs do not count)."
    )


def _first_alias(client: Any, name: str, aliases: list[str]) -> tuple[Any, str]:
    """The version of the first alias that is set, and that alias; else the last lookup's error."""
    from mlflow.exceptions import MlflowException

    error = MlflowException(f"no alias given for {name}")
    for alias in aliases:
        try:
            return client.get_model_version_by_alias(name, alias), alias
        except MlflowException as missing:
            error = missing
    raise error


def resolve_model(settings: dict[str, Any]) -> dict[str, Any]:
    """Which model to score with: its URI, where it came from, its version and training run."""
    import mlflow
    from mlflow.exceptions import MlflowException

    config = settings["model"]
    source = config["source"]
    name = config["registered_model_name"]
    client = mlflow.MlflowClient()
    if source in ("alias", "version"):
        # An alias, or a list of them tried in order (champion, else challenger).
        aliases = [config["alias"]] if isinstance(config["alias"], str) else config["alias"]
        try:
            if source == "alias":
                version, alias = _first_alias(client, name, list(aliases or []))
            else:
                version = client.get_model_version(name, str(config["version"]))
        except MlflowException as error:
            wanted = (
                " or ".join(f"alias {a!r}" for a in aliases)
                if source == "alias"
                else f"version {config['version']}"
            )
            if not config["fallback_to_latest_run"]:
                raise DataError(
                    f"Registered model {name!r} has no {wanted} in {mlflow.get_tracking_uri()} "
                    f"({str(error)[:200]}); see inference.model in {PARAMETERS_FILE}."
                ) from None
            model = _latest_logged_model(settings["experiment"])
            logger.warning(
                "No registered model %r with %s (the latest run was not promoted?): scoring "
                "with the LATEST RUN's model %s (run %s) instead.",
                name,
                wanted,
                f"models:/{model.model_id}",
                model.source_run_id,
            )
            return {
                "model_uri": f"models:/{model.model_id}",
                "model_source": f"latest_run (no {wanted} on {name})",
                "model_version": "",
                "model_run_id": model.source_run_id or "",
            }
        selector = f"@{alias}" if source == "alias" else ""
        logger.info(
            "Scoring with registered model %s version %s%s.", name, version.version, selector
        )
        return {
            "model_uri": f"models:/{name}/{version.version}",
            "model_source": f"{source} {name}{selector or ' v' + str(version.version)}",
            "model_version": str(version.version),
            "model_run_id": version.run_id or "",
        }
    if source == "uri":
        uri = str(config["uri"])
        logger.info("Scoring with the configured model %s.", uri)
        return {"model_uri": uri, "model_source": "uri", "model_version": "", "model_run_id": ""}
    model = _latest_logged_model(settings["experiment"])
    logger.info("Scoring with the latest run's model models:/%s.", model.model_id)
    return {
        "model_uri": f"models:/{model.model_id}",
        "model_source": "latest_run",
        "model_version": "",
        "model_run_id": model.source_run_id or "",
    }


def score_batch(
    batch: pd.DataFrame,
    model_info: dict[str, Any],
    training: dict[str, Any],
    dataset: dict[str, Any],
    settings: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Predictions for the validated rows, each with the model's URI, version, run and time.

    The prediction columns are the problem type's (``problem.prediction_columns``: binary,
    probability, prediction and decision_threshold, the threshold of the model's own training
    run (``modelling.decision_threshold_of``); multiclass, the predicted class and
    probability_<class>; regression, the predicted number). A Spark DataFrame (``--env spark``)
    is scored in Spark (``spark.py``): the same columns and metrics, with the model run by
    ``mlflow.pyfunc.spark_udf``.
    """
    problem = problem_of(dataset)
    threshold = decision_threshold_of(model_info["model_run_id"], training)
    numeric, categorical = feature_columns(training)
    keep_columns = list(settings.get("keep_columns") or [])
    if is_spark_frame(batch):
        from .spark import score_spark_batch

        predictions, metrics = score_spark_batch(
            batch,
            model_info,
            problem=problem,
            numeric=numeric,
            categorical=categorical,
            threshold=threshold,
            keep_columns=keep_columns,
        )
        logger.info(
            "Scored %d rows on Spark with %s (%s): %s.",
            metrics["rows_scored"],
            model_info["model_uri"],
            model_info["model_source"],
            problem.describe_scoring({k: v for k, v in metrics.items() if k != "rows_scored"}),
        )
        return predictions, _inference_record(metrics, model_info)
    prediction = problem.predict_nothing()
    if len(batch):
        check_columns(batch, numeric + categorical, "training.features", "scoring_batch")
        model = load_logged_model(model_info["model_uri"])
        prediction = problem.predict(model, model_inputs(batch, numeric, categorical))
    keep = [c for c in keep_columns if c in batch.columns]
    predictions = batch[keep].reset_index(drop=True).copy()
    for column, values in problem.prediction_columns(prediction, threshold).items():
        predictions[column] = values
    scored_at = datetime.now(UTC).isoformat(timespec="seconds")
    for column, value in model_info.items():
        predictions[column] = value
    predictions["scored_at"] = scored_at
    summary = problem.scoring_summary(predictions)
    logger.info(
        "Scored %d rows with %s (%s): %s.",
        len(predictions),
        model_info["model_uri"],
        model_info["model_source"],
        problem.describe_scoring(summary),
    )
    return predictions, _inference_record({"rows_scored": len(predictions), **summary}, model_info)


def _inference_record(metrics: dict[str, Any], model_info: dict[str, Any]) -> dict[str, Any]:
    """The run record of a scoring: its metrics and the model's URI and source as tags."""
    return {
        "metrics": metrics,
        "tags": {
            "inference.model_uri": model_info["model_uri"],
            "inference.model_source": model_info["model_source"],
        },
    }
