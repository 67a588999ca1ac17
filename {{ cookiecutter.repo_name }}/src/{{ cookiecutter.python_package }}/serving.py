"""The served model's work: one request's rows parsed and validated as a batch is, then scored.

``mlflow models serve`` serves the model that training logs as ``serving_model``
(``serving_model.ValidatingModel``): for each row of a request it answers either the
prediction columns of the problem type (``problem/``: the positive class's probability and
the decision, the class and each class's probability, or the predicted number) or the reasons
the row is refused. It reuses the batch's own
functions: ingestion's parsing (``parsed_columns``, ``ratio_values``) and validation's suites, their
row expectations compiled once into vectorised checks (``row_checks.compile_row_checks``, the
same verdicts as Great Expectations, without its cost per call), so the reasons are the batch
quarantine's ``<dataset>.<expectation id>`` strings.

A request holds rows of the main source, its values as text as they are in the source file
(JSON numbers are accepted too), plus the related sources' columns already summarised per key,
as ingestion joins them (the aggregations and presence columns of
``ingestion.related_sources``): a request cannot carry whole related tables. What a request
cannot be checked for, and is not: ``table`` expectations (they judge a batch, not a row), the
expectations on the target (a request has no label), and the related sources' raw suites; the
plan lists them (``unchecked_expectations``).

A request that is wrong as a whole is refused before any row is checked (``check_request``:
HTTP 400 from the served model, the message naming the problem): a missing or an unknown column,
no rows or more than ``MAX_REQUEST_ROWS``, a value that is not one value (a list, an object), an
infinite number, text where a summarised related column holds numbers or true/false.
"""

import json
import logging
import math
import sys
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
    check_ingestion_config,
    parsed_columns,
    ratio_values,
)
from .pipelines.validation.nodes import REASON_SEPARATOR, check_validation_config
from .pipelines.validation.row_checks import RowChecks, compile_row_checks
from .pipelines.validation.suites import PRIMARY_TABLE, _named_columns

# Columns of an answer besides the request's kept columns and the prediction columns.
REASONS = "quarantine_reasons"
REQUEST = "request"
# What the served model needs besides the scikit-learn model's own requirements.
SERVING_REQUIREMENTS = ("kedro", "great_expectations")
# The most rows one request may hold: a larger batch is the inference pipeline's work.
MAX_REQUEST_ROWS = 10_000
# How many offending values or row numbers a refusal quotes.
QUOTED = 3
# Exact types of request cells, for the checks that need not look at each cell.
_SCALARS = {str, int, float, bool, type(None)}
_NEVER_FLOAT = {str, int, bool, type(None)}
_FLOAT_OR_NULL = {float, type(None)}
_NEVER_MISSING = {str, int, bool}
_NUMBER_OR_NULL = {int, float, type(None)}
_TEXT_OR_NULL = {str, type(None)}
_LARGEST = sys.float_info.max

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


def unchecked_expectations(
    datasets: dict[str, dict[str, Any]], served: tuple[str, ...], target: str
) -> list[dict[str, str]]:
    """The expectations a request is not checked for (``dataset``, ``id``, ``type``, ``why``):
    ``table`` ones (they judge a batch), those on the target (a request has no label) and the
    related sources' raw suites (a request holds their summaries, not their records)."""
    unchecked = []
    for dataset, config in datasets.items():
        if dataset not in served:
            unchecked += [
                {"dataset": dataset, "id": e["id"], "type": e["type"], "why": "related source"}
                for e in config["expectations"]
            ]
            continue
        unchecked += [
            {**entry, "why": "table"} for entry in compile_row_checks(config, dataset).unchecked
        ]
        unchecked += [
            {"dataset": dataset, "id": e["id"], "type": e["type"], "why": "target"}
            for e in config["expectations"]
            if e["severity"] == "row" and target in _named_columns(e["kwargs"])
        ]
    return unchecked


_COMPILED: dict[int, tuple[Any, dict[str, RowChecks]]] = {}


