"""Ingestion nodes: pure functions from raw sources to one typed, normalised primary table.

The main source gives one primary row per raw row, with its position as ``source_row``;
each related source is summarised per key and joined onto it; the target is encoded as the
problem type says (``problem/``: class codes, or numbers), unknown values as missing.
"""

import logging
from typing import Any

import numpy as np
import pandas as pd

from ...columns import ROW_POSITION, normalise_column_names, text_column
from ...errors import ConfigError, DataError
from ...problem import problem_of
from ...project_config import sources_of
from ...spark_engine import is_spark_frame
from .rules import (
    AGGREGATIONS,
    BOOLEAN_WORDS,
    COUNT_LIKE,
    PARAMETERS_FILE,
    columns_to_parse,
    require_columns,
)

logger = logging.getLogger(__name__)


def _to_integer(values: pd.Series) -> pd.Series:
    """Parse whole numbers; anything else (text, fractions, beyond 64 bits) becomes missing."""
    numbers = pd.to_numeric(values.str.strip(), errors="coerce").to_numpy()
    if numbers.dtype.kind != "i":  # fractions, missing values or beyond int64: judged as floats
        numbers = numbers.astype("float64")
        whole = (numbers == np.floor(numbers)) & (np.abs(numbers) < 2**63)  # not inf, fits Int64
        numbers = np.where(whole, numbers, np.nan)
    return pd.Series(numbers, index=values.index, name=values.name).astype("Int64")


def _to_boolean(values: pd.Series) -> pd.Series:
    """Parse true/false, yes/no, 1/0 (any case); anything else becomes missing."""
    return values.str.strip().str.lower().map(BOOLEAN_WORDS).astype("boolean")


PARSERS = {
    "string": lambda s: s.str.strip(),
    "category": lambda s: s.str.strip(),
    "number": lambda s: pd.to_numeric(s.str.strip(), errors="coerce").astype("float64"),
    "integer": _to_integer,
    "boolean": _to_boolean,
    "date": lambda s: pd.to_datetime(s.str.strip(), errors="coerce", format="ISO8601"),
}


def check_related_source(name: str, spec: Any) -> dict[str, Any]:
    """A related source's ``key``, ``aggregations`` and ``presence_column``, checked."""

    def where(key: str) -> str:
        return f"ingestion.related_sources.{name}{key} in {PARAMETERS_FILE}"

    if not isinstance(spec, dict) or not isinstance(spec.get("key"), str):
        raise ConfigError(
            f"{where('.key')} is missing: the column that joins it to the main source."
        )
    unknown = set(spec) - {"key", "aggregations", "presence_column"}
    if unknown:
        raise ConfigError(
            f"{where('')} has unknown key(s) {sorted(unknown)}; use key, aggregations, "
            "presence_column."
        )
    aggregations = spec.get("aggregations")
    if not isinstance(aggregations, dict) or not aggregations:
        raise ConfigError(
            f"{where('.aggregations')} is empty; give output column -> [source column, "
            f"aggregation], e.g. n_rows: [{spec['key']}, count]."
        )
    for output, how in aggregations.items():
        if not (isinstance(how, list | tuple) and len(how) == 2 and how[1] in AGGREGATIONS):
            raise ConfigError(
                f"{where(f'.aggregations.{output}')} is {how!r}; give [source column, "
                f"aggregation] with an aggregation among {list(AGGREGATIONS)}."
            )
    return {
        "key": spec["key"],
        "aggregations": {out: list(how) for out, how in aggregations.items()},
        "presence_column": spec.get("presence_column") or f"has_{name}",
    }


def check_ingestion_config(
    params: dict[str, Any], dataset: dict[str, Any], target_optional: bool = False
) -> dict[str, Any]:
    """Refuse a bad ingestion configuration before any data is read; return the checked plan.

    ``dataset`` is the ``dataset`` section (its problem type and target, checked by
    ``problem_of``). ``target_optional`` (scoring): a main source without the target column is
    read without it.
    """
    problem = problem_of(dataset)
    sources = sources_of(params)
    column_types = params.get("column_types") or {}
    unknown = {c: t for c, t in column_types.items() if t not in PARSERS}
    if unknown:
        raise ConfigError(
            f"ingestion.column_types in {PARAMETERS_FILE} has unknown types {unknown}; "
            f"use one of {sorted(PARSERS)}."
        )
    related = {}
    for source in sources.related:
        spec = check_related_source(source, params["related_sources"][source])
        if column_types and spec["key"] not in column_types:
            raise ConfigError(
                f"ingestion.related_sources.{source}.key in {PARAMETERS_FILE} is "
                f"{spec['key']!r}, which is not a column of the main source "
                f"'{sources.main}' (ingestion.column_types); it has {sorted(column_types)}."
            )
        related[source] = spec
    ratios = params.get("ratios") or {}
    for name, parts in ratios.items():
        if not (isinstance(parts, list | tuple) and len(parts) == 2):
            raise ConfigError(
                f"ingestion.ratios.{name} in {PARAMETERS_FILE} is {parts!r}; give "
                "[numerator, denominator]."
            )
    return {
        "main_source": sources.main,
        "id_column": params.get("id_column"),
        "target": problem.target,
        "dataset": problem.dataset,
        "column_types": dict(column_types),
        "related_sources": related,
        "ratios": dict(ratios),
        "target_optional": target_optional,
    }


