"""Ingestion nodes: pure functions from raw sources to one typed, normalised primary table."""

import re
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ConfigError, DataError

COUNT_LIKE = {"count", "sum", "size", "nunique"}


def _to_integer(values: pd.Series) -> pd.Series:
    """Parse whole numbers; anything else (text, fractions) becomes missing."""
    numbers = pd.to_numeric(values, errors="coerce")
    numbers = numbers.where(numbers.isna() | (numbers == np.floor(numbers)))
    return numbers.astype("Int64")


PARSERS = {
    "string": lambda s: s.str.strip(),
    "category": lambda s: s.str.strip(),
    "number": lambda s: pd.to_numeric(s, errors="coerce").astype("float64"),
    "integer": _to_integer,
    "date": lambda s: pd.to_datetime(s, errors="coerce", format="ISO8601"),
}


def normalise_column_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Lower-case snake_case column names (``Loan Amount`` -> ``loan_amount``)."""
    names = [re.sub(r"[^0-9a-z]+", "_", str(c).strip().lower()).strip("_") for c in frame.columns]
    return frame.set_axis(names, axis="columns")


def _require_columns(frame: pd.DataFrame, columns: list[str], entry: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"Catalog entry '{entry}' has no column(s) {missing}; it has {list(frame.columns)}. "
            "Fix the data, or the column names in conf/base/parameters_ingestion.yml."
        )


def summarise_bureau_records(
    bureau_records: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One row per applicant with the aggregations configured in ``bureau_summary``."""
    records = normalise_column_names(bureau_records)
    id_column = params["id_column"]
    spec = params["bureau_summary"]
    _require_columns(
        records, [id_column, *(source for source, _ in spec.values())], "raw_bureau_records"
    )
    summary = (
        records.groupby(id_column, sort=True)
        .agg(**{name: (source, how) for name, (source, how) in spec.items()})
        .reset_index()
    )
    record = {
        "metrics": {
            "rows_raw_bureau_records": len(records),
            "applicants_with_bureau_records": len(summary),
        }
    }
    return summary, record


def parse_columns(applications: pd.DataFrame, column_types: dict[str, str]) -> pd.DataFrame:
    """Parse each configured column into its type; columns not configured are kept as text."""
    unknown = {c: t for c, t in column_types.items() if t not in PARSERS}
    if unknown:
        raise ConfigError(
            "ingestion.column_types in conf/base/parameters_ingestion.yml has unknown types "
            f"{unknown}; "
            f"use one of {sorted(PARSERS)}."
        )
    _require_columns(applications, list(column_types), "raw_applications")
    return applications.assign(
        **{
            column: PARSERS[kind](applications[column].astype("str"))
            for column, kind in column_types.items()
        }
    )


def add_ratios(frame: pd.DataFrame, ratios: dict[str, list[str]]) -> pd.DataFrame:
    """Add ``numerator / denominator`` columns; a zero or missing denominator gives missing."""
    new = {}
    for name, (numerator, denominator) in ratios.items():
        below = frame[denominator].astype("float64")
        new[name] = frame[numerator].astype("float64") / below.where(below != 0)
    return frame.assign(**new)


def build_primary_table(
    applications: pd.DataFrame, bureau_summary: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Typed applications joined with their bureau summary, one row per raw row, with lineage.

    ``source_row`` is the row's position in the raw file, so any later finding can be traced
    back to the source. Applicants without bureau records get zero counts and sums.
    """
    if applications.empty:
        raise DataError(
            "Catalog entry 'raw_applications' has no rows: check the file it points at."
        )
    id_column = params["id_column"]
    typed = parse_columns(normalise_column_names(applications), params["column_types"])
    typed.insert(0, "source_row", np.arange(len(typed), dtype="int64"))
    primary = typed.merge(bureau_summary, on=id_column, how="left", validate="many_to_one")
    primary["has_bureau_records"] = primary[id_column].isin(bureau_summary[id_column])
    count_like = [name for name, (_, how) in params["bureau_summary"].items() if how in COUNT_LIKE]
    primary[count_like] = primary[count_like].fillna(0)
    primary = add_ratios(primary, params.get("ratios", {}))
    if len(primary) != len(applications):  # a join must never add or lose applications
        raise DataError(f"Join changed the row count ({len(applications)} -> {len(primary)}).")
    record = {"metrics": {"rows_raw_applications": len(applications), "rows_primary": len(primary)}}
    return primary, record
