"""The served model's work: one request's rows parsed and validated as a batch is, then scored.

``mlflow models serve`` serves the model that training logs as ``serving_model``
(``serving_model.ValidatingModel``): for each row of a request it answers either the
prediction columns of the problem type (``problem/``: the positive class's probability and
the decision, the class and each class's probability, or the predicted number) or the reasons
the row is refused. It reuses the batch's own
functions: ingestion's parsing (``parse_columns``, ``add_ratios``) and validation's suites and
quarantine (``validate_dataset``, ``quarantine_rows``), so the reasons are the batch quarantine's
``<dataset>.<expectation id>`` strings.

A request holds rows of the main source, its values as text as they are in the source file
(JSON numbers are accepted too), plus the related sources' columns already summarised per key,
as ingestion joins them (the aggregations and presence columns of
``ingestion.related_sources``): a request cannot carry whole related tables. What a request
cannot be checked for, and is not: ``table`` expectations (they judge a batch, not a row), the
expectations on the target (a request has no label), and the related sources' raw suites.
"""

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from .columns import ROW_POSITION, normalise_column_names
from .datasets import RUN_METRICS
from .errors import DataError
from .pipelines.ingestion.nodes import (
    BOOLEAN_WORDS,
    add_ratios,
    check_ingestion_config,
    parse_columns,
)
from .pipelines.validation.nodes import (
    REASON_SEPARATOR,
    check_validation_config,
    quarantine_rows,
    validate_dataset,
)
from .pipelines.validation.suites import PRIMARY_TABLE, _named_columns

# Columns of an answer besides the request's kept columns and the prediction columns.
REASONS = "quarantine_reasons"
REQUEST = "request"
# What the served model needs besides the scikit-learn model's own requirements.
SERVING_REQUIREMENTS = ("cloudpickle", "kedro", "great_expectations")

logger = logging.getLogger(__name__)


def _serving_suite(config: dict[str, Any], target: str) -> dict[str, Any]:
    """A suite with only the row expectations a request can be held to (none on the target)."""
    expectations = [
        entry
        for entry in config["expectations"]
        if entry["severity"] == "row" and target not in _named_columns(entry["kwargs"])
    ]
    columns = [c for c in config["columns"] if c != target]
    return {**config, "columns": columns, "expectations": expectations}


def serving_plan(
    ingestion: dict[str, Any],
    validation: dict[str, Any],
    *,
    numeric: list[str],
    categorical: list[str],
    decision_threshold: float,
    keep_columns: list[str],
) -> dict[str, Any]:
    """What the served model needs, from the checked ingestion and validation plans (the
    ingestion plan holds the ``dataset`` section: the problem type)."""
    target = ingestion["target"]["column"]
    main = f"raw_{ingestion['main_source']}"
    related: dict[str, str] = {}
    for spec in ingestion["related_sources"].values():
        for output in spec["aggregations"]:
            related[output] = "number"
        related[spec["presence_column"]] = "boolean"
    return {
        "main_dataset": main,
        "target": target,
        "column_types": {c: t for c, t in ingestion["column_types"].items() if c != target},
        "related_columns": related,
        "ratios": ingestion["ratios"],
        "suites": {
            dataset: _serving_suite(validation["datasets"][dataset], target)
            for dataset in (main, PRIMARY_TABLE)
        },
        "numeric": list(numeric),
        "categorical": list(categorical),
        "decision_threshold": float(decision_threshold),
        "dataset": ingestion["dataset"],
        "keep_columns": [c for c in keep_columns or [] if c != target],
    }


