"""``kedro draft-config PATH``: a first configuration drawn from your own data file.

Reads the file as text, infers a type per column, and writes ``conf/base/catalog.yml``,
``parameters_dataset.yml``, ``parameters_ingestion.yml`` and ``parameters_validation_suites.yml``
so that ``kedro run`` works on it with no further edit, and so that the file itself passes its
own validation suite with nothing quarantined. pandas is imported only when the command runs,
so that ``kedro --help`` stays fast.
"""

import codecs
import csv
import math
import re
import shutil
import subprocess
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import yaml

if TYPE_CHECKING:
    import pandas as pd

CONF_FILES = (
    "catalog.yml",
    "parameters_dataset.yml",
    "parameters_ingestion.yml",
    "parameters_validation_suites.yml",
)
COMMIT_MESSAGE = "Configuration replaced by kedro draft-config"
ROW_COLUMN = "source_row"  # added by ingestion: the row's position in the main source

# Whole values that mean "missing": strong ones wherever they appear, weak ones only in an
# otherwise numeric column or in two columns or more.
STRONG_MARKERS = {"?", "??", "n/a", "#n/a", "null", "nan", "<na>"}
WEAK_MARKERS = {"na", "n.a.", "n.a", "-", "--", "none", "nil", ".", "missing"}

INTEGER = re.compile(r"^[-+]?\d+$")
NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
BOOLEAN = {"true", "false"}
# Regexes of the raw suite: the text as read may keep spaces around a value.
RAW_REGEX = {
    "integer": r"^\s*[-+]?\d+\s*$",
    "number": r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$",
    "date": r"^\s*" + ISO_DATE.pattern[1:-1] + r"\s*$",
}
MAX_CATEGORIES = 50
MAX_MALFORMED_SHARE = 0.02
MAX_ROWS = 10_000_000
NUMERIC_KINDS = ("integer", "number", "boolean")
_WHAT = {"integer": "a whole number", "number": "a number", "date": "an ISO date"}

DATASET_TYPES = {
    ".csv": "pandas.CSVDataset",
    ".tsv": "pandas.CSVDataset",
    ".txt": "pandas.CSVDataset",
    ".parquet": "pandas.ParquetDataset",
    ".pq": "pandas.ParquetDataset",
    ".xlsx": "pandas.ExcelDataset",
    ".xls": "pandas.ExcelDataset",
    ".json": "pandas.JSONDataset",
    ".jsonl": "pandas.JSONDataset",
}
TEXT_TYPES = ("pandas.CSVDataset", "pandas.ExcelDataset")  # read with dtype str


def normalise(name: object) -> str:
    """Lower snake_case, as ingestion names columns (``Hours per Week`` -> ``hours_per_week``)."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


@dataclass
class Column:
    """What the file shows about one column (values stripped, missing markers removed)."""

    name: str
    header: str
    kind: str
    rows: int
    missing: int
    distinct: int
    values: list[str]  # the distinct stripped values when few (<= MAX_CATEGORIES), else []
    raw_values: list[Any]  # the distinct values as the catalog entry reads them, when few
    read_as_text: bool
    minimum: float | None = None
    maximum: float | None = None
    spread: tuple[float, float] | None = None  # 1st and 99th percentiles of a numeric column
    row_number: bool = False
    malformed: list[str] = field(default_factory=list)  # values that break its type

    @property
    def present(self) -> int:
        return self.rows - self.missing

    def parse(self, text: str) -> Any:
        """``text`` as ingestion types a value of this column."""
        text = text.strip()
        if self.kind == "integer" and INTEGER.match(text):
            return int(text)
        if self.kind == "number" and NUMBER.match(text):
            return float(text)
        if self.kind == "boolean" and text.lower() in BOOLEAN:
            return text.lower() == "true"
        return text


@dataclass
class Source:
    """The file as the catalog entry will read it."""

    path: Path
    dataset_type: str
    load_args: dict[str, Any]
    frame: "pd.DataFrame"  # as read, columns normalised
    headers: list[str]  # as in the file
    padded: list[str] = field(default_factory=list)
    markers: dict[str, list[str]] = field(default_factory=dict)  # marker -> columns


@dataclass
class Draft:
    """The decisions, the four files' text, and the notes printed for the user."""

    source: str
    data: Source
    columns: dict[str, Column]
    files: dict[str, str]
    dataset: dict[str, Any]
    rate: float
    quarantined: int  # rows of this file the drafted suites quarantine
    reasons: list[str]
    notes: list[str]
    review: list[str]


# Reading -------------------------------------------------------------------------------------