def summarise_related_source(
    rows: pd.DataFrame, plan: dict[str, Any], source: str
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One row per key of a related source, with the aggregations configured for it."""
    if is_spark_frame(rows):
        from . import spark

        return spark.summarise_related_source(rows, plan, source)
    spec = plan["related_sources"][source]
    records = normalise_column_names(rows)
    key, aggregations = spec["key"], spec["aggregations"]
    require_columns(
        records, [key, *(column for column, _ in aggregations.values())], f"raw_{source}"
    )
    summary = (
        records.groupby(key, sort=True)
        .agg(**{output: (column, how) for output, (column, how) in aggregations.items()})
        .reset_index()
    )
    record = {"metrics": {f"rows_raw_{source}": len(records), f"keys_with_{source}": len(summary)}}
    return summary, record


def parsed_columns(
    frame: pd.DataFrame, column_types: dict[str, str], entry: str
) -> dict[str, pd.Series]:
    """``frame``'s columns by name, each configured one parsed into its type (checked by
    ``check_ingestion_config``), the others kept as they are."""
    require_columns(frame, list(column_types), entry)
    columns = {}
    for column in frame.columns:
        values = frame[column]
        if column in column_types:
            values = PARSERS[column_types[column]](text_column(values))
        columns[column] = values
    return columns


def parse_columns(frame: pd.DataFrame, column_types: dict[str, str], entry: str) -> pd.DataFrame:
    """Parse each configured column into its type (checked by ``check_ingestion_config``);
    columns not configured are kept as text. One new frame, made whole."""
    return pd.DataFrame(parsed_columns(frame, column_types, entry), index=frame.index)


def _floats(values: Any) -> np.ndarray:
    """A column (Series, nullable or not, or array) as float64, missing as NaN."""
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    return np.asarray(values, dtype="float64")


def ratio_values(columns: Any, ratios: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """``numerator / denominator`` of each ratio, from a frame or a dict of columns; a zero or
    missing denominator gives missing."""
    new = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, (numerator, denominator) in ratios.items():
            below = _floats(columns[denominator])
            new[name] = _floats(columns[numerator]) / np.where(below != 0, below, np.nan)
    return new


def add_ratios(frame: pd.DataFrame, ratios: dict[str, list[str]]) -> pd.DataFrame:
    """Add ``numerator / denominator`` columns; a zero or missing denominator gives missing."""
    return frame.assign(**ratio_values(frame, ratios))


def join_summary(
    primary: pd.DataFrame, summary: pd.DataFrame, source: str, spec: dict[str, Any]
) -> pd.DataFrame:
    """Left-join one related source's summary by its key; keys without rows get 0 counts."""
    key = spec["key"]
    if key not in primary.columns:
        raise DataError(
            f"The main source has no column {key!r}, the key of related source '{source}' "
            f"(ingestion.related_sources.{source}.key in {PARAMETERS_FILE})."
        )
    summary = summary.astype({key: primary[key].dtype}) if key in summary else summary
    joined = primary.merge(summary, on=key, how="left", validate="many_to_one")
    joined[spec["presence_column"]] = joined[key].isin(summary[key])
    counts = [out for out, (_, how) in spec["aggregations"].items() if how in COUNT_LIKE]
    joined[counts] = joined[counts].fillna(0)
    return joined


def build_primary_table(
    main_rows: pd.DataFrame, plan: dict[str, Any], *summaries: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The main source typed, its target encoded (``problem/``), joined with each related
    summary, with lineage.

    ``source_row`` is the row's position in the main source, so any later finding can be
    traced back to it; one primary row per raw row, always.
    """
    if is_spark_frame(main_rows):
        from . import spark

        return spark.build_primary_table(main_rows, plan, *summaries)
    main = plan["main_source"]
    if main_rows.empty:
        raise DataError(f"Catalog entry 'raw_{main}' has no rows: check the file it points at.")
    frame = normalise_column_names(main_rows)
    target = plan["target"]
    labelled, column_types = columns_to_parse(plan, frame)
    typed = parse_columns(frame, column_types, f"raw_{main}")
    problem = problem_of(plan["dataset"])
    primary = problem.encode_target_column(typed) if labelled else typed
    primary.insert(0, ROW_POSITION, np.arange(len(primary), dtype="int64"))
    for (source, spec), summary in zip(plan["related_sources"].items(), summaries, strict=True):
        primary = join_summary(primary, summary, source, spec)
    primary = add_ratios(primary, plan["ratios"])
    if len(primary) != len(main_rows):  # a join must never add or lose rows
        raise DataError(f"A join changed the row count ({len(main_rows)} -> {len(primary)}).")
    unknown_labels = int(primary[target["column"]].isna().sum()) if labelled else len(primary)
    record = {
        "metrics": {
            f"rows_raw_{main}": len(main_rows),
            "rows_primary": len(primary),
            "rows_without_known_target": unknown_labels,
        }
    }
    return primary, record
