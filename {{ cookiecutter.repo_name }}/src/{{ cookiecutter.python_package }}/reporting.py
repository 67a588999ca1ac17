"""How numbers and tables are written in every report: one formatting, one Markdown table."""

import math
from typing import Any


def fmt(value: Any, digits: int = 3) -> str:
    """A number as reports show it: ``n/a`` when missing, whole numbers without decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or (digits == 0 and float(value).is_integer()):
        return str(int(value))
    return f"{float(value):.{digits}f}"


def markdown_table(
    header: list[str], rows: list[list[Any]], align: list[str] | None = None
) -> list[str]:
    """A Markdown table as lines; ``align`` per column: ``l`` (default) or ``r``."""
    rules = ["---:" if a == "r" else "---" for a in (align or ["l"] * len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rules) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines
