"""The modelling sample on Spark: drawn in Spark, collected to pandas for scikit-learn.

scikit-learn and fairlearn fit in one process, so the Spark environment fits them on a seeded
sample of the validated table, stratified by the target; only the sample leaves Spark.
"""

from typing import Any

import pandas as pd

from ...columns import ROW_POSITION
from ...spark_engine import quoted


def stratum_sizes(counts: dict[Any, int], size: int) -> dict[Any, int]:
    """Rows to draw from each class: ``size`` shared in proportion (largest remainders)."""
    total = sum(counts.values())
    exact = {k: size * n / total for k, n in counts.items()}
    sizes = {k: int(v) for k, v in exact.items()}
    by_remainder = sorted(counts, key=lambda k: exact[k] - sizes[k], reverse=True)
    for k in by_remainder[: size - sum(sizes.values())]:
        sizes[k] += 1
    return sizes


def collect_modelling_sample(
    table: Any, target: str, settings: dict[str, Any], problem: Any
) -> tuple[pd.DataFrame, int]:
    """``table`` as pandas when it has at most ``max_rows`` rows, else its seeded sample.

    Within each class (the whole table for a number to predict) the rows with the smallest
    hash of (``source_row``, seed) are taken: the same seed and rows give the same sample on any
    cluster and partitioning. Rows come back in ``source_row`` order.
    """
    from functools import reduce

    from pyspark.sql import functions as F

    order = F.xxhash64(quoted(ROW_POSITION), F.lit(int(settings["seed"])))
    if not problem.is_classification:
        total = table.count()
        if total > settings["max_rows"]:
            table = table.orderBy(order).limit(settings["max_rows"])
        return table.toPandas().sort_values(ROW_POSITION).reset_index(drop=True), total
    counts = {row[0]: row[1] for row in table.groupBy(quoted(target)).count().collect()}
    total = sum(counts.values())
    if total > settings["max_rows"]:
        parts = [
            table.filter(quoted(target).eqNullSafe(value)).orderBy(order).limit(size)
            for value, size in stratum_sizes(counts, settings["max_rows"]).items()
            if size
        ]
        table = reduce(lambda a, b: a.unionByName(b), parts)
    sample = table.toPandas().sort_values(ROW_POSITION).reset_index(drop=True)
    return sample, total