def row_checks_of(plan: dict[str, Any]) -> dict[str, RowChecks]:
    """The plan's suites compiled into row checks, once per plan (kept with the plan's suites)."""
    suites = plan["suites"]
    kept = _COMPILED.get(id(suites))
    if kept is None or kept[0] is not suites:
        kept = (suites, {name: compile_row_checks(s, name) for name, s in suites.items()})
        _COMPILED[id(suites)] = kept
    return kept[1]


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
    served = (main, PRIMARY_TABLE)
    return {
        "main_dataset": main,
        "target": target,
        "column_types": {c: t for c, t in ingestion["column_types"].items() if c != target},
        "related_columns": related,
        "ratios": ingestion["ratios"],
        "suites": {
            dataset: _serving_suite(validation["datasets"][dataset], target) for dataset in served
        },
        "unchecked_expectations": unchecked_expectations(validation["datasets"], served, target),
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


def _present(value: Any) -> bool:
    """Whether a request cell holds a value (pandas' ``notna`` for one cell)."""
    if value is None:
        return False
    if type(value) in _NEVER_MISSING:
        return True
    return not bool(pd.isna(value))


def _texts(cells: list[Any]) -> list[Any]:
    """``as_text`` of each cell; text and nulls (the usual request) without a call per cell."""
    if set(map(type, cells)) <= _TEXT_OR_NULL:
        return [value if value else np.nan for value in cells]  # "" and None: missing
    return [as_text(value) for value in cells]


def _related_values(
    frame: pd.DataFrame, cells: dict[str, list[Any]], related: dict[str, str]
) -> tuple[dict, list[list[str]]]:
    """The summarised related columns typed, and per row the request-level reasons."""
    values, reasons = {}, [[] for _ in range(len(frame))]
    for column, kind in related.items():
        given = cells[column]
        if kind == "number" and set(map(type, given)) <= _NUMBER_OR_NULL:
            typed = np.array([np.nan if v is None else v for v in given], dtype="float64")
            bad = np.zeros(len(given), dtype=bool)  # a number or a null: never refused here
            reason = ""
        elif kind == "number":
            series = frame[column]
            numbers = pd.to_numeric(series, errors="coerce").astype("float64")
            bad = (series.notna() & numbers.isna()).to_numpy()
            typed = numbers.to_numpy()
            reason = f"{REQUEST}.{column} is a number"
        else:
            words = [BOOLEAN_WORDS.get(str(v).strip().lower(), None) for v in given]
            bad = np.array([word is None for word in words], dtype=bool)
            typed = np.array([bool(word) for word in words], dtype=bool)  # missing: False
            reason = f"{REQUEST}.{column} is true or false"
        for position in np.flatnonzero(bad):
            reasons[position].append(reason)
        values[column] = typed
    return values, reasons


def _quoted(values: Any) -> str:
    """The first few of ``values`` for a message, and how many there are in all."""
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    shown = ", ".join(repr(v) for v in values[:QUOTED])
    return shown + (f" ... ({len(values)} in all)" if len(values) > QUOTED else "")


def _not_one_value(value: Any) -> bool:
    """A list, an object or another container where a request holds one value per cell."""
    return isinstance(value, list | dict | tuple | set | np.ndarray)


def _unreadable_number(column: str, cells: list[Any], kinds: set[type]) -> str | None:
    """An infinite number, or a JSON integer beyond float64's range, in a request column."""
    if kinds <= _FLOAT_OR_NULL:  # numbers (JSON null: NaN), at numpy's speed
        infinite = np.flatnonzero(np.isinf(np.array(cells, dtype="float64"))).tolist()
    elif not kinds <= _NEVER_FLOAT:
        infinite = [
            row
            for row, value in enumerate(cells)
            if isinstance(value, float | np.floating) and math.isinf(value)
        ]
    else:
        infinite = []
    if infinite:
        return f"{column} holds an infinite number (rows {_quoted(infinite)})"
    if int in kinds:  # JSON integers are exact: one beyond float64 cannot be read as a number
        huge = [row for row, v in enumerate(cells) if type(v) is int and abs(v) > _LARGEST]
        if huge:
            return f"{column} holds a number beyond a 64-bit float's range (rows {_quoted(huge)})"
    return None


def _wrong_type(column: str, cells: list[Any], kind: str | None, values: pd.Series) -> str | None:
    """What is wrong with a request column's values, if anything (``kind``: a related column's).

    Plain Python over the cells (``values`` as a list): a request is small, and pandas' per-call
    cost would dominate; the Series ``values`` only for text where a related column holds numbers.
    """
    kinds = set(map(type, cells))
    if not kinds <= _SCALARS:
        nested = [row for row, value in enumerate(cells) if _not_one_value(value)]
        if nested:
            return f"{column} holds a list or an object, not one value (rows {_quoted(nested)})"
    unreadable = _unreadable_number(column, cells, kinds)
    if unreadable:
        return unreadable
    if kind == "number" and not kinds <= _NUMBER_OR_NULL:
        given = values[values.notna()]
        numbers = pd.to_numeric(given, errors="coerce")
        bad = given[numbers.isna()]
        if len(bad):
            return f"{column} holds numbers, not {_quoted(bad.unique())}"
        infinite = given[np.isinf(numbers.astype("float64"))]
        if len(infinite):
            return f"{column} holds an infinite number, not {_quoted(infinite.unique())}"
    elif kind == "boolean":
        bad = dict.fromkeys(
            value
            for value in cells
            if _present(value) and str(value).strip().lower() not in BOOLEAN_WORDS
        )
        if bad:
            return f"{column} holds true or false, not {_quoted(list(bad))}"
    return None


def _checked(request: pd.DataFrame, plan: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, list]]:
    """``check_request``'s frame, and its cells column by column as Python lists."""
    frame = normalise_column_names(request).reset_index(drop=True)
    main_columns, related = list(plan["column_types"]), plan["related_columns"]
    expected = [*main_columns, *related]
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise DataError(
            f"The request has no column(s) {missing}: each row needs the main source's "
            f"columns {main_columns} and the summarised related columns {list(related)}."
        )
    unknown = [c for c in frame.columns if c not in expected]
    if unknown:
        raise DataError(
            f"The request has unknown column(s) {unknown} (the target is not sent): each row "
            f"holds the main source's columns {main_columns} and the summarised related "
            f"columns {list(related)}, no others."
        )
    if frame.empty:
        raise DataError("The request has no rows.")
    if len(frame) > MAX_REQUEST_ROWS:
        raise DataError(
            f"The request has {len(frame):,} rows; at most {MAX_REQUEST_ROWS:,} per request: "
            "split it, or score a batch with the inference pipeline."
        )
    cells = {c: frame[c].tolist() for c in expected}
    problems = [p for c in expected if (p := _wrong_type(c, cells[c], related.get(c), frame[c]))]
    if problems:
        raise DataError(f"The request has values of the wrong type: {'; '.join(problems)}.")
    return frame, cells


