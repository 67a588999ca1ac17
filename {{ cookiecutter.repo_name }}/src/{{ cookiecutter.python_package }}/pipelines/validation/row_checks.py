"""A suite's row expectations as vectorised pandas checks: GX's verdicts without GX's per-call cost.

``compile_row_checks`` turns the ``row`` expectations of a checked suite (``check_suite_config``)
once into checks on a pandas frame that find the same failing rows, and so the same reasons
(``<dataset>.<expectation id>``), as Great Expectations 1.x does on pandas: nulls are set aside
(except by the null checks), ``mostly`` is the share of the non-null rows that must pass (of all
rows for the null checks), and a rule met ``mostly`` names no row. The served model checks each
request with them; the batch pipeline keeps running GX (its reports are the audit trail).

Compiled kinds: ``ROW_KINDS``. A ``row`` expectation of another kind, or with kwargs a compiled
check does not know (``row_condition``), is run by GX on the frame, so its verdict stays GX's.
``table`` expectations judge a whole batch, not a row: they are listed in ``unchecked``.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...columns import TEXT, text_column
from ...errors import DataError

Check = Callable[[pd.DataFrame], tuple[np.ndarray, int]]
# Kwargs every compiled kind accepts besides its own (GX's result options do not change rows).
COMMON_KWARGS = {"column", "mostly", "result_format", "catch_exceptions"}
NULL_KINDS = ("expect_column_values_to_not_be_null", "expect_column_values_to_be_null")
# Up to this many values, text is matched value by value in Python (``re``, set membership):
# what pandas does on text (its ``str.contains`` keeps Python's ``re`` semantics), without its
# fixed cost per call, which dominates on a request's few rows.
FEW = 256


@dataclass(frozen=True)
class RowChecks:
    """A dataset's compiled row checks, in suite order, and what is not checked row by row."""

    dataset: str
    row_key: str | None
    checks: tuple[tuple[str, Any], ...]  # (expectation id, Check or the entry GX runs)
    unchecked: tuple[dict[str, str], ...] = field(default=())

    def failures(self, frame: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
        """``(reason, positions)`` of each failing row expectation, in suite order."""
        gx_rows = self._gx_failures(frame)
        found = []
        for entry_id, check in self.checks:
            if callable(check):
                unexpected, considered = check(frame)
                if not _fails(unexpected, considered, check.mostly):  # type: ignore[attr-defined]
                    continue
                positions = np.flatnonzero(unexpected)
            elif entry_id in gx_rows:
                positions = gx_rows[entry_id]
            else:
                continue
            found.append((f"{self.dataset}.{entry_id}", positions))
        return found

    def reasons(self, frame: pd.DataFrame) -> list[list[str]]:
        """Per row of ``frame`` (by position), the reasons it breaks, in suite order."""
        reasons: list[list[str]] = [[] for _ in range(len(frame))]
        for reason, positions in self.failures(frame):
            for position in positions:
                reasons[position].append(reason)
        return reasons

    def _gx_failures(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        entries = [check for _, check in self.checks if not callable(check)]
        if not entries:
            return {}
        from .suites import run_suite

        key = "__row_position__"
        keyed = frame.assign(**{key: np.arange(len(frame))})
        config = {"row_key": key, "expectations": entries}
        result = run_suite(keyed.reset_index(drop=True), self.dataset, config)
        return {
            o["id"]: np.sort(np.asarray(o["unexpected_rows"], dtype="int64"))
            for o in result["expectations"]
            if not o["success"] and o["unexpected_rows"] is not None
        }


def _fails(unexpected: np.ndarray, considered: int, mostly: float) -> bool:
    """GX's verdict of a map expectation: no rows considered passes; else the passing share."""
    if considered == 0:
        return False
    return (considered - int(unexpected.sum())) / considered < mostly


def _mostly(kwargs: dict[str, Any]) -> float:
    mostly = kwargs.get("mostly")
    return 1.0 if mostly is None else float(mostly)


def _on_non_null(test: Callable[[pd.Series], Any]) -> Callable[[str], Check]:
    """A check on the column's non-null values (GX sets nulls aside for these kinds)."""

    def build(column: str) -> Check:
        def check(frame: pd.DataFrame) -> tuple[np.ndarray, int]:
            values = frame[column]
            present = ~values.array.isna()  # ``notna``, without a Series made
            count = int(present.sum())
            if count == len(present):  # no null: no selection to make (a request's usual case)
                return ~np.asarray(test(values), dtype=bool), count
            unexpected = np.zeros(len(frame), dtype=bool)
            if count:
                met = np.asarray(test(values[present]), dtype=bool)
                unexpected[present] = ~met
            return unexpected, count

        return check

    return build


def _contains(values: pd.Series, regex: str) -> np.ndarray:
    """``values.astype(str).str.contains(regex)`` (GX's ``match_regex`` on pandas)."""
    text = text_column(values)
    if len(text) > FEW:
        return text.str.contains(regex).to_numpy(dtype=bool)
    search = re.compile(regex).search  # re caches compiled patterns
    return np.fromiter((search(v) is not None for v in text.tolist()), bool, len(text))


def _in_set(value_set: list[Any]) -> Callable[[pd.Series], Any]:
    """``values.isin(value_set)``; on a few values of text and a set of text, value by value."""
    text_set = frozenset(value_set) if all(isinstance(v, str) for v in value_set) else None

    def test(values: pd.Series) -> Any:
        if text_set is not None and len(values) <= FEW and values.dtype == TEXT:
            return np.fromiter((v in text_set for v in values.tolist()), bool, len(values))
        return values.isin(value_set).to_numpy()

    return test


def _exact_as_float(values: pd.Series) -> bool:
    """Whether ``values`` are integers without a null that float64 holds exactly (|v| <= 2**53),
    so comparing them as floats gives what comparing each Python int gives."""
    if not pd.api.types.is_integer_dtype(values.dtype) or values.hasnans:
        return False
    return len(values) == 0 or bool(values.min() >= -(2**53) and values.max() <= 2**53)


def _bound(value: Any) -> float | None:
    """A bound as GX's model holds it: a number becomes a float; text that reads as a number
    too. Other bounds (dates, text) are left to GX (ValueError)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"bound {value!r} is left to GX")
    return float(value)


def _between(kwargs: dict[str, Any]) -> Callable[[pd.Series], Any]:
    """GX's ``column_values.between`` on pandas: vectorised on int/float and ns datetimes, value
    by value (Python comparisons, text against text only) on anything else."""
    low, high = _bound(kwargs.get("min_value")), _bound(kwargs.get("max_value"))
    strict_low, strict_high = bool(kwargs.get("strict_min")), bool(kwargs.get("strict_max"))
    if low is None and high is None:
        raise ValueError("min_value and max_value cannot both be None")
    if low is not None and high is not None and low > high:
        raise ValueError("min_value cannot be greater than max_value")

    def within(values: Any, low: Any, high: Any) -> Any:
        above = True if low is None else (values > low if strict_low else values >= low)
        below = True if high is None else (values < high if strict_high else values <= high)
        return above & below

    def one(value: Any) -> bool:
        for bound in (low, high):
            if bound is not None and isinstance(value, str) != isinstance(bound, str):
                raise TypeError(
                    "Column values, min_value, and max_value must either be None or of the "
                    "same type."
                )
        return bool(within(value, low, high))

    def test(values: pd.Series) -> Any:
        if values.dtype in [int, float]:  # numpy's comparisons, as pandas makes them
            return np.asarray(within(values.to_numpy(), low, high), dtype=bool)
        if _exact_as_float(values):  # nullable integers: Python's comparisons, vectorised
            return np.asarray(within(values.to_numpy(dtype="float64"), low, high), dtype=bool)
        if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_ns_dtype(
            values.dtype
        ):
            from dateutil.parser import parse

            return within(
                values,
                parse(low) if isinstance(low, str) else low,
                parse(high) if isinstance(high, str) else high,
            ).to_numpy()
        return values.map(one).to_numpy()

    return test


def _type_classes(type_: str) -> tuple[type, ...]:
    """The classes GX's pandas ``of_type`` accepts for a type name (numpy, pandas, Python)."""
    classes: list[type] = []
    try:
        classes.append(np.dtype(type_).type)
    except TypeError:
        for where in (pd, pd.core.dtypes.dtypes):
            found = getattr(where, type_, None)
            if isinstance(found, type):
                classes.append(found)
    native = {
        "none": (type(None),),
        "bool": (bool,),
        "int": (int,),
        "long": (int,),
        "float": (float,),
        "bytes": (bytes,),
        "complex": (complex,),
        "str": (str,),
        "string_types": (str,),
        "list": (list,),
        "dict": (dict,),
    }.get(type_.lower(), ())
    classes.extend(native)
    if not classes:
        raise ValueError(f"Unrecognized numpy/python type: {type_}")
    return tuple(classes)


def _of_type(column: str, type_: str | None) -> Check:
    """GX's pandas ``of_type``: value by value on an object column; on any other column a
    verdict on its dtype, which names no row (the batch reports it as a table failure)."""

    def check(frame: pd.DataFrame) -> tuple[np.ndarray, int]:
        values = frame[column]
        none = np.zeros(len(frame), dtype=bool)
        if values.dtype.type.__name__ != "object_" or type_ in ("object", "object_", "O", None):
            return none, 0
        classes = _type_classes(type_)
        present = values.notna().to_numpy()
        kinds = values[present].map(type)  # each distinct type is judged once, not each value
        judged = {kind: issubclass(kind, classes) for kind in kinds.unique()}
        none[present] = ~kinds.map(judged).to_numpy(bool)
        return none, int(present.sum())

    return check


def _compiled(kind: str, kwargs: dict[str, Any]) -> Check | None:  # noqa: PLR0911
    """The vectorised check of one expectation, or None when GX must run it."""
    column = kwargs.get("column")
    known = COMMON_KWARGS | set(ROW_KINDS.get(kind, ("-",)))
    if kind not in ROW_KINDS or not isinstance(column, str) or set(kwargs) - known:
        return None
    if kind == "expect_column_values_to_not_be_null":
        return lambda frame: (frame[column].isna().to_numpy(), len(frame))
    if kind == "expect_column_values_to_be_null":
        return lambda frame: (frame[column].notna().to_numpy(), len(frame))
    if kind == "expect_column_values_to_match_regex":
        regex = kwargs["regex"]
        return _on_non_null(lambda v: _contains(v, regex))(column)
    if kind == "expect_column_values_to_not_match_regex":
        regex = kwargs["regex"]
        return _on_non_null(lambda v: ~_contains(v, regex))(column)
    if kind == "expect_column_values_to_be_in_set":
        value_set = kwargs.get("value_set")
        if value_set is None:
            return _on_non_null(lambda v: np.ones(len(v), dtype=bool))(column)
        return _on_non_null(_in_set(value_set))(column)
    if kind == "expect_column_values_to_be_between":
        return _on_non_null(_between(kwargs))(column)
    if kind == "expect_column_values_to_be_unique":
        return _on_non_null(lambda v: ~v.duplicated(keep=False))(column)
    if kind == "expect_column_values_to_be_of_type":
        return _of_type(column, kwargs.get("type_"))
    return None


# Each compiled kind and the kwargs of its own it understands.
ROW_KINDS: dict[str, tuple[str, ...]] = {
    "expect_column_values_to_not_be_null": (),
    "expect_column_values_to_be_null": (),
    "expect_column_values_to_match_regex": ("regex",),
    "expect_column_values_to_not_match_regex": ("regex",),
    "expect_column_values_to_be_in_set": ("value_set",),
    "expect_column_values_to_be_between": ("min_value", "max_value", "strict_min", "strict_max"),
    "expect_column_values_to_be_unique": (),
    "expect_column_values_to_be_of_type": ("type_",),
}


def _guarded(dataset: str, entry: dict[str, Any], check: Check) -> Check:
    """The check, with GX's ``mostly`` attached and its errors worded as the batch words them."""

    def guarded(frame: pd.DataFrame) -> tuple[np.ndarray, int]:
        try:
            return check(frame)
        except (TypeError, ValueError, re.error) as error:
            raise DataError(
                f"Validating {dataset}: {entry['type']} ({entry['id']}) could not be evaluated: "
                f"{error}. Check the data, or the entry in conf/base/parameters_validation.yml."
            ) from None

    guarded.mostly = _mostly(entry["kwargs"])  # type: ignore[attr-defined]
    return guarded


def compile_row_checks(suite: dict[str, Any], dataset: str) -> RowChecks:
    """``dataset``'s checked suite (``check_suite_config``) as row checks, built once.

    ``unchecked`` lists the ``table`` expectations (``dataset``, ``id``, ``type``): they judge a
    batch as a whole and are not checked row by row.
    """
    checks: list[tuple[str, Any]] = []
    unchecked = []
    for entry in suite["expectations"]:
        if entry["severity"] != "row":
            unchecked.append({"dataset": dataset, "id": entry["id"], "type": entry["type"]})
            continue
        try:
            check = _compiled(entry["type"], entry["kwargs"])
        except (TypeError, ValueError, KeyError, re.error):
            check = None  # GX gives the error in its own words
        checks.append((entry["id"], _guarded(dataset, entry, check) if check else entry))
    return RowChecks(dataset, suite.get("row_key"), tuple(checks), tuple(unchecked))
