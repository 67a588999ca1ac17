"""Inference nodes: validate a scoring batch like the training data, pick the model, score.

The batch goes through the same ingestion and the same validation suites as the training data
(``parameters_ingestion.yml``, ``parameters_validation.yml``): rows that break a row expectation
are quarantined with the reason, not scored. The model is the one the registry alias points at
(``inference.model``); when no model has that alias (the default run's fairness gate flags the
planted bias, so nothing is promoted), the latest logged model is used, and the log and every
prediction say so.
"""

import logging
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ConfigError, DataError
from ...gates import enforce_gate
from ...modelling import check_columns, feature_columns, model_inputs
from ..validation.nodes import quarantine_rows, validate_dataset

logger = logging.getLogger(__name__)

PARAMETERS_FILE = "conf/base/parameters_inference.yml"
SOURCES = ("alias", "version", "latest_run", "uri")


def check_inference_config(params: dict[str, Any]) -> dict[str, Any]:
    """Refuse a bad ``inference.model`` before any data is read; return the checked settings."""
    model = dict(params.get("model") or {})
    source = model.get("source", "alias")
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
    model["source"] = source
    model.setdefault("fallback_to_latest_run", True)
    return {**params, "model": model}


def validate_batch(
    applications: pd.DataFrame,
    bureau_records: pd.DataFrame,
    primary: pd.DataFrame,
    plan: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Run the training data's suites on the batch; split it into scorable and quarantined rows.

    A failed table expectation (or too many quarantined rows) ends the run as validation does
    with ``on_fail: stop``: a batch that does not look like the training data is not scored.
    """
    results = [
        validate_dataset(applications, plan, "raw_applications"),
        validate_dataset(bureau_records, plan, "raw_bureau_records"),
        validate_dataset(primary, plan, "primary_applications"),
    ]
    passed, quarantined, summary, record = quarantine_rows(primary, *results, plan)
    verdict = record["tags"]["gate.validation"]
    logger.info(
        "Scoring batch: %d rows, %d to score, %d quarantined (%s).",
        summary["rows_in"],
        summary["rows_passed"],
        summary["rows_quarantined"],
        verdict,
    )
    enforce_gate("batch validation", verdict, plan["on_fail"], summary["gate_reasons"], "log")
    metrics = {f"validation.{k}": v for k, v in record["metrics"].items() if "." not in k}
    return passed, quarantined, {"metrics": metrics, "tags": {"inference.validation": verdict}}


def _latest_logged_model(experiment_name: str) -> Any:
    import mlflow  # noqa: PLC0415

    experiment = mlflow.get_experiment_by_name(experiment_name)
    models = []
    if experiment is not None:
        models = mlflow.search_logged_models(
            experiment_ids=[experiment.experiment_id],
            order_by=[{"field_name": "creation_time", "ascending": False}],
            max_results=1,
            output_format="list",
        )
    if not models:
        raise DataError(
            f"No model has been logged in MLflow experiment {experiment_name!r} "
            f"(tracking store {mlflow.get_tracking_uri()}): run `kedro run` first."
        )
    return models[0]


def resolve_model(settings: dict[str, Any]) -> dict[str, Any]:
    """Which model to score with: its URI, where it came from, its version and training run."""
    import mlflow  # noqa: PLC0415
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    config = settings["model"]
    source = config["source"]
    name = config.get("registered_model_name")
    client = mlflow.MlflowClient()
    if source in ("alias", "version"):
        try:
            if source == "alias":
                version = client.get_model_version_by_alias(name, config.get("alias", "candidate"))
            else:
                version = client.get_model_version(name, str(config["version"]))
        except MlflowException as error:
            wanted = (
                f"alias {config.get('alias', 'candidate')!r}"
                if source == "alias"
                else f"version {config['version']}"
            )
            if not config.get("fallback_to_latest_run", True):
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
        selector = f"@{config.get('alias', 'candidate')}" if source == "alias" else ""
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


def load_model(model_uri: str) -> Any:
    """The scikit-learn model behind an MLflow model URI."""
    import mlflow  # noqa: PLC0415

    return mlflow.sklearn.load_model(model_uri)


def predict_positive(model: Any, frame: pd.DataFrame, training: dict[str, Any]) -> np.ndarray:
    """Probability of the positive class from the configured feature columns."""
    numeric, categorical = feature_columns(training)
    check_columns(frame, numeric + categorical, "training.features", "scoring batch")
    return model.predict_proba(model_inputs(frame, numeric, categorical))[:, 1]


def score_batch(
    batch: pd.DataFrame,
    model_info: dict[str, Any],
    training: dict[str, Any],
    settings: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Predictions for the validated rows, each with the model's URI, version, run and time."""
    model = load_model(model_info["model_uri"])
    probability = predict_positive(model, batch, training) if len(batch) else np.array([])
    threshold = float(training["decision_threshold"])
    keep = [c for c in settings.get("keep_columns") or [] if c in batch.columns]
    predictions = batch[keep].reset_index(drop=True).copy()
    predictions["default_probability"] = probability
    predictions["predicted_default"] = (probability >= threshold).astype("int64")
    predictions["decision_threshold"] = threshold
    scored_at = datetime.now(UTC).isoformat(timespec="seconds")
    for column, value in model_info.items():
        predictions[column] = value
    predictions["scored_at"] = scored_at
    logger.info(
        "Scored %d rows with %s (%s): %.1f%% predicted to default.",
        len(predictions),
        model_info["model_uri"],
        model_info["model_source"],
        100 * float(predictions["predicted_default"].mean()) if len(predictions) else 0.0,
    )
    record = {
        "metrics": {
            "rows_scored": len(predictions),
            "predicted_default_rate": float(predictions["predicted_default"].mean())
            if len(predictions)
            else 0.0,
            "mean_default_probability": float(probability.mean()) if len(probability) else 0.0,
        },
        "tags": {
            "inference.model_uri": model_info["model_uri"],
            "inference.model_source": model_info["model_source"],
        },
    }
    return predictions, record