def _encoding(path: Path) -> str:
    """utf-8 (utf-8-sig with a byte-order mark) if the whole file decodes so, else latin-1."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        first = handle.read(3)
        handle.seek(0)
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8-sig" if first == codecs.BOM_UTF8 else "utf-8"


def _delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, newline="") as handle:
        sample = handle.read(65536)
    if "\n" in sample.rstrip("\n"):
        sample = sample[: sample.rstrip("\n").rfind("\n")]  # whole lines only
    fallback = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return fallback
    header = sample.splitlines()[0] if sample else ""
    return sep if sep in header else fallback


def _read_text(path: Path, dataset_type: str, **load_args: Any) -> "pd.DataFrame":
    import pandas as pd

    args = {"dtype": str, "keep_default_na": False, **load_args}
    if dataset_type == "pandas.CSVDataset":
        return pd.read_csv(path, **args)
    try:
        return pd.read_excel(path, **args)
    except ImportError as error:
        raise click.ClickException(
            f"{path.name}: reading Excel needs openpyxl ({error}); install it "
            "(kedro-datasets[pandas-exceldataset]) or save the sheet as CSV."
        ) from None


def _read(path: Path) -> Source:
    """Read ``path`` as its catalog entry will; find padded values and missing markers."""
    import pandas as pd

    dataset_type = DATASET_TYPES.get(path.suffix.lower())
    if dataset_type is None:
        raise click.ClickException(
            f"{path.name}: unknown file type {path.suffix!r}; use one of {sorted(DATASET_TYPES)}."
        )
    try:
        if dataset_type in TEXT_TYPES:
            return _read_as_text(path, dataset_type)
        load_args = {"lines": True} if path.suffix.lower() == ".jsonl" else {}
        if dataset_type == "pandas.ParquetDataset":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_json(path, **load_args)
    except click.ClickException:
        raise
    except Exception as error:  # a malformed file: one line naming it
        raise click.ClickException(
            f"{path}: cannot be read ({type(error).__name__}: {error})"
        ) from None
    headers = [str(c) for c in frame.columns]
    return Source(path, dataset_type, load_args, frame.set_axis(_names(headers), axis=1), headers)


def _padded(path: Path, load_args: dict[str, Any], frame: "pd.DataFrame") -> list[str]:
    """The columns with values padded with spaces (leading ones seen in a second reading)."""
    exact = frame
    if load_args.get("skipinitialspace"):
        try:  # the values exactly as in the file
            args = {**load_args, "skipinitialspace": False}
            exact = _read_text(path, "pandas.CSVDataset", **args).set_axis(frame.columns, axis=1)
        except ValueError:  # a quote after a space splits fields otherwise: trailing spaces only
            exact = frame
        if exact.shape != frame.shape:
            exact = frame
    return [c for c in frame.columns if (exact[c] != exact[c].str.strip()).any()]


def _read_as_text(path: Path, dataset_type: str) -> Source:
    load_args: dict[str, Any] = {}
    if dataset_type == "pandas.CSVDataset":
        encoding = _encoding(path)
        sep = _delimiter(path, encoding)
        load_args = {"sep": sep, "encoding": encoding, "skipinitialspace": True}
    frame = _read_text(path, dataset_type, **load_args)
    headers = [str(c).strip() for c in frame.columns]
    frame.columns = _names(headers)
    padded = _padded(path, load_args, frame)
    markers = _missing_markers(frame.apply(lambda s: s.str.strip()))
    spellings: set[str] = set()  # every spelling as read (" ?", "? "), blanks included
    for column in frame:
        values = frame[column].drop_duplicates()
        spellings.update(values[values.str.strip().isin(["", *markers])])
    na_values = ["", *sorted(spellings - {""})]
    load_args = {"na_values": na_values, **load_args}
    frame = frame.mask(frame.isin(na_values))  # what read_csv does with na_values
    return Source(path, dataset_type, load_args, frame, headers, padded, markers)


def _names(headers: list[str]) -> list[str]:
    names = [normalise(h) for h in headers]
    for header, name in zip(headers, names, strict=True):
        if not name:
            raise click.ClickException(
                f"Header {header!r} has no letter or digit: give that column a name in the file."
            )
        if names.count(name) > 1:
            clash = [h for h, n in zip(headers, names, strict=True) if n == name]
            raise click.ClickException(
                f"Headers {clash} all become column {name!r}: rename all but one in the file."
            )
    if ROW_COLUMN in names:
        raise click.ClickException(
            f"The file has a column {ROW_COLUMN!r}, the name ingestion gives the row position: "
            "rename it in the file."
        )
    return names


def _distinct(values: "pd.Series") -> tuple["pd.Series", Any]:
    """The distinct values (a Series, 0..n-1) and the number of rows of each (an array)."""
    import pandas as pd

    counts = values.value_counts()
    return pd.Series(counts.index.astype(str)), counts.to_numpy()


def _fits(values: "pd.Series", pattern: re.Pattern[str]) -> Any:
    """Which ``values`` match ``pattern`` as a whole (a boolean array; vectorised)."""
    return values.str.fullmatch(pattern.pattern).to_numpy(dtype=bool, na_value=False)


def _lowered(values: "pd.Series", words: set[str]) -> Any:
    """Which ``values`` are one of ``words``, whatever their case (a boolean array)."""
    return values.str.lower().isin(words).to_numpy(dtype=bool)


def _missing_markers(stripped: "pd.DataFrame") -> dict[str, list[str]]:
    """Marker -> columns, for whole values such as ``?`` or ``N/A`` that mean missing."""
    found: dict[str, list[str]] = {}
    weak: dict[str, list[str]] = {}
    for column in stripped:
        values, weights = _distinct(stripped[column])
        token = _lowered(values, STRONG_MARKERS | WEAK_MARKERS)
        tokens = list(values[token])
        other = ~token & (values != "").to_numpy(dtype=bool)
        numbers = weights[other & _fits(values, NUMBER)].sum()
        numeric = numbers > 0 and numbers >= (1 - MAX_MALFORMED_SHARE) * weights[other].sum()
        for token in tokens:
            strong = numeric or token.lower() in STRONG_MARKERS
            (found if strong else weak).setdefault(token, []).append(column)
    for token, columns in weak.items():
        if len(columns) > 1 or token in found:
            found.setdefault(token, []).extend(columns)
    return {token: sorted(columns) for token, columns in sorted(found.items())}


# Inference ------------------------------------------------------------------------------------


def _kind(values: "pd.Series", weights: Any) -> tuple[str, list[str]]:
    """The column's type from its distinct values (and their rows), and the values that break it.

    A column whose values are numbers but for a few (at most MAX_MALFORMED_SHARE of its rows,
    e.g. ``forty`` among whole numbers) is numeric: its suite quarantines those rows.
    """
    import pandas as pd

    if values.empty:
        return "string", []
    integer, number = _fits(values, INTEGER), _fits(values, NUMBER)
    exact = {"integer": integer, "number": number, "boolean": _lowered(values, BOOLEAN)}
    kind = next((kind for kind, fits in exact.items() if fits.all()), None)
    if kind:
        return kind, []
    if _fits(values, ISO_DATE).all():
        parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
        if parsed.notna().all():
            return "date", []
    for kind, fits in (("integer", integer), ("number", number)):
        if fits.any() and weights[~fits].sum() <= MAX_MALFORMED_SHARE * weights.sum():
            return kind, list(values[~fits])
    if len(values) <= MAX_CATEGORIES and len(values) < 0.5 * weights.sum():
        return "category", []
    return "string", []


def _python(value: Any) -> Any:
    """A numpy scalar as the Python value YAML can write."""
    return value.item() if hasattr(value, "item") else value


def _describe(name: str, header: str, raw: "pd.Series", read_as_text: bool) -> Column:
    import pandas as pd

    present = raw.dropna()
    text = present.astype(str).str.strip()
    distinct, weights = _distinct(text)
    distinct_values = list(distinct) if len(distinct) <= MAX_CATEGORIES else []
    kind, malformed = _kind(distinct, weights)
    column = Column(
        name=name,
        header=header,
        kind=kind,
        rows=len(raw),
        missing=len(raw) - len(present),
        distinct=len(distinct),
        values=sorted(distinct_values),
        raw_values=[],
        read_as_text=read_as_text,
        malformed=malformed,
    )
    if column.distinct <= MAX_CATEGORIES:
        column.raw_values = sorted((_python(v) for v in present.unique()), key=str)
    if column.kind in ("integer", "number"):
        numbers = pd.to_numeric(text, errors="coerce").dropna()
        low, high = _python(numbers.min()), _python(numbers.max())
        if column.kind == "integer":
            column.minimum, column.maximum = int(low), int(high)
            first = int(numbers.iloc[0]) if len(numbers) else -1
            column.row_number = (
                column.missing == 0
                and not malformed
                and first in (0, 1)
                and column.rows > 1
                and bool((numbers.diff().iloc[1:] == 1).all())
            )
        else:
            column.minimum, column.maximum = float(low), float(high)
        column.spread = (float(numbers.quantile(0.01)), float(numbers.quantile(0.99)))
    return column


def _nice_bins(low: float, high: float) -> list[int | float]:
    """About four bands of round edges: the first <= ``low``, the last strictly above ``high``."""
    span = max(high - low, abs(high), 1e-9)
    power = math.floor(math.log10(span / 4))
    steps = [m * 10.0**p for p in range(power - 1, power + 3) for m in (1, 2, 2.5, 5)]
    step = start = stop = 0.0
    for step in sorted(steps):
        start = math.floor(low / step) * step
        stop = (math.floor(high / step) + 1) * step
        if round((stop - start) / step) + 1 <= 5:
            break
    count = round((stop - start) / step) + 1
    decimals = max(0, -math.floor(math.log10(step)) + 1)
    edges = [round(start + i * step, decimals) for i in range(count)]
    if step >= 1 and all(float(e).is_integer() for e in edges):
        return [int(e) for e in edges]
    return edges


def _bins(column: Column) -> list[int | float]:
    """Round bands of a numeric column's bulk (1st-99th percentile), widened to its extremes.

    An outlier (an age of 999) gets a band of its own rather than stretching every band.
    """
    assert column.minimum is not None and column.maximum is not None and column.spread
    edges = _nice_bins(*column.spread)
    step = edges[1] - edges[0]
    kind = int if all(isinstance(e, int) for e in edges) else float
    if edges[0] > column.minimum:
        edges.insert(0, kind(math.floor(column.minimum / step) * step))
    if edges[-1] <= column.maximum:
        edges.append(kind((math.floor(column.maximum / step) + 1) * step))
    return edges


# The drafted configuration ------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Indents lists under their key, as the project's hand-written files do."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _dump(value: Any, indent: int = 0, flow: bool | None = None) -> str:
    text = yaml.dump(
        value,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=flow,
        width=100,
        allow_unicode=True,
    )
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


def _line(key: str, value: Any, comment: str = "", indent: int = 0) -> str:
    """``key: value`` on one line (a list in flow style), with an optional comment after it."""
    nested = isinstance(value, list | dict)  # a list of scalars: flow style, on one line
    text = _dump({key: value}, indent, flow=None if nested else False).rstrip("\n")
    if "\n" in text:  # too long for one line: keep the block form, comment above it
        return (f"{' ' * indent}# {comment}\n" if comment else "") + text + "\n"
    return f"{text}  # {comment}\n" if comment else text + "\n"


def _comment(text: str, indent: int = 0) -> str:
    """``text`` as comment lines that fit in 100 columns."""
    lines = textwrap.wrap(" ".join(text.split()), width=100 - indent - 2)
    return "".join(f"{' ' * indent}# {line}\n" for line in lines)


def _check(name: str, text: str, data: dict[str, Any]) -> str:
    """``text`` itself, after checking that it loads back as ``data``."""
    if yaml.safe_load(text) != data:
        raise RuntimeError(f"draft-config wrote {name} that does not load back as drafted")
    return text


def _catalog(draft: "Draft", filepath: str) -> str:
    entry = f"raw_{draft.source}"
    load = dict(draft.data.load_args)
    if draft.data.dataset_type in TEXT_TYPES:
        load = {"dtype": "str", "keep_default_na": False, **load}
    data = {
        entry: {
            "type": draft.data.dataset_type,
            "filepath": filepath,
            **({"load_args": load} if load else {}),
            "metadata": {"kedro-viz": {"layer": "raw"}},
        }
    }
    comments = {
        "dtype": "read as text; ingestion parses types, so malformed values are kept and reported",
        "keep_default_na": "only na_values mean missing",
        "na_values": "whole values that mean missing",
        "sep": "column separator",
        "encoding": "text encoding of the file",
        "skipinitialspace": "drop the spaces after a separator (ingestion strips the rest)",
        "lines": "one JSON record per line",
    }
    text = _comment(
        f"The raw source, drafted by `kedro draft-config` from {draft.data.path.name}: your data,\n"
        "never modified. One entry raw_<source> for each source named in\n"
        "parameters_ingestion.yml (main_source and related_sources); any kedro-datasets type\n"
        "works (pandas.CSVDataset, ParquetDataset, ExcelDataset, SQLTableDataset, ...).\n"
        "Column names and types are in parameters_ingestion.yml. Paths are relative to the\n"
        "project root."
    )
    text += f"{entry}:\n"
    text += _line("type", draft.data.dataset_type, indent=2)
    text += _line("filepath", filepath, indent=2)
    if load:
        text += "  load_args:\n"
        text += "".join(_line(k, v, comments.get(k, ""), 4) for k, v in load.items())
    text += "  metadata:\n    kedro-viz:\n      layer: raw\n"
    return _check("catalog.yml", text, data)


def _dataset_file(dataset: dict[str, Any]) -> str:
    target, features = dataset["target"], dataset["features"]
    text = _comment(
        "What the data is: the facts about YOUR dataset that every pipeline needs, written once\n"
        "here and referred to elsewhere with OmegaConf interpolation (e.g.\n"
        "${dataset.target.column}). Drafted by `kedro draft-config`: review it before your first\n"
        "run."
    )
    text += "dataset:\n"
    text += _comment(
        "Column that identifies a row of the main source; null: the row's position in the main\n"
        "source (source_row) is its id.",
        2,
    )
    text += _line("id_column", dataset["id_column"], indent=2)
    text += _comment(
        "The column to predict and what its positive class means. `positive` is the value (a\n"
        "number, a text or a boolean; a list for several spellings) that counts as the positive\n"
        "class (1); `negative` likewise (null: every other known value). A value that is neither\n"
        "is unknown: validation quarantines the row.",
        2,
    )
    text += "  target:\n"
    text += _line("column", target["column"], indent=4)
    text += _line("positive", target["positive"], indent=4)
    text += _line("negative", target["negative"], indent=4)
    text += _line(
        "positive_means", target["positive_means"], 'REVIEW: "predicted to <positive_means>"', 4
    )
    text += _line("negative_means", target["negative_means"], "REVIEW", 4)
    text += _line(
        "favourable", target["favourable"], "REVIEW: is the positive class good for the person?", 4
    )
    text += _comment(
        "Model inputs (columns of the primary table). Sensitive attributes are not listed here\n"
        "unless training.use_sensitive_features is true.",
        2,
    )
    text += "  features:\n"
    for key in ("numeric", "categorical"):
        text += _dump({key: features[key]}, 4, flow=False)
    text += _line("drop", features["drop"], "never model inputs", 4)
    text += _comment(
        "Attributes the model must not use; the fairness review measures the model across them.\n"
        "name -> {column (if omitted: the name), bins (numbers -> bands [b0, b1), ...)}",
        2,
    )
    if dataset["sensitive_attributes"]:
        text += "  sensitive_attributes:\n"
        for name, spec in dataset["sensitive_attributes"].items():
            text += _line(name, spec, indent=4)
    else:
        text += "  sensitive_attributes: {}\n"
    text += _comment("Groups of two or more attributes at once (e.g. [sex, age]).", 2)
    text += "  intersections: []\n"
    text += _comment(
        "Per attribute or intersection: the fairness criteria that judge it INSTEAD of\n"
        "fairness_review.thresholds; {} = report only. These are the team's decisions.",
        2,
    )
    text += "  fairness_criteria: {}\n"
    text += _comment("Columns of a scored batch copied into its predictions (ids and lineage).", 2)
    text += _line("keep_with_predictions", dataset["keep_with_predictions"], indent=2)
    return _check("parameters_dataset.yml", text, {"dataset": dataset})


def _ingestion_file(source: str, column_types: dict[str, str]) -> str:
    data = {
        "ingestion": {
            "main_source": source,
            "id_column": "${dataset.id_column}",
            "target": "${dataset.target}",
            "column_types": column_types,
            "related_sources": {},
            "ratios": {},
        }
    }
    text = _comment(
        "Ingestion: how the raw sources become one typed primary table (primary_table), one row\n"
        "per row of the main source, with its position there as `source_row`."
    )
    text += "ingestion:\n"
    text += _comment(
        "The main table: one row per example to predict, read from catalog entry\n"
        "raw_<main_source>.",
        2,
    )
    text += _line("main_source", source, indent=2)
    text += "  id_column: ${dataset.id_column}\n  target: ${dataset.target}\n"
    text += _comment(
        "Type each column of the main source is parsed into: string, category, integer, number,\n"
        "boolean or date. Columns not listed are kept as text. A value that does not parse\n"
        "becomes missing here; validation checks the raw text first, so such rows are\n"
        "quarantined with their reason rather than silently changed.",
        2,
    )
    text += "  column_types:\n"
    text += "".join(_line(name, kind, indent=4) for name, kind in column_types.items())
    text += _comment(
        "Related tables (zero or more), each read from catalog entry raw_<name> and summarised\n"
        "per key before it is joined to the main table: key, aggregations (output column ->\n"
        "[source column, count | sum | mean | min | max | nunique | first | last]),\n"
        "presence_column (optional). {}: one table only.",
        2,
    )
    text += "  related_sources: {}\n"
    text += _comment(
        "Ratios added to the primary table: output column -> [numerator, denominator].", 2
    )
    text += "  ratios: {}\n"
    return _check("parameters_ingestion.yml", text, data)


def _expect(kind: str, severity: str, description: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "severity": severity, "description": description}


def _row_count(rows: int) -> dict[str, Any]:
    high = max(MAX_ROWS, 10 * rows)
    return _expect(
        "expect_table_row_count_to_be_between",
        "table",
        f"between 1 and {high:,} rows (this file: {rows:,})",
        min_value=1,
        max_value=high,
    )


def _suites(draft: "Draft", id_column: str | None, rate: float) -> dict[str, Any]:
    columns, target = draft.columns, draft.dataset["target"]["column"]
    raw = [_row_count(len(draft.data.frame))]
    for c in columns.values():
        if c.missing == 0:
            raw.append(
                _expect(
                    "expect_column_values_to_not_be_null",
                    "row",
                    f"{c.name} is present",
                    column=c.name,
                )
            )
        if c.read_as_text and c.kind in RAW_REGEX:
            raw.append(
                _expect(
                    "expect_column_values_to_match_regex",
                    "row",
                    f"{c.name} is {_WHAT[c.kind]}",
                    column=c.name,
                    regex=RAW_REGEX[c.kind],
                )
            )
    raw.append(
        _expect(
            "expect_column_values_to_be_in_set",
            "row",
            f"the target {target} has a known value",
            column=target,
            value_set=columns[target].raw_values,
        )
    )
    primary = [
        _row_count(len(draft.data.frame)),
        _expect(
            "expect_column_values_to_be_unique",
            "table",
            "one primary row per raw row",
            column=ROW_COLUMN,
        ),
    ]
    if id_column:
        primary.append(
            _expect(
                "expect_column_values_to_be_unique",
                "row",
                f"{id_column} identifies one row (all rows sharing an id are quarantined)",
                column=id_column,
            )
        )
    for c in columns.values():
        if c.name in (target, id_column):
            continue
        if c.kind in ("integer", "number"):
            primary.append(
                _expect(
                    "expect_column_values_to_be_between",
                    "row",
                    f"{c.name} is between {c.minimum} and {c.maximum} (as in this file)",
                    column=c.name,
                    min_value=c.minimum,
                    max_value=c.maximum,
                )
            )
        elif c.kind == "category":
            primary.append(
                _expect(
                    "expect_column_values_to_be_in_set",
                    "row",
                    f"{c.name} is one of the {c.distinct} values of this file",
                    column=c.name,
                    value_set=c.values,
                )
            )
    low = math.floor(rate / 2 * 100) / 100
    high = min(1.0, math.ceil((rate + (1 - rate) / 2) * 100) / 100)
    primary += [
        _expect(
            "expect_column_values_to_not_be_null",
            "row",
            f"the target {target} is known",
            column=target,
        ),
        _expect(
            "expect_column_values_to_be_in_set",
            "row",
            f"the target {target} is 0 or 1",
            column=target,
            value_set=[0, 1],
        ),
        _expect(
            "expect_column_mean_to_be_between",
            "table",
            f"the positive rate is plausible (this file: {rate:.1%})",
            column=target,
            min_value=low,
            max_value=high,
        ),
    ]
    return {
        f"raw_{draft.source}": {"expectations": raw},
        "primary_table": {"expectations": primary},
    }


def _suites_file(draft: "Draft", suites: dict[str, Any]) -> str:
    raw_name = f"raw_{draft.source}"
    text = _comment(
        "Great Expectations suites, one per dataset: raw_<source> for each source of\n"
        "parameters_ingestion.yml (the data as read) and primary_table (typed, joined). Every\n"
        "source needs a suite. Each expectation entry: type (a GX expectation), kwargs, severity\n"
        "(row: quarantine the rows that break it; table: the table as a whole fails), and\n"
        "optionally description and id. The main source's rows are keyed by source_row (their\n"
        "position, added before validation). See parameters_validation.yml for the gate.\n"
        "Drafted by `kedro draft-config` from what the file shows: REVIEW the bounds (ranges,\n"
        "sets of values, row count, positive rate) and widen them to what is plausible for new\n"
        "data. Regex and set expectations ignore missing values."
    )
    text += "validation_suites:\n"
    text += _comment(
        f"{draft.data.path.name} as read by catalog entry {raw_name}: text (names normalised,\n"
        "na_values missing). Checks what parsing would hide (malformed numbers and dates).",
        2,
    )
    text += _dump({raw_name: suites[raw_name]}, 2)
    text += "\n"
    text += _comment(
        "The typed primary table (text stripped, target encoded 1 = positive, 0 = negative):\n"
        "meaning (ranges, categories, uniqueness).",
        2,
    )
    text += _dump({"primary_table": suites["primary_table"]}, 2)
    return _check("parameters_validation_suites.yml", text, {"validation_suites": suites})


# Decisions -------------------------------------------------------------------------------------


def _column(option: str, given: str, columns: dict[str, Column]) -> str:
    name = normalise(given)
    if name not in columns:
        raise click.ClickException(
            f"{option} {given!r}: the file has no such column; its columns are "
            f"{', '.join(columns)}."
        )
    return name


def _seen(column: Column) -> str:
    values = column.values or ["(more than 50 values)"]
    return ", ".join(repr(v) for v in values[:20]) + (" ..." if len(values) > 20 else "")


def _positive(column: Column, given: str, stripped: "pd.Series") -> tuple[Any, Any, dict[Any, str]]:
    """The positive value as ingestion compares it, the negative one (or None), the spellings."""
    known = list(stripped.dropna().unique())
    parsed = {column.parse(v): v for v in known}
    value = column.parse(given)
    if value not in parsed:
        close = [v for v in known if v.lower() == given.strip().lower()]
        if len(close) != 1:
            raise click.ClickException(
                f"--positive {given!r} never occurs in column {column.name}; its values are "
                f"{_seen(column)}."
            )
        value = column.parse(close[0])
    if len(parsed) < 2:
        raise click.ClickException(
            f"Column {column.name} has the one value {parsed[value]!r}: a target needs two."
        )
    others = [v for v in parsed if v != value]
    negative = others[0] if len(others) == 1 else None
    return value, negative, parsed


def _check_id(column: Column, stripped: "pd.Series") -> None:
    if column.missing:
        raise click.ClickException(
            f"--id {column.name}: {column.missing:,} row(s) have no value; an id must be present "
            "in every row (leave --id out to use the row position)."
        )
    repeated = stripped[stripped.duplicated(keep=False)]
    if len(repeated):
        examples = ", ".join(repr(v) for v in repeated.unique()[:5])
        raise click.ClickException(
            f"--id {column.name}: values repeat ({examples}); an id must be unique "
            "(leave --id out to use the row position)."
        )


def _quarantined(
    frame: "pd.DataFrame",
    columns: dict[str, Column],
    stripped: dict[str, "pd.Series"],
    target: str,
    unlabelled: int,
) -> dict[str, Any]:
    """How many rows of the file the drafted suites quarantine, and why."""
    rows: set[Any] = set(frame.index[frame[target].isna()])
    reasons = []
    if rows or unlabelled:
        reasons.append(f"{len(rows) + unlabelled:,} row(s) have no known target {target}")
    for c in columns.values():
        if c.malformed:
            values = stripped[c.name]
            bad = values.index[values.isin(c.malformed)]
            rows.update(bad)
            examples = ", ".join(repr(v) for v in c.malformed[:5])
            reasons.append(f"{len(bad):,} row(s) where {c.name} is not {_WHAT[c.kind]}: {examples}")
    return {"quarantined": len(rows) + unlabelled, "reasons": reasons}


def _sensitive(
    given: tuple[str, ...] | list[str], columns: dict[str, Column], taken: tuple[str | None, ...]
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The sensitive attributes (numeric ones with bins) and what to review about them."""
    attributes: dict[str, dict[str, Any]] = {}
    review: list[str] = []
    for text in given:
        name = _column("--sensitive", text, columns)
        if name in taken:
            raise click.ClickException(f"--sensitive {text!r} is the target or the id.")
        c = columns[name]
        attributes[name] = {}
        if c.kind in ("integer", "number") and c.minimum is not None and c.maximum is not None:
            attributes[name] = {"bins": _bins(c)}
        elif c.kind not in ("category", "boolean"):
            review.append(
                f"sensitive attribute {name} has {c.distinct:,} distinct values: give it bins "
                "or group its values, or the fairness review has many tiny groups."
            )
    return attributes, review


