"""Column conventions every stage shares: how raw column names are normalised, and the column
that keeps each row's position in its main source (its id when the data has none)."""

import re

import pandas as pd

# The row's position in the main source; added by ingestion, kept by every later table.
ROW_POSITION = "source_row"
# What ``astype("str")`` gives: pandas' text, whose missing value is NaN.
TEXT = pd.Series([], dtype="str").dtype


def normalised_name(column: object) -> str:
    """A column name in lower-case snake_case (``Hours per week`` -> ``hours_per_week``)."""
    return re.sub(r"[^0-9a-z]+", "_", str(column).strip().lower()).strip("_")


def text_column(values: pd.Series) -> pd.Series:
    """``values.astype("str")``, without its copy when ``values`` is text already."""
    return values if values.dtype == TEXT else values.astype("str")


def normalise_column_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Lower-case snake_case column names (``Hours per week`` -> ``hours_per_week``)."""
    return frame.set_axis([normalised_name(c) for c in frame.columns], axis="columns")
