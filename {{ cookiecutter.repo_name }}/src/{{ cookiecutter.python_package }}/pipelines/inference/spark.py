"""Batch inference on Spark: the model scores the batch in the executors, nothing is collected.

Called by ``nodes.score_batch`` when the batch is a Spark DataFrame (``--env spark``). The model
is the same MLflow model as on pandas, run by ``mlflow.pyfunc.spark_udf`` in the Python workers
of the executors (``env_manager="local"``: the workers use the project's environment). Its pyfunc
predicts ``predict_proba``, two probabilities per row; the positive class's is the second. The
features are cast as ``modelling.model_inputs`` casts them (numbers to double, categories to
text), since the model's signature is enforced. The predictions have the columns of the pandas
path; the record's metrics are Spark aggregates.
"""

from datetime import UTC, datetime
from typing import Any

from ...errors import DataError
from ...modelling import TRAINING_PARAMETERS
from ...spark_engine import quoted

PROBABILITY, PREDICTION = "probability", "prediction"


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


def score_spark_batch(
    batch: Any,
    model_info: dict[str, Any],
    *,
    numeric: list[str],
    categorical: list[str],
    threshold: float,
    keep_columns: list[str],
) -> tuple[Any, dict[str, float]]:
    """The predictions of every row of ``batch`` (a Spark DataFrame) and their metrics."""
    import mlflow
    from pyspark import StorageLevel
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    spark = batch.sparkSession
    inputs = model_input_columns(batch, numeric, categorical)
    predict = mlflow.pyfunc.spark_udf(
        spark,
        model_info["model_uri"],
        result_type=T.ArrayType(T.DoubleType()),
        env_manager="local",
    )
    keep = [c for c in keep_columns if c in batch.columns]
    probability = predict(F.struct(*inputs))[1]
    scored_at = datetime.now(UTC).isoformat(timespec="seconds")
    predictions = (
        batch.select(*(quoted(c) for c in keep), probability.alias(PROBABILITY))
        .withColumn(PREDICTION, (F.col(PROBABILITY) >= F.lit(threshold)).cast("long"))
        .withColumn("decision_threshold", F.lit(threshold).cast("double"))
        .select(
            "*",
            *(F.lit(str(value)).alias(column) for column, value in model_info.items()),
            F.lit(scored_at).alias("scored_at"),
        )
    )
    # Scored once: the metrics below and the save of batch_predictions read the same rows.
    predictions = predictions.persist(StorageLevel.MEMORY_AND_DISK)
    rows, positive_rate, mean_probability = predictions.select(
        F.count(F.lit(1)),
        F.avg(F.col(PREDICTION).cast("double")),
        F.avg(PROBABILITY),
    ).first()
    metrics = {
        "rows_scored": int(rows),
        "predicted_positive_rate": float(positive_rate) if rows else 0.0,
        "mean_probability": float(mean_probability) if rows else 0.0,
    }
    return predictions, metrics