def _features(
    columns: dict[str, Column], excluded: set[str | None]
) -> tuple[list[str], list[str], dict[str, str], list[str]]:
    """Numeric and categorical features, dropped columns (-> why), and what to review."""
    numeric: list[str] = []
    categorical: list[str] = []
    drop: dict[str, str] = {ROW_COLUMN: "lineage (the row's position in the file)"}
    review: list[str] = []
    for c in columns.values():
        if c.name in excluded:
            continue
        if c.present == 0:
            drop[c.name] = "empty"
        elif c.distinct == 1:
            drop[c.name] = f"one value only ({c.values[0]!r})"
        elif c.row_number:
            drop[c.name] = "a row number (source_row already keeps the position)"
        elif c.kind in NUMERIC_KINDS:
            numeric.append(c.name)
        elif c.kind == "category":
            categorical.append(c.name)
        elif c.kind == "date":
            drop[c.name] = "a date (derive features from it in ingestion if you need them)"
        elif c.distinct > 0.5 * c.present:
            drop[c.name] = f"text, {c.distinct / c.present:.0%} unique (an identifier or free text)"
        else:
            categorical.append(c.name)
            review.append(
                f"{c.name} is text with {c.distinct:,} distinct values, kept as a categorical "
                "feature: drop it or group its values if that is too many."
            )
    if not numeric and not categorical:
        raise click.ClickException(
            "No column is left as a model input (every column is the target, the id, sensitive "
            "or dropped)."
        )
    return numeric, categorical, drop, review


