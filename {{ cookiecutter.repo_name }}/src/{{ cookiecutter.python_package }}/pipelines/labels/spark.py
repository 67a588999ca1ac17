"""Labels on Spark: the batch's tables reduced in Spark to the rows the labels file names.

Called by ``nodes.join_labels`` when the predictions, the batch or its quarantined rows are Spark
DataFrames (``--env spark``). The labels file is read by pandas (``batch_labels``), so the joined
table, at most one row per label, is small by nature: Spark keeps the predictions, the batch's
rows and the quarantined rows whose id is in the labels file (a join on the distinct label ids),
and checks on the whole batch what needs all of it (the row counts agree, no id is scored
twice). Only those rows are collected; the accounting and the join are the pandas code's.
"""

from typing import Any

import pandas as pd

from ...columns import ROW_POSITION
from ...errors import DataError
from ...spark_engine import is_spark_frame, quoted


def _spark_ids(column: str) -> Any:
    """Ids as ``nodes._ids`` compares them: stripped text, empty as null."""
    from pyspark.sql import functions as F

    text = F.trim(quoted(column).cast("string"))
    return F.when(text != "", text)


def rows_with_label_ids(
    label_ids: pd.Series | None,
    predictions: Any,
    scored_rows: Any,
    quarantined: Any,
    plan: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, int]:
    """The predictions, batch rows (in the predictions' order) and quarantined rows whose id is
    one of ``label_ids`` (the labels file's, as ``nodes._ids`` reads them; None: the file has
    no id column), as pandas frames, and the number of scored rows of the whole batch."""
    id_column, batch = plan["id_column"], plan["batch"]
    frames = [predictions, scored_rows, quarantined]
    spark = next(frame for frame in frames if is_spark_frame(frame)).sparkSession
    predictions, scored_rows, quarantined = (
        frame if is_spark_frame(frame) else spark.createDataFrame(frame) for frame in frames
    )
    scored_total, batch_rows = predictions.count(), scored_rows.count()
    if label_ids is None or id_column not in predictions.columns:
        # nodes._join_labels names what is missing
        return predictions.limit(0).toPandas(), scored_rows.limit(0).toPandas(), pd.DataFrame(), 0
    if batch_rows != scored_total:
        raise DataError(
            f"scoring_batch ({batch_rows} rows) and batch_predictions ({scored_total}) of batch "
            f"{batch!r} differ: score the batch again "
            f"(kedro run --env spark --pipelines inference --params batch={batch})."
        )
    if ROW_POSITION not in predictions.columns or ROW_POSITION not in scored_rows.columns:
        raise DataError(
            f"batch_predictions of batch {batch!r} has no {ROW_POSITION} column, which matches "
            "its rows with the batch's on Spark: add it to dataset.keep_with_predictions "
            "(conf/base/parameters_dataset.yml) and score again."
        )
    repeated = (
        predictions.select(_spark_ids(id_column).alias("_id"))
        .filter("_id IS NOT NULL")
        .groupBy("_id")
        .count()
        .filter("count > 1")
        .limit(1)
        .count()
    )
    if repeated:
        raise DataError(
            f"batch_predictions of batch {batch!r} has several rows with one {id_column}: a "
            "label cannot be joined to one of them; make the id unique (a row expectation)."
        )
    wanted = spark.createDataFrame(
        pd.DataFrame({"_id": label_ids.dropna().drop_duplicates().astype(str)}),
        "_id string",
    )

    def named(frame: Any) -> Any:
        keyed = frame.withColumn("_id", _spark_ids(id_column))
        return keyed.join(wanted.hint("broadcast"), on="_id", how="left_semi").drop("_id")

    chosen = named(predictions).toPandas()
    # The chosen rows' positions (at most one per label) pick the batch's rows; the
    # predictions are not filtered a second time.
    positions = spark.createDataFrame(
        chosen[[ROW_POSITION]], scored_rows.select(quoted(ROW_POSITION)).schema
    )
    rows = scored_rows.join(
        positions.hint("broadcast"), on=ROW_POSITION, how="left_semi"
    ).toPandas()
    rows = chosen[[ROW_POSITION]].merge(rows, on=ROW_POSITION, how="left", validate="one_to_one")
    held = (
        named(quarantined).select(quoted(id_column)).toPandas()
        if id_column in quarantined.columns
        else pd.DataFrame()
    )
    return chosen, rows, held, scored_total