def as_text(value: Any) -> Any:
    """A request value as the source file holds it: text; missing (None, NaN, "") stays missing.

    JSON numbers become their text; a float that is a whole number loses its ``.0`` (JSON
    and pandas turn 35 into 35.0 when a column has a null).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return np.nan
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    text = str(value)
    return text if text != "" else np.nan


def _related_values(frame: pd.DataFrame, related: dict[str, str]) -> tuple[dict, list[list[str]]]:
    """The summarised related columns typed, and per row the request-level reasons."""
    values, reasons = {}, [[] for _ in range(len(frame))]
    for column, kind in related.items():
        given = frame[column]
        if kind == "number":
            typed = pd.to_numeric(given, errors="coerce").astype("float64")
            bad = given.notna() & typed.isna()
            reason = f"{REQUEST}.{column} is a number"
        else:
            words = given.map(lambda v: BOOLEAN_WORDS.get(str(v).strip().lower(), None))
            bad = words.isna()
            typed = words.fillna(False).astype(bool)
            reason = f"{REQUEST}.{column} is true or false"
        for position in np.flatnonzero(bad.to_numpy()):
            reasons[position].append(reason)
        values[column] = typed.to_numpy()
    return values, reasons


def answer_rows(request: pd.DataFrame, plan: dict[str, Any], model: Any) -> pd.DataFrame:
    """One answer per request row, in order: the prediction columns, or the reasons refused.

    A request without a needed column is refused whole (DataError naming them).
    """
    from .modelling import model_inputs
    from .problem import problem_of

    frame = normalise_column_names(request).reset_index(drop=True)
    main_columns, related = list(plan["column_types"]), plan["related_columns"]
    missing = [c for c in [*main_columns, *related] if c not in frame.columns]
    if missing:
        raise DataError(
            f"The request has no column(s) {missing}: each row needs the main source's "
            f"columns {main_columns} and the summarised related columns {list(related)}."
        )
    if frame.empty:
        raise DataError("The request has no rows.")
    raw = pd.DataFrame({c: pd.Series(frame[c].map(as_text), dtype="str") for c in main_columns})
    suites = plan["suites"]
    main = plan["main_dataset"]
    validation = {
        "datasets": suites,
        "main_dataset": main,
        "max_quarantined_share": 1.0,
        "report_folder": "",
    }
    results = [validate_dataset(raw, validation, main)] if suites[main]["expectations"] else []
    primary = parse_columns(raw, plan["column_types"], REQUEST)
    primary.insert(0, ROW_POSITION, np.arange(len(primary), dtype="int64"))
    related_values, request_reasons = _related_values(frame, related)
    primary = add_ratios(primary.assign(**related_values), plan["ratios"])
    if suites[PRIMARY_TABLE]["expectations"]:
        results.append(validate_dataset(primary, validation, PRIMARY_TABLE))
    _, quarantined, _, _ = quarantine_rows(primary, validation, *results)
    reasons = [[] for _ in range(len(primary))]
    for position, text in zip(quarantined[ROW_POSITION], quarantined[REASONS], strict=True):
        reasons[int(position)] = text.split(REASON_SEPARATOR)
    reasons = [r + extra for r, extra in zip(reasons, request_reasons, strict=True)]
    refused = np.array([bool(r) for r in reasons])
    passed = primary[~refused]
    problem = problem_of(plan["dataset"])
    columns: dict[str, Any] = {}
    if len(passed):
        inputs = model_inputs(passed, plan["numeric"], plan["categorical"])
        prediction = problem.predict(model, inputs)
        columns = problem.prediction_columns(prediction, plan["decision_threshold"])
    else:
        empty = problem.prediction_columns(problem.predict_nothing(), plan["decision_threshold"])
        columns = {name: [] for name in empty}
    keep = [c for c in plan["keep_columns"] if c in primary.columns]
    kept = primary[keep].copy()
    for column in kept.columns:
        if pd.api.types.is_datetime64_any_dtype(kept[column]):
            kept[column] = kept[column].astype("str").where(kept[column].notna())
    answer = kept.astype(object).where(kept.notna(), None)
    # object columns: a refused row's prediction is JSON null, not NaN
    for name, given in columns.items():
        values = np.broadcast_to(np.asarray(given, dtype=object), (int((~refused).sum()),))
        column = np.full(len(answer), None, dtype=object)
        column[~refused] = [v.item() if isinstance(v, np.generic) else v for v in values]
        answer[name] = pd.Series(column, dtype=object, index=answer.index)
    answer[REASONS] = pd.Series(
        [REASON_SEPARATOR.join(r) if r else None for r in reasons], dtype=object, index=answer.index
    )
    return answer.reset_index(drop=True)


def prepare_serving_model(  # noqa: PLR0917  (a Kedro node: inputs come positionally)
    logged_model: Any,
    ingestion: dict[str, Any],
    validation: dict[str, Any],
    training: dict[str, Any],
    keep_columns: list[str],
    dataset: dict[str, Any],
) -> dict[str, Any]:
    """The plan of the served model, from the same configuration as the batch pipeline.

    ``logged_model`` (the scikit-learn model as logged) orders this after its logging and
    tells the requirements.
    """
    from .modelling import feature_columns

    numeric, categorical = feature_columns(training)
    return {
        "model": logged_model,
        "plan": serving_plan(
            check_ingestion_config(ingestion, dataset),
            check_validation_config(validation, ingestion, dataset),
            numeric=numeric,
            categorical=categorical,
            decision_threshold=training["decision_threshold"],
            keep_columns=keep_columns,
        ),
    }


class MlflowServingModelDataset(AbstractDataset[dict[str, Any], Any]):
    """Log the validating served model (``serving_model.ValidatingModel``) to the active run.

    Save ``{"model": fitted_model, "plan": serving_plan}``. The pyfunc model holds the plan, the
    run's logged scikit-learn model (tag ``training.model_uri``) as its artifact ``model``, and
    the project's package as code (it runs the project's parsing and validation). Its
    requirements are the scikit-learn model's pins (``MlflowSklearnModelDataset``) plus
    ``SERVING_REQUIREMENTS`` at their installed versions: no inference, no ``uv export``.
    ``linked_metrics`` as for ``MlflowSklearnModelDataset``.
    """

    def __init__(
        self,
        *,
        name: str = "serving_model",
        linked_metrics: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        self._name = name
        self._linked_metrics = list(linked_metrics or [])
        self.metadata = metadata
        self.model_uri: str | None = None

    def requirements(self, model: Any) -> list[str]:
        """``name==version`` of what the served model needs, from the installed environment."""
        from importlib import metadata

        import mlflow

        from .modelling import MlflowSklearnModelDataset

        serialization = getattr(
            mlflow.sklearn, "_get_default_serialization_format", lambda: "skops"
        )()
        pins = MlflowSklearnModelDataset().requirements(model, serialization)
        known = {pin.split("==")[0].lower().replace("_", "-") for pin in pins}
        for distribution in SERVING_REQUIREMENTS:
            if distribution.lower().replace("_", "-") not in known:
                pins.append(f"{distribution}=={metadata.version(distribution)}")
        return pins

    def _save(self, data: dict[str, Any]) -> None:
        import mlflow

        from .serving_model import ValidatingModel

        run = mlflow.active_run()
        if run is None:
            logger.info("No active MLflow run: model %r not logged.", self._name)
            return
        model_uri = (
            mlflow.MlflowClient().get_run(run.info.run_id).data.tags.get("training.model_uri")
        )
        if not model_uri:
            raise DatasetError(
                "The run has no tag training.model_uri: log the scikit-learn model "
                "(catalog entry mlflow_model) before the served model."
            )
        info = mlflow.pyfunc.log_model(
            name=self._name,
            python_model=ValidatingModel(data["plan"], answer_rows),
            artifacts={"model": model_uri},
            code_paths=[str(Path(__file__).resolve().parent)],
            pip_requirements=self.requirements(data["model"]),
        )
        self.model_uri = info.model_uri
        RUN_METRICS.link(run.info.run_id, info.model_id, self._linked_metrics)
        mlflow.set_tag("training.serving_model_uri", info.model_uri)
        logger.info("Validating served model logged to MLflow as %s", info.model_uri)

    def _load(self) -> Any:
        import mlflow

        if self.model_uri is None:
            raise DatasetError(f"No model {self._name!r} has been logged in this session.")
        return mlflow.pyfunc.load_model(self.model_uri)

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name}