def draft(
    path: Path,
    target: str,
    positive: str,
    project_root: Path,
    *,
    id_column: str | None = None,
    sensitive: tuple[str, ...] | list[str] = (),
) -> Draft:
    """Read ``path`` and draft the four configuration files (nothing is written)."""
    path = path.resolve()
    data = _read(path)
    if data.frame.empty:
        raise click.ClickException(f"{path}: the file has no rows.")
    read_as_text = data.dataset_type in TEXT_TYPES
    columns = {
        name: _describe(name, header, data.frame[name], read_as_text)
        for name, header in zip(data.frame.columns, data.headers, strict=True)
    }
    stripped = {name: data.frame[name].dropna().astype(str).str.strip() for name in columns}
    target = _column("--target", target, columns)
    tcol = columns[target]
    if tcol.kind not in NUMERIC_KINDS or tcol.malformed:
        tcol.kind, tcol.malformed = "category", []
    value, negative, spellings = _positive(tcol, positive, stripped[target])
    tcol.raw_values = sorted((_python(v) for v in data.frame[target].dropna().unique()), key=str)
    known = stripped[target].map({v: tcol.parse(v) for v in stripped[target].unique()})
    labelled = known if negative is None else known[known.isin([value, negative])]
    rate = float((labelled == value).mean())

    if id_column is not None:
        id_column = _column("--id", id_column, columns)
        if id_column == target:
            raise click.ClickException("--id and --target name the same column.")
        _check_id(columns[id_column], stripped[id_column])
        columns[id_column].kind = "string"  # an identifier is a label, not a quantity
        columns[id_column].malformed = []
    attributes, review = _sensitive(sensitive, columns, (target, id_column))
    numeric, categorical, drop, more = _features(columns, {target, id_column, *attributes})
    review += more
    notes = [f"dropped {name}: {why}" for name, why in drop.items()]
    target_text = {"column": target, "positive": value, "negative": negative}
    dataset = {
        "id_column": id_column,
        "target": {
            **target_text,
            "positive_means": f"have {target} = {spellings[value]}",
            "negative_means": (
                f"have {target} other than {spellings[value]}"
                if negative is None
                else f"have {target} = {spellings[negative]}"
            ),
            "favourable": False,
        },
        "features": {"numeric": numeric, "categorical": categorical, "drop": list(drop)},
        "sensitive_attributes": attributes,
        "intersections": [],
        "fairness_criteria": {},
        "keep_with_predictions": [*([id_column] if id_column else []), ROW_COLUMN],
    }
    result = Draft(
        source=normalise(path.stem) or "data",
        data=data,
        columns=columns,
        files={},
        dataset=dataset,
        rate=rate,
        **_quarantined(data.frame, columns, stripped, target, len(known) - len(labelled)),
        notes=notes,
        review=review,
    )
    try:
        filepath = path.relative_to(project_root.resolve()).as_posix()
    except ValueError:
        filepath = str(path)
    result.files = {
        "catalog.yml": _catalog(result, filepath),
        "parameters_dataset.yml": _dataset_file(dataset),
        "parameters_ingestion.yml": _ingestion_file(
            result.source, {c.name: c.kind for c in columns.values()}
        ),
        "parameters_validation_suites.yml": _suites_file(result, _suites(result, id_column, rate)),
    }
    return result


