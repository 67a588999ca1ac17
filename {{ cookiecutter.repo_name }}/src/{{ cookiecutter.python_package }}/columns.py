"""Column conventions every stage shares: how raw column names are normalised, and the column
that keeps each row's position in its main source (its id when the data has none)."""

import re

import pandas as pd

# The row's position in the main source; added by ingestion, kept by every later table.
ROW_POSITION = "source_row"


def normalise_column_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Lower-case snake_case column names (``Hours per week`` -> ``hours_per_week``)."""
    names = [re.sub(r"[^0-9a-z]+", "_", str(c).strip().lower()).strip("_") for c in frame.columns]
    return frame.set_axis(names, axis="columns")