def check_request(request: pd.DataFrame, plan: dict[str, Any]) -> pd.DataFrame:
    """The request with normalised column names, or DataError naming what is wrong with it.

    Refused as a whole: a missing or an unknown column, no rows, more than
    ``MAX_REQUEST_ROWS``, a cell that is not one value, an infinite number (or text such as
    ``"inf"`` where a summarised related column holds numbers), a JSON integer beyond a float's
    range, and text where a summarised related column holds numbers or true/false. A missing
    value (JSON null) is not refused here: the suites judge it, row by row. (A model server
    refuses a JSON ``NaN`` before the model sees it: ``serving_model.refuse_numbers_json_lacks``.)
    """
    return _checked(request, plan)[0]


def answer_columns(plan: dict[str, Any]) -> list[str]:
    """The columns of an answer, in order: the kept columns, the prediction columns, the reasons."""
    from .problem import problem_of

    problem = problem_of(plan["dataset"])
    predicted = problem.prediction_columns(problem.predict_nothing(), plan["decision_threshold"])
    return [*plan["keep_columns"], *predicted, REASONS]


def request_example(table: pd.DataFrame, plan: dict[str, Any], rows: int = 2) -> pd.DataFrame:
    """A request of ``rows`` rows of a validated table, as a client sends it (the model's input
    example in MLflow): the main source's columns as text, the summarised related columns."""
    sample = table.head(rows).reset_index(drop=True)
    columns: dict[str, Any] = {}
    for column in plan["column_types"]:
        values = sample[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            whole_days = bool((values.dropna() == values.dropna().dt.normalize()).all())
            values = values.dt.strftime("%Y-%m-%d" if whole_days else "%Y-%m-%dT%H:%M:%S")
        columns[column] = pd.Series([as_text(v) for v in values], dtype=object).where(
            values.notna().to_numpy(), None
        )
    for column, kind in plan["related_columns"].items():
        values = sample[column].astype("boolean" if kind == "boolean" else "float64")
        columns[column] = pd.Series(
            [None if pd.isna(v) else (bool(v) if kind == "boolean" else float(v)) for v in values],
            dtype=object,
        )
    return pd.DataFrame(columns)


def _answer_values(given: Any, count: int) -> list[Any]:
    """A prediction column (or one value for every row) as ``count`` plain Python values."""
    array = np.asarray(given)
    if array.dtype != object:
        return np.broadcast_to(array, (count,)).tolist()
    values = np.broadcast_to(np.asarray(given, dtype=object), (count,))
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def answer_rows(request: pd.DataFrame, plan: dict[str, Any], model: Any) -> pd.DataFrame:
    """One answer per request row, in order: the prediction columns, or the reasons refused.

    A request without a needed column is refused whole (DataError naming them). Built for a
    request's few rows: each frame is made once, whole (no column added one by one).
    """
    from .modelling import model_inputs
    from .problem import problem_of

    frame, cells = _checked(request, plan)
    main_columns, related = list(plan["column_types"]), plan["related_columns"]
    positions = np.arange(len(frame), dtype="int64")
    raw = pd.DataFrame({c: _texts(cells[c]) for c in main_columns}, dtype="str")
    raw.insert(0, ROW_POSITION, positions)
    checks = row_checks_of(plan)
    raw_reasons = checks[plan["main_dataset"]].reasons(raw)
    related_values, request_reasons = _related_values(frame, cells, related)
    columns = {**parsed_columns(raw, plan["column_types"], REQUEST), **related_values}
    primary = pd.DataFrame({**columns, **ratio_values(columns, plan["ratios"])})
    primary_reasons = checks[PRIMARY_TABLE].reasons(primary)
    reasons = [
        r + p + extra
        for r, p, extra in zip(raw_reasons, primary_reasons, request_reasons, strict=True)
    ]
    refused = np.array([bool(r) for r in reasons])
    scored = ~refused
    count = int(scored.sum())
    problem = problem_of(plan["dataset"])
    if count:
        passed = primary if count == len(primary) else primary[scored]
        inputs = model_inputs(passed, plan["numeric"], plan["categorical"])
        prediction = problem.predict(model, inputs)
        predicted = problem.prediction_columns(prediction, plan["decision_threshold"])
    else:
        empty = problem.prediction_columns(problem.predict_nothing(), plan["decision_threshold"])
        predicted = {name: [] for name in empty}
    answer: dict[str, Any] = {}
    for column in [c for c in plan["keep_columns"] if c in primary.columns]:
        values = primary[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            values = values.astype("str").where(values.notna())
        kept = values.astype(object).to_numpy(copy=True)
        kept[values.isna().to_numpy()] = None
        answer[column] = kept
    # object columns: a refused row's prediction is JSON null, not NaN
    for name, given in predicted.items():
        column = np.full(len(primary), None, dtype=object)
        column[scored] = _answer_values(given, count)
        answer[name] = column
    answer[REASONS] = [REASON_SEPARATOR.join(r) if r else None for r in reasons]
    return pd.DataFrame(answer, dtype=object)


def prepare_serving_model(  # noqa: PLR0917  (a Kedro node: inputs come positionally)
    logged_model: Any,
    held_out: pd.DataFrame,
    ingestion: dict[str, Any],
    validation: dict[str, Any],
    training: dict[str, Any],
    keep_columns: list[str],
    dataset: dict[str, Any],
    decision: dict[str, Any],
) -> dict[str, Any]:
    """The plan of the served model, from the same configuration as the batch pipeline.

    ``logged_model`` (the scikit-learn model as logged) orders this after its logging and
    tells the requirements; two rows of ``held_out`` make the request example MLflow keeps
    with the model (and checks the model answers when it logs it). It decides at the run's
    chosen threshold (``decision``, from ``decision.py``).
    """
    from .decision import decision_threshold
    from .modelling import feature_columns

    numeric, categorical = feature_columns(training)
    plan = serving_plan(
        check_ingestion_config(ingestion, dataset),
        check_validation_config(validation, ingestion, dataset),
        numeric=numeric,
        categorical=categorical,
        decision_threshold=decision_threshold(decision),
        keep_columns=keep_columns,
    )
    return {"model": logged_model, "plan": plan, "example": request_example(held_out, plan)}


class MlflowServingModelDataset(AbstractDataset[dict[str, Any], Any]):
    """Log the validating served model (``serving_model.py``) to the active run.

    Save ``{"model": fitted_model, "plan": serving_plan, "example": request}``. The pyfunc
    model is MLflow's "models from code": the file ``serving_model.py`` (no pickled Python
    object), the plan as the JSON artifact ``plan``, the run's logged scikit-learn model (tag
    ``training.model_uri``) as the artifact ``model``, the project's package as code (it runs
    the project's parsing and validation), and ``example`` as its input example (MLflow checks
    the logged model answers it). Its signature names the answer's columns and no input schema:
    the model checks a request itself (``check_request``), with messages naming the problem.
    Its requirements are the scikit-learn model's pins (``MlflowSklearnModelDataset``) plus
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

    @staticmethod
    def signature(plan: dict[str, Any]) -> Any:
        """The answer's columns (any type, a refused row's prediction is null); no input schema."""
        from mlflow.models import ModelSignature
        from mlflow.types.schema import AnyType, ColSpec, Schema

        columns = [ColSpec(AnyType(), name, required=False) for name in answer_columns(plan)]
        return ModelSignature(outputs=Schema(columns))

    def _save(self, data: dict[str, Any]) -> None:
        import tempfile

        import mlflow

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
        package = Path(__file__).resolve().parent
        with tempfile.TemporaryDirectory() as folder:
            plan_file = Path(folder) / "plan.json"
            plan_file.write_text(json.dumps(data["plan"], indent=1), encoding="utf-8")
            info = mlflow.pyfunc.log_model(
                name=self._name,
                python_model=str(package / "serving_model.py"),
                artifacts={"model": model_uri, "plan": str(plan_file)},
                code_paths=[str(package)],
                pip_requirements=self.requirements(data["model"]),
                signature=self.signature(data["plan"]),
                input_example=data["example"],
                metadata={"unchecked_expectations": data["plan"]["unchecked_expectations"]},
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
