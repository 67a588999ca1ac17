"""Batch inference on Spark: the model scores the batch in the executors, nothing is collected.

Called by ``nodes.score_batch`` when the batch is a Spark DataFrame (``--env spark``). The model
is the same MLflow model as on pandas, run by ``mlflow.pyfunc.spark_udf`` in the Python workers
of the executors (``env_manager="local"``: the workers use the project's environment). Its pyfunc
predicts what the problem type's model predicts (``problem.PREDICT_METHOD``): ``predict_proba``,
a row of probabilities (an array of doubles), for classes; ``predict``, a double, for a number.
The features are cast as ``modelling.model_inputs`` casts them (numbers to double, categories to
text), since the model's signature is enforced. The prediction columns are the problem type's
(``problem.spark_prediction_columns``), the same as on pandas; the record's metrics are Spark
aggregates of the same terms (``problem.scoring_terms``).
"""

from datetime import UTC, datetime
from typing import Any

from ...errors import DataError
from ...modelling import TRAINING_PARAMETERS
from ...problem import Problem
from ...spark_engine import quoted

OUTPUT = "__model_output"  # the model's raw output, before the problem type's columns


def model_input_columns(batch: Any, numeric: list[str], categorical: list[str]) -> list[Any]:
    """The feature columns in the model's types: numbers as double (null: missing), text."""
    missing = [c for c in numeric + categorical if c not in batch.columns]
    if missing:
        raise DataError(
            f"Dataset 'scoring_batch' has no column(s) {missing} (training.features in "
            f"{TRAINING_PARAMETERS}); its columns are {list(batch.columns)}."
        )
    return [quoted(c).try_cast("double").alias(c) for c in numeric] + [
        quoted(c).cast("string").alias(c) for c in categorical
    ]


def scoring_aggregates(problem: Problem) -> list[Any]:
    """Spark aggregates of ``problem.scoring_terms``: a column's mean, or a share of rows."""
    from pyspark.sql import functions as F

    out = []
    for name, column, value in problem.scoring_terms():
        term = quoted(column).cast("double")
        if value is not None:
            term = F.when(quoted(column) == F.lit(value), 1.0).otherwise(0.0)
        out.append(F.avg(term).alias(name))
    return out


def score_spark_batch(
    batch: Any,
    model_info: dict[str, Any],
    *,
    problem: Problem,
    numeric: list[str],
    categorical: list[str],
    threshold: float,
    keep_columns: list[str],
) -> tuple[Any, dict[str, float]]:
    """The predictions of every row of ``batch`` (a Spark DataFrame) and their metrics."""
    import mlflow
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    spark = batch.sparkSession
    inputs = model_input_columns(batch, numeric, categorical)
    predict = mlflow.pyfunc.spark_udf(
        spark,
        model_info["model_uri"],
        result_type=problem.spark_udf_result_type(),
        env_manager="local",
    )
    keep = [c for c in keep_columns if c in batch.columns]
    scored_at = datetime.now(UTC).isoformat(timespec="seconds")
    predictions = (
        batch.select(*(quoted(c) for c in keep), predict(F.struct(*inputs)).alias(OUTPUT))
        .select(
            *(quoted(c) for c in keep),
            *problem.spark_prediction_columns(F.col(OUTPUT), threshold),
        )
        .select(
            "*",
            *(F.lit(str(value)).alias(column) for column, value in model_info.items()),
            F.lit(scored_at).alias("scored_at"),
        )
    )
    # Scored once: the metrics below and the save of batch_predictions read the same rows.
    predictions = predictions.persist(StorageLevel.MEMORY_AND_DISK)
    row = predictions.select(F.count(F.lit(1)).alias("rows"), *scoring_aggregates(problem)).first()
    rows = int(row["rows"])
    metrics = {"rows_scored": rows}
    for name, _, _ in problem.scoring_terms():
        metrics[name] = float(row[name]) if rows else 0.0
    return predictions, metrics
