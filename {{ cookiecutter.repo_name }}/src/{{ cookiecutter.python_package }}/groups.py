"""Groups of a sensitive attribute: one labelling of every row, used wherever groups appear.

The fairness review, the monitoring of selection rates, the model card and the MLflow metric
names all take their group labels from here, so a band reads ``18-24`` everywhere.
"""

import re
from itertools import pairwise
from typing import Any

import pandas as pd

MISSING = "missing"


def metric_safe(label: str) -> str:
    """A group label usable in an MLflow metric name (letters, digits, ``_ - .``)."""
    return re.sub(r"[^\w\-.]+", "_", str(label)).strip("_") or "blank"


def band_labels(bins: list[float]) -> list[str]:
    """Labels of the bands ``[b0, b1), [b1, b2), ...``: ``18-24`` for whole-number bounds."""
    labels = []
    for low, high in pairwise(bins):
        whole = float(low).is_integer() and float(high).is_integer()
        labels.append(f"{int(low)}-{int(high) - 1}" if whole else f"[{low}, {high})")
    return labels


def group_column(frame: pd.DataFrame, column: str, bins: list[float] | None) -> pd.Series:
    """The group of every row: the value as text, or its band; missing values form a group."""
    values = frame[column]
    if bins:
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        banded = pd.cut(numbers, bins=bins, right=False, labels=band_labels(bins))
        out = banded.astype(object)
        out[numbers.notna() & banded.isna()] = "outside bands"
    else:
        out = values.astype(str).where(values.notna())  # vectorised: no per-row Python
    return out.where(out.notna(), MISSING).astype(str).reset_index(drop=True)


def sensitive_groups(
    frame: pd.DataFrame, features: dict[str, dict[str, Any]], intersections: list[list[str]]
) -> dict[str, pd.Series]:
    """Group labels per sensitive feature and per intersection (``sex_x_foreign_worker``)."""
    groups = {
        name: group_column(frame, spec.get("column", name), spec.get("bins"))
        for name, spec in features.items()
    }
    for parts in intersections:
        combined = groups[parts[0]]
        for part in parts[1:]:
            combined = combined + " & " + groups[part]
        groups["_x_".join(parts)] = combined
    return groups


def attribute_columns(attributes: dict[str, Any] | list[str] | None) -> list[str]:
    """The column each sensitive attribute is read from (``column:``, else its name)."""
    if isinstance(attributes, dict):
        return [(spec or {}).get("column", name) for name, spec in attributes.items()]
    return list(attributes or [])
