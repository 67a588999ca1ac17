"""The assessment node: pandas frames to ``assessment.py``, Spark frames to ``spark.py``."""

from typing import Any

from ...spark_engine import is_spark_frame
from . import assessment


def assess_batch(
    training_set: Any,
    scoring_batch: Any,
    batch_predictions: Any,
    training: dict[str, Any],
    plan: dict[str, Any],
) -> dict[str, Any]:
    """The drift report of a scored batch (``assessment.assess_batch``), on either engine.

    A batch or predictions in Spark (``--env spark``) are assessed in Spark: the same report,
    from histograms and group counts computed there (see ``spark.py`` for which figures can
    differ in the last digits).
    """
    if is_spark_frame(scoring_batch) or is_spark_frame(batch_predictions):
        from .spark import assess_spark_batch

        return assess_spark_batch(training_set, scoring_batch, batch_predictions, training, plan)
    return assessment.assess_batch(training_set, scoring_batch, batch_predictions, training, plan)
