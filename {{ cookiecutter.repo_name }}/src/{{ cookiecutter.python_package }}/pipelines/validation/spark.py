"""Row quarantine on Spark: the failing keys GX named become a small Spark table, joined back.

Called by ``nodes.quarantine_rows`` when the primary table is a Spark DataFrame. The table is
never collected to the driver: only the failing keys (which GX returns) and the counts are.
"""

from typing import Any

from ...spark_engine import quoted


def split_quarantined(
    primary: Any, row_failures: list[tuple[str, str, list[Any]]], separator: str
) -> tuple[Any, Any, dict[str, Any]]:
    """Passed rows, quarantined rows (with ``quarantine_reasons``) and their counts.

    ``row_failures`` lists (reason, row key column, failing keys) in suite order; a row's
    reasons are joined in that order, as on pandas.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    spark = primary.sparkSession
    by_key: dict[str, list[tuple[Any, int, str]]] = {}
    for order, (reason, row_key, keys) in enumerate(row_failures):
        by_key.setdefault(row_key, []).extend((key, order, reason) for key in dict.fromkeys(keys))
    flagged, reason_columns = primary, []
    for index, (row_key, rows) in enumerate(by_key.items()):
        schema = T.StructType(
            [
                T.StructField(row_key, primary.schema[row_key].dataType),
                T.StructField("order", T.IntegerType()),
                T.StructField("reason", T.StringType()),
            ]
        )
        keys = spark.createDataFrame(rows, schema)
        column = f"__reasons_{index}"
        per_key = keys.groupBy(quoted(row_key)).agg(
            F.collect_set(F.struct("order", "reason")).alias(column)
        )
        flagged = flagged.join(F.broadcast(per_key), on=row_key, how="left")
        reason_columns.append(F.coalesce(F.col(column), F.array()))
    if reason_columns:
        ordered = F.array_sort(F.flatten(F.array(*reason_columns)))
        joined = F.concat_ws(separator, F.transform(ordered, lambda r: r["reason"]))
        reasons = F.when(F.size(ordered) > 0, joined)
    else:
        reasons = F.lit(None).cast("string")
    flagged = flagged.select(
        *(quoted(c) for c in primary.columns), reasons.alias("quarantine_reasons")
    )
    quarantined = flagged.filter(F.col("quarantine_reasons").isNotNull())
    passed = flagged.filter(F.col("quarantine_reasons").isNull()).drop("quarantine_reasons")
    by_reason = {
        row["reason"]: row["count"]
        for row in quarantined.select(
            F.explode(F.split("quarantine_reasons", separator)).alias("reason")
        )
        .groupBy("reason")
        .count()
        .collect()
    }
    counts = {
        "rows_passed": passed.count(),
        "rows_quarantined": quarantined.count(),
        "by_reason": {reason: by_reason.get(reason, 0) for reason, _, _ in row_failures},
    }
    return passed, quarantined, counts


# Column types in the suites are written as pandas names; GX checks Spark columns against
# pyspark.sql.types names. The same suite file serves both engines through this table.
SPARK_TYPE_NAMES = {
    "str": "StringType",
    "string": "StringType",
    "object": "StringType",
    "category": "StringType",
    "float": "DoubleType",
    "float64": "DoubleType",
    "Float64": "DoubleType",
    "float32": "FloatType",
    "int": "LongType",
    "int64": "LongType",
    "Int64": "LongType",
    "int32": "IntegerType",
    "Int32": "IntegerType",
    "bool": "BooleanType",
    "boolean": "BooleanType",
    "datetime64": "TimestampType",
    "datetime64[ns]": "TimestampType",
    "datetime64[us]": "TimestampType",
}


def spark_type_names(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The suite's entries with pandas type names given as their Spark type names."""
    converted = []
    for entry in entries:
        kwargs = dict(entry["kwargs"])
        if "type_" in kwargs:
            kwargs["type_"] = SPARK_TYPE_NAMES.get(str(kwargs["type_"]), kwargs["type_"])
        if isinstance(kwargs.get("type_list"), list):
            names = [SPARK_TYPE_NAMES.get(str(t), t) for t in kwargs["type_list"]]
            kwargs["type_list"] = list(dict.fromkeys(names))
        converted.append({**entry, "kwargs": kwargs})
    return converted