# Keeping the replaced files ---------------------------------------------------------------------


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise click.ClickException(
            "git is needed to keep the files --force replaces; install git, or move the files "
            "away yourself and run again without --force."
        ) from None


def _git_ok(root: Path, *args: str) -> str:
    done = _git(root, *args)
    if done.returncode != 0:
        raise click.ClickException(
            f"git {' '.join(args[:2])} failed: {done.stderr.strip() or done.stdout.strip()}"
        )
    return done.stdout.strip()


def _commit(root: Path, paths: list[str]) -> None:
    identity: list[str] = []
    if _git(root, "config", "user.email").returncode != 0:
        identity = ["-c", "user.name=kedro draft-config", "-c", "user.email=draft-config@localhost"]
    # --no-verify: this commit keeps the files as they are; hooks must not change or refuse them.
    _git_ok(root, *identity, "commit", "--no-verify", "-q", "-m", COMMIT_MESSAGE, "--", *paths)


def _unless_ignored(root: Path, data_file: Path | None) -> list[str]:
    """A pathspec that keeps ``data_file`` out of a commit, unless .gitignore already does."""
    if data_file is None or not data_file.resolve().is_relative_to(root.resolve()):
        return []
    relative = data_file.resolve().relative_to(root.resolve()).as_posix()
    if _git(root, "check-ignore", "-q", "--", relative).returncode == 0:
        return []
    return [f":(exclude){relative}"]


