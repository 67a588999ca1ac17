"""Ingestion on Spark: the same plan as ``nodes.py``, with Spark DataFrames in and out.

Called by the nodes of ``nodes.py`` when their input is a Spark DataFrame (``--env spark``).
Parsing, the target's encoding (the problem type's, ``problem.encode_target_spark``), the
per-key summaries, the joins and the ratios follow the pandas rules one for one, so both engines
give the same primary table for the same raw rows.
"""

from typing import Any

from ...columns import ROW_POSITION
from ...errors import DataError
from ...problem import problem_of
from ...spark_engine import normalise_spark_columns, quoted, with_row_position
from .rules import (
    BOOLEAN_WORDS,
    COUNT_LIKE,
    PARAMETERS_FILE,
    columns_to_parse,
    require_columns,
)


def _parsed(column: str, kind: str) -> Any:
    """``column`` parsed as ``kind``; a value that does not parse becomes null (as in pandas)."""
    from pyspark.sql import functions as F

    text = F.trim(quoted(column).cast("string"))
    if kind in ("string", "category"):
        return text
    if kind == "number":
        return text.try_cast("double")
    if kind == "integer":
        number = text.try_cast("double")
        return F.when(number == F.floor(number), number.try_cast("long"))
    if kind == "boolean":
        words = F.create_map(*(F.lit(x) for pair in BOOLEAN_WORDS.items() for x in pair))
        return words[F.lower(text)]
    return F.try_to_timestamp(text)  # date: ISO 8601, as pandas' format="ISO8601"


def parse_columns(frame: Any, column_types: dict[str, str], entry: str) -> Any:
    """Each configured column parsed into its type; other columns kept as text."""
    require_columns(frame, list(column_types), entry)
    return frame.select(
        *(
            _parsed(c, column_types[c]).alias(c) if c in column_types else quoted(c)
            for c in frame.columns
        )
    )


def summarise_related_source(rows: Any, plan: dict[str, Any], source: str) -> tuple[Any, dict]:
    """One row per key of a related source, with the aggregations configured for it."""
    from pyspark.sql import functions as F

    spec = plan["related_sources"][source]
    records = normalise_spark_columns(rows)
    key, aggregations = spec["key"], spec["aggregations"]
    require_columns(
        records, [key, *(column for column, _ in aggregations.values())], f"raw_{source}"
    )
    how = {
        "count": F.count,
        "sum": F.sum,
        "mean": F.avg,
        "median": F.median,
        "min": F.min,
        "max": F.max,
        "nunique": F.count_distinct,
        "first": lambda c: F.first(c, ignorenulls=True),
        "last": lambda c: F.last(c, ignorenulls=True),
        "std": F.stddev_samp,
    }
    summary = records.groupBy(quoted(key)).agg(
        *(how[kind](quoted(column)).alias(out) for out, (column, kind) in aggregations.items())
    )
    rows_raw, keys = records.select(F.count(F.lit(1)), F.count_distinct(quoted(key))).first()
    record = {"metrics": {f"rows_raw_{source}": rows_raw, f"keys_with_{source}": keys}}
    return summary, record


def join_summary(primary: Any, summary: Any, source: str, spec: dict[str, Any]) -> Any:
    """Left-join one related source's summary by its key; keys without rows get 0 counts."""
    from pyspark.sql import functions as F

    key = spec["key"]
    if key not in primary.columns:
        raise DataError(
            f"The main source has no column {key!r}, the key of related source '{source}' "
            f"(ingestion.related_sources.{source}.key in {PARAMETERS_FILE})."
        )
    key_type = primary.schema[key].dataType
    added = [c for c in summary.columns if c != key]
    summary = summary.withColumn(key, quoted(key).cast(key_type)).withColumn(
        "__present", F.lit(True)
    )
    joined = primary.join(summary, on=key, how="left")
    counts = {out for out, (_, how) in spec["aggregations"].items() if how in COUNT_LIKE}
    return joined.select(
        *(quoted(c) for c in primary.columns),
        *(F.coalesce(quoted(c), F.lit(0)).alias(c) if c in counts else quoted(c) for c in added),
        F.coalesce(F.col("__present"), F.lit(False)).alias(spec["presence_column"]),
    )


def add_ratios(frame: Any, ratios: dict[str, list[str]]) -> Any:
    """Add ``numerator / denominator`` columns; a zero or missing denominator gives null."""
    from pyspark.sql import functions as F

    for name, (numerator, denominator) in ratios.items():
        below = quoted(denominator).cast("double")
        frame = frame.withColumn(name, quoted(numerator).cast("double") / F.when(below != 0, below))
    return frame


def build_primary_table(main_rows: Any, plan: dict[str, Any], *summaries: Any) -> tuple[Any, dict]:
    """The main source typed, its target encoded (``problem/``), joined with each related
    summary, with lineage.

    ``source_row`` is the row's position in the main source, as on pandas. One Spark job counts
    rows, unknown labels and the labels that show the target's description fits (binary: the
    positives); the table itself stays in Spark.
    """
    from pyspark.sql import functions as F

    main = plan["main_source"]
    frame = normalise_spark_columns(main_rows)
    target = plan["target"]
    labelled, column_types = columns_to_parse(plan, frame)
    typed = parse_columns(with_row_position(frame, ROW_POSITION), column_types, f"raw_{main}")
    if labelled:
        problem = problem_of(plan["dataset"])
        primary = problem.encode_target_spark(typed)
        encoded = quoted(target["column"])
        rows, found, unknown = primary.select(
            F.count(F.lit(1)),
            F.sum(F.when(problem.target_found_spark(encoded), 1).otherwise(0)),
            F.sum(F.when(encoded.isNull(), 1).otherwise(0)),
        ).first()
        if rows and not found:  # as problem.encode_target_column on pandas
            seen = [
                r[0] for r in frame.select(quoted(target["column"])).distinct().limit(10).collect()
            ]
            raise problem.target_not_found(sorted(map(str, (s for s in seen if s is not None))))
    else:
        primary = typed
        rows = primary.count()
        unknown = rows
    if not rows:
        raise DataError(f"Catalog entry 'raw_{main}' has no rows: check the file it points at.")
    for (source, spec), summary in zip(plan["related_sources"].items(), summaries, strict=True):
        primary = join_summary(primary, summary, source, spec)
    primary = add_ratios(primary, plan["ratios"])
    # Left joins on one-row-per-key summaries keep the row count; validation checks it again.
    record = {
        "metrics": {
            f"rows_raw_{main}": rows,
            "rows_primary": rows,
            "rows_without_known_target": int(unknown or 0),
        }
    }
    return primary, record
