"""What both engines' ingestion share: the files it names, its aggregations and boolean words."""

from typing import Any

PARAMETERS_FILE = "conf/base/parameters_ingestion.yml"
DATASET_FILE = "conf/base/parameters_dataset.yml"
AGGREGATIONS = ("count", "sum", "mean", "median", "min", "max", "nunique", "first", "last", "std")
# Aggregations whose value for a key without related rows is 0 (others stay missing).
COUNT_LIKE = {"count", "sum", "nunique"}
# Text read as a boolean column's values (any case, stripped); anything else is missing.
BOOLEAN_WORDS = {
    "true": True, "yes": True, "y": True, "t": True, "1": True,
    "false": False, "no": False, "n": False, "f": False, "0": False,
}  # fmt: skip


def as_list(value: Any) -> list[Any]:
    """``value`` as a list: a list or tuple as is, anything else as its only item."""
    return list(value) if isinstance(value, list | tuple) else [value]
