"""The MLflow pyfunc model that ``mlflow models serve`` serves: validate each row, then score it.

This module imports MLflow at its top (a PythonModel subclass needs it): only the served model
and ``MlflowServingModelDataset._save`` import it, never ``kedro`` at start-up.
"""

from collections.abc import Callable
from typing import Any

# A PythonModel subclass needs MLflow at class definition: this module is imported only by the
# served model and MlflowServingModelDataset._save, never at start-up (test_cli_startup).
import mlflow.pyfunc  # noqa: TID253
from mlflow.exceptions import MlflowException  # noqa: TID253
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE  # noqa: TID253

from .errors import DataError


class ValidatingModel(mlflow.pyfunc.PythonModel):
    """The run's scikit-learn model behind the batch's parsing and row-level validation."""

    def __init__(self, plan: dict[str, Any], answer: Callable[..., Any]) -> None:
        """``answer``: ``serving.answer_rows`` (passed in: serving.py imports this module)."""
        self.plan = plan
        self.answer = answer
        self.model: Any = None

    def load_context(self, context) -> None:
        """Load the scikit-learn model (artifact ``model``) and warm Great Expectations up."""
        from .pipelines.validation.suites import ephemeral_context

        self.model = mlflow.sklearn.load_model(context.artifacts["model"])
        ephemeral_context()

    def predict(self, context, model_input, params=None):
        """One answer per row: probability and prediction, or ``quarantine_reasons``."""
        import pandas as pd

        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        try:
            return self.answer(frame, self.plan, self.model)
        except DataError as error:  # the request as a whole: HTTP 400 with the message
            raise MlflowException(str(error), error_code=INVALID_PARAMETER_VALUE) from None