def keep_in_git(root: Path, files: list[Path], data_file: Path | None = None) -> str:
    """Commit ``files`` (the versions about to be replaced) when git does not hold them yet.

    Outside a git repository, ``git init`` and commit the project (what .gitignore allows, never
    ``data_file``) first. Returns a sentence naming the commit.
    """
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        _git_ok(root, "init", "-q")
        try:
            _git_ok(root, "add", "-A", "--", ".", *_unless_ignored(root, data_file))
            _commit(root, [])
        except click.ClickException:
            shutil.rmtree(root / ".git")  # no half-made repository left behind
            raise
        sha = _git_ok(root, "rev-parse", "--short", "HEAD")
        return f"git init; the project as it was is commit {sha}"
    paths = [str(f.relative_to(root)) for f in files]
    changed = _git_ok(root, "status", "--porcelain", "--untracked-files=all", "--", *paths)
    if not changed:
        sha = _git_ok(root, "rev-parse", "--short", "HEAD")
        return f"the replaced files are as in commit {sha}"
    _git_ok(root, "add", "--", *paths)
    _commit(root, paths)
    sha = _git_ok(root, "rev-parse", "--short", "HEAD")
    return f"the replaced files are kept in commit {sha}"


# Report and command --------------------------------------------------------------------------


def report(result: Draft, root: Path, written: list[str], kept: str | None) -> str:
    """What draft-config decided, what to review, and the next command."""
    data, columns = result.data, result.columns
    dataset, target = result.dataset, result.dataset["target"]
    lines = [f"Source raw_{result.source}: {data.path} ({data.dataset_type})"]
    load = data.load_args
    if "sep" in load:
        lines.append(f"  separator {load['sep']!r}, encoding {load['encoding']}")
    lines.append(f"  {len(data.frame):,} rows, {len(columns)} columns")
    renamed = [(c.header, c.name) for c in columns.values() if c.header != c.name]
    if renamed:
        lines.append(
            "Renamed headers (lower snake_case): " + ", ".join(f"{h!r} -> {n}" for h, n in renamed)
        )
    if data.padded:
        how = (
            "skipinitialspace: true in load_args drops leading spaces; ingestion strips text "
            "values, and the raw suite's regexes allow surrounding spaces"
            if "skipinitialspace" in load
            else "ingestion strips text values"
        )
        lines.append(f"Padded values in {', '.join(data.padded)}: {how}")
    if data.markers:
        found = "; ".join(f"{m!r} in {', '.join(cs)}" for m, cs in data.markers.items())
        lines.append(
            f"Missing markers: {found}: in load_args.na_values {load['na_values']}, read as missing"
        )
    lines.append("Columns (type, missing, distinct values):")
    width = max(len(n) for n in columns)
    for c in columns.values():
        extra = f"  {c.minimum} .. {c.maximum}" if c.minimum is not None else ""
        lines.append(f"  {c.name:<{width}}  {c.kind:<8}  {c.missing:>7,}  {c.distinct:>7,}{extra}")
    lines.append(
        f"Target {target['column']}: positive {target['positive']!r} (1), negative "
        f"{target['negative']!r} (0){' = every other value' if target['negative'] is None else ''}"
        f"; positive rate {result.rate:.1%}"
    )
    if result.quarantined:
        share = result.quarantined / len(data.frame)
        lines.append(
            f"This file breaks the drafted suites in {result.quarantined:,} row(s) ({share:.1%}): "
            "validation quarantines them (the gate fails above max_quarantined_share in "
            "parameters_validation.yml, 5% as shipped)."
        )
        lines += [f"  {reason}" for reason in result.reasons]
    lines.append(
        f"Id: {dataset['id_column']}"
        if dataset["id_column"]
        else "Id: none; a row's position (source_row) is its id"
    )
    attributes = dataset["sensitive_attributes"]
    lines.append(
        "Sensitive attributes: "
        + (
            ", ".join(f"{n} (bins {s['bins']})" if s else n for n, s in attributes.items())
            or "none"
        )
    )
    features = dataset["features"]
    for kind in ("numeric", "categorical"):
        lines.append(f"Features, {kind} ({len(features[kind])}): {', '.join(features[kind])}")
    lines += [f"  {note}" for note in result.notes]
    if kept:
        lines.append(f"Kept in git: {kept}")
    lines.append("Wrote " + ", ".join(written))
    review = [
        "parameters_dataset.yml target.positive_means / negative_means are neutral placeholders: "
        "write the words your reports should use.",
        "target.favourable is false: set it to true if the positive class is the outcome the "
        "person scored wants.",
        "parameters_validation_suites.yml holds the bounds of THIS file (ranges, sets of values, "
        "row count, positive rate): widen them to what is plausible, or new data is quarantined.",
        *(f"bins of {n}: {s['bins']}" for n, s in attributes.items() if s.get("bins")),
        "proxies: may any feature stand in for a sensitive attribute (a place, a name, a "
        "school)? The fairness review measures proxies; decide what to keep.",
        *result.review,
    ]
    if result.quarantined:
        review.append(
            f"the {result.quarantined:,} row(s) this file breaks the suites in: fix them in the "
            "file, or let validation quarantine them."
        )
    if not attributes:
        review.append("no --sensitive attribute: the fairness review has nothing to measure.")
    root = root.resolve()
    if data.path.is_relative_to(root) and not data.path.is_relative_to(root / "data"):
        review.append(
            f"{data.path.name} is in the project but not under data/ (git-ignored): move it to "
            "data/01_raw/ (and update catalog.yml) so it is never committed."
        )
    lines.append("Review before your first run:")
    lines += [f"  - {item}" for item in review]
    lines.append("Next: kedro run")
    return "\n".join(lines)


