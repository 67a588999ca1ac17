"""The model ``mlflow models serve`` serves, as MLflow "models from code": check each row, score it.

MLflow runs this file, it is not imported: ``MlflowServingModelDataset`` logs it with
``python_model=<this file>`` (no Python object is pickled), and a server runs it again when it
loads the model; ``set_model`` at the end names the model. What it loads is data: the plan of
the served model (artifact ``plan``, JSON) and the run's scikit-learn model (artifact ``model``,
skops, read with the types it was logged as trusting). Loading it in a model server also makes
the server refuse ``NaN`` and ``Infinity``, which are not JSON (``refuse_numbers_json_lacks``).
"""

import json
import logging
import sys
from typing import Any

# Only MLflow runs this file (training's logging and a model server): MLflow is imported already.
import mlflow  # noqa: TID253
import pandas as pd
from mlflow.exceptions import MlflowException  # noqa: TID253
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE  # noqa: TID253


class NotJsonNumber(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity`` in a request: Python's JSON parser reads them,
    JSON has no such numbers."""


def _not_json_number(word: str) -> float:
    what = "not a number" if word == "NaN" else "an infinite number"
    raise NotJsonNumber(
        f"The request holds {word} ({what}), which is not a JSON value: send null for a "
        "missing value, or a finite number."
    )


def refuse_numbers_json_lacks() -> bool:
    """Make ``mlflow models serve`` refuse a body holding ``NaN`` or ``Infinity`` (HTTP 400).

    MLflow's server parses a body with Python's ``json``, which reads them, and builds the
    request frame before the model sees it: in a column of numbers, ``NaN`` and ``null`` are
    then the same missing value. So the server's decoder (``_decode_json_input`` of
    ``mlflow.pyfunc.scoring_server``, called for each request) is wrapped, once, by one that
    parses strictly and hands the parsed body on. Whether it could be (False: MLflow no longer
    has that function; the model still serves, a ``NaN`` read as missing).
    """
    server = sys.modules.get("mlflow.pyfunc.scoring_server")
    decode = getattr(server, "_decode_json_input", None)
    if decode is None:
        return False
    if getattr(decode, "refuses_numbers_json_lacks", False):
        return True

    def strict_decode(json_input):
        if isinstance(json_input, str | bytes | bytearray):
            try:
                parsed = json.loads(json_input, parse_constant=_not_json_number)
            except NotJsonNumber as error:
                raise MlflowException(str(error), error_code=INVALID_PARAMETER_VALUE) from None
            except ValueError as error:  # malformed: MLflow words it; a number too long: here
                if "integer string conversion" not in str(error):
                    return decode(json_input)
                raise MlflowException(
                    f"The request holds a number too long to read ({error}).",
                    error_code=INVALID_PARAMETER_VALUE,
                ) from None
            if isinstance(parsed, dict):
                json_input = parsed
        return decode(json_input)

    strict_decode.refuses_numbers_json_lacks = True  # type: ignore[attr-defined]
    server._decode_json_input = strict_decode  # type: ignore[union-attr]
    return True


class ValidatingModel(mlflow.pyfunc.PythonModel):
    """The run's scikit-learn model behind the batch's parsing and row-level validation."""

    def load_context(self, context) -> None:
        """Read the plan, load the scikit-learn model and import the project's checks once."""
        from {{ cookiecutter.python_package }}.errors import DataError
        from {{ cookiecutter.python_package }}.serving import answer_rows

        with open(context.artifacts["plan"], encoding="utf-8") as file:
            self.plan = json.load(file)
        self.model = mlflow.sklearn.load_model(context.artifacts["model"])
        self.answer, self.refused = answer_rows, DataError
        if "mlflow.pyfunc.scoring_server" in sys.modules and not refuse_numbers_json_lacks():
            logging.getLogger(__name__).warning(
                "This MLflow's model server has no _decode_json_input to wrap: a JSON NaN in a "
                "request is read as a missing value, not refused."
            )

    def predict(
        self, context, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """One answer per row: the prediction columns, or ``quarantine_reasons``.

        A request that is wrong as a whole (a missing or unknown column, a value that is not
        one value, too many rows) is refused with MLflow's INVALID_PARAMETER_VALUE: HTTP 400,
        the message naming what to fix.
        """
        if not isinstance(model_input, pd.DataFrame):
            try:
                model_input = pd.DataFrame(model_input)
            except (TypeError, ValueError) as error:
                raise MlflowException(
                    f"The request is not a table of rows ({error}): send "
                    '{"dataframe_split": {"columns": [...], "data": [[...], ...]}}.',
                    error_code=INVALID_PARAMETER_VALUE,
                ) from None
        try:
            return self.answer(model_input, self.plan, self.model)
        except self.refused as error:
            raise MlflowException(str(error), error_code=INVALID_PARAMETER_VALUE) from None


mlflow.models.set_model(ValidatingModel())
