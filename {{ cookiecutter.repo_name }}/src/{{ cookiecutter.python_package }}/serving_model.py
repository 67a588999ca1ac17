"""The model ``mlflow models serve`` serves, as MLflow "models from code": check each row, score it.

MLflow runs this file, it is not imported: ``MlflowServingModelDataset`` logs it with
``python_model=<this file>`` (no Python object is pickled), and a server runs it again when it
loads the model; ``set_model`` at the end names the model. What it loads is data: the plan of
the served model (artifact ``plan``, JSON) and the run's scikit-learn model (artifact ``model``,
skops, read with the types it was logged as trusting).
"""

import json
from typing import Any

# Only MLflow runs this file (training's logging and a model server): MLflow is imported already.
import mlflow  # noqa: TID253
import pandas as pd
from mlflow.exceptions import MlflowException  # noqa: TID253
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE  # noqa: TID253


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