def _project_root() -> Path:
    from kedro.utils import find_kedro_project

    return find_kedro_project(Path.cwd()) or Path.cwd()


@click.command(name="draft-config")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--target", required=True, metavar="COLUMN", help="The column to predict.")
@click.option(
    "--positive", required=True, metavar="VALUE", help="The target value of the positive class."
)
@click.option("--id", "id_column", metavar="COLUMN", help="A unique column naming each row.")
@click.option(
    "--sensitive",
    multiple=True,
    metavar="COLUMN",
    help="An attribute the fairness review measures (once per attribute).",
)
@click.option("--force", is_flag=True, help="Replace the files (their versions kept in git).")
def draft_config(
    *,
    path: Path,
    target: str,
    positive: str,
    id_column: str | None,
    sensitive: tuple[str, ...],
    force: bool,
) -> None:
    """Draft conf/base (catalog, dataset, ingestion, validation suites) from PATH.

    PATH is a CSV (or Parquet, Excel, JSON) file of one row per example.
    """
    root = _project_root()
    conf = root / "conf" / "base"
    if not conf.is_dir():
        raise click.ClickException(f"{conf} does not exist: run this in a Kedro project.")
    targets = [conf / name for name in CONF_FILES]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        names = ", ".join(str(t.relative_to(root)) for t in existing)
        raise click.ClickException(
            f"{names} already exist; pass --force to replace them (their current versions are "
            "committed to git first)."
        )
    result = draft(path, target, positive, root, id_column=id_column, sensitive=sensitive)
    kept = keep_in_git(root, existing, result.data.path) if existing else None
    for file in targets:
        file.write_text(result.files[file.name], encoding="utf-8")
    click.echo(report(result, root, [str(t.relative_to(root)) for t in targets], kept))
