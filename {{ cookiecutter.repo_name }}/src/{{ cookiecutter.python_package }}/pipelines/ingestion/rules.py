"""What both engines' ingestion share: the files it names, its aggregations and boolean words."""

import logging
from typing import Any

from ...errors import DataError

logger = logging.getLogger(__name__)

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


def require_columns(frame: Any, columns: list[str], entry: str) -> None:
    """Stop, naming the entry and the columns, when a table (pandas or Spark) lacks some."""
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise DataError(
            f"Catalog entry '{entry}' has no column(s) {missing}; it has {list(frame.columns)}. "
            f"Fix the data, or the column names in {PARAMETERS_FILE}."
        )


def columns_to_parse(plan: dict[str, Any], frame: Any) -> tuple[bool, dict[str, str]]:
    """Whether the main source has its labels, and the column types to parse it with.

    A scoring batch whose labels come later (``target_optional``) is read without the target.
    """
    main, target = plan["main_source"], plan["target"]["column"]
    if not plan.get("target_optional") or target in frame.columns:
        require_columns(frame, [target], f"raw_{main}")
        return True, plan["column_types"]
    logger.info("raw_%s has no target column %r: read without labels.", main, target)
    return False, {c: t for c, t in plan["column_types"].items() if c != target}
