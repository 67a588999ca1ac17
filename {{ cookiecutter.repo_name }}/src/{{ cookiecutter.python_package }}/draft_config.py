"""``kedro draft-config PATH``: a first configuration drawn from your own data file.

Reads the file as text, infers a type per column and the problem type from the target (binary,
multiclass or regression), and writes every file that names the sources or describes the data,
for every environment the project ships: ``conf/base/catalog.yml`` (the source, and the scoring
batches of the same type), ``parameters_dataset.yml``, ``parameters_ingestion.yml``,
``parameters_validation_suites.yml``, ``conf/spark/catalog.yml`` (the same entries as Spark
datasets) and the sensitive attribute of ``fairness_review.mitigation``, so that ``kedro run``
works on it with no further edit; the rows the drafted suites quarantine are listed with their
reason. pandas is imported only when the command runs, so that ``kedro --help`` stays fast.
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

# The files drafted, relative to the project root: replaced whole, except the fairness review's
# parameters, where only fairness_review.mitigation.sensitive_feature is rewritten. A file of
# conf/spark is drafted when the project has that environment.
BASE_FILES = (
    "conf/base/catalog.yml",
    "conf/base/parameters_dataset.yml",
    "conf/base/parameters_ingestion.yml",
    "conf/base/parameters_validation_suites.yml",
)
SPARK_CATALOG = "conf/spark/catalog.yml"
FAIRNESS_FILE = "conf/base/parameters_fairness_review.yml"
BENCHMARKING_FILE = "conf/base/parameters_benchmarking.yml"
TRAINING_FILE = "conf/base/parameters_training.yml"
PROBLEM_TYPES = ("binary", "multiclass", "regression")
# A target of 3..MAX_CLASSES values (text or whole numbers) is taken for classes; a value under
# MIN_CLASS_SHARE of the rows is a stray label, not a class, when such values are a few rows in all
# (at most MAX_MALFORMED_SHARE): its rows are quarantined.
MAX_CLASSES = 20
MIN_CLASS_SHARE = 0.005
# The project's Spark dataset for a CSV source with missing markers (datasets.py).
SPARK_CSV = f"{__name__.rpartition('.')[0]}.datasets.SparkCSVDataset"
# Scoring batches: data/01_raw/batches/<batch>/<the source's file name>.
BATCH_FOLDER = "data/01_raw/batches/${runtime_params:batch,no_drift}"
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
# Outlying values of a numeric column, quarantined by its drafted range when they are at most
# OUTLIER_SHARE of its values (and the column has MIN_ROWS_FOR_OUTLIERS values or more): a few
# negative values in a column otherwise never negative (with the zeros too when they are as rare:
# a positive quantity), and values further than OUTLIER_SPANS times the span of the 1st-99th
# percentiles beyond them. The same share of missing values in an otherwise complete numeric
# column quarantines those rows too (expect not null).
OUTLIER_SHARE = 0.005
OUTLIER_SPANS = 5
MIN_ROWS_FOR_OUTLIERS = 100
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
    # The drafted range (the file's, without its outlying values) and those values' rows.
    bounds: tuple[float, float] | None = None
    outlying: int = 0
    outlying_examples: list[Any] = field(default_factory=list)
    required: bool = False  # missing in a few rows only: those rows are quarantined

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
class Target:
    """What the target is for its problem type, and what the file shows about it."""

    column: str
    problem_type: str
    reason: str  # why this problem type (inferred, or given with --problem-type)
    spec: dict[str, Any]  # dataset.target of parameters_dataset.yml
    summary: str  # one line for the report
    raw_values: list[Any] = field(default_factory=list)  # the raw suite's set (classes)
    codes: list[int] = field(default_factory=list)  # the primary suite's set (classes)
    rate: float = math.nan  # binary: the positive rate
    unknown: set[Any] = field(default_factory=set)  # rows whose value the target does not know
    unknown_values: list[Any] = field(default_factory=list)  # those values (a few)


@dataclass
class Draft:
    """The decisions, the drafted files' text, and the notes printed for the user."""

    source: str
    data: Source
    columns: dict[str, Column]
    files: dict[str, str]  # path relative to the project root -> text
    dataset: dict[str, Any]
    target: Target
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
        _outliers(column, numbers)
    return column


def _outliers(column: Column, numbers: "pd.Series") -> None:
    """Set the column's drafted range, leaving out its few outlying values (see OUTLIER_SHARE).

    Also mark it ``required`` when its values are missing in a few rows only.
    """
    column.bounds = (column.minimum, column.maximum)  # type: ignore[assignment]
    if len(numbers) < MIN_ROWS_FOR_OUTLIERS:
        return
    few = max(1, math.floor(OUTLIER_SHARE * len(numbers)))
    column.required = 0 < column.missing <= few
    outlying = numbers < 0
    if outlying.any():
        if (numbers <= 0).sum() <= few:  # a positive quantity: its zeros are as rare
            outlying = numbers <= 0
        elif outlying.sum() > few:  # negative values are common: nothing outlying
            outlying[:] = False
    low, high = column.spread or (0.0, 0.0)
    span = OUTLIER_SPANS * (high - low)
    far = (numbers > high + span) | (numbers < low - span)
    if span > 0 and 0 < far.sum() <= few:
        outlying |= far
    if not outlying.any():
        return
    kept = numbers[~outlying]
    cast = int if column.kind == "integer" else float
    column.bounds = (cast(_python(kept.min())), cast(_python(kept.max())))
    column.outlying = int(outlying.sum())
    examples = numbers[outlying].drop_duplicates().sort_values(key=abs, ascending=False)
    column.outlying_examples = [cast(_python(v)) for v in examples.iloc[:5]]


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


CATALOG_COMMENTS = {
    "dtype": "read as text; ingestion parses types, so malformed values are kept and reported",
    "keep_default_na": "only na_values mean missing",
    "na_values": "whole values that mean missing",
    "sep": "column separator",
    "encoding": "text encoding of the file",
    "skipinitialspace": "drop the spaces after a separator (ingestion strips the rest)",
    "lines": "one JSON record per line",
    "header": "the first line names the columns",
    "inferSchema": "read as text: ingestion parses types; validation checks the text first",
    "ignoreLeadingWhiteSpace": "drop the spaces after a separator (ingestion strips the rest)",
    "multiLine": "one JSON document (an array of records), not one record per line",
}


def _entry(name: str, entry: dict[str, Any], comment: str = "", notes: bool = True) -> str:
    """A catalog entry as YAML text: one key a line, load_args commented when ``notes``."""
    text = _comment(comment) if comment else ""
    text += f"{name}:\n"
    for key, value in entry.items():
        if key == "load_args":
            text += "  load_args:\n"
            text += "".join(
                _line(k, v, CATALOG_COMMENTS.get(k, "") if notes else "", 4)
                for k, v in value.items()
            )
        elif key != "metadata":
            text += _line(key, value, indent=2)
    return text + "  metadata:\n    kedro-viz:\n      layer: raw\n"


def _raw_entries(draft: "Draft", filepath: str) -> dict[str, dict[str, Any]]:
    """raw_<source> and scoring_raw_<source> (the batch's file of the same name and type)."""
    load = dict(draft.data.load_args)
    if draft.data.dataset_type in TEXT_TYPES:
        load = {"dtype": "str", "keep_default_na": False, **load}

    def entry(path: str) -> dict[str, Any]:
        return {
            "type": draft.data.dataset_type,
            "filepath": path,
            **({"load_args": load} if load else {}),
            "metadata": {"kedro-viz": {"layer": "raw"}},
        }

    return {
        f"raw_{draft.source}": entry(filepath),
        f"scoring_raw_{draft.source}": entry(f"{BATCH_FOLDER}/{draft.data.path.name}"),
    }


SCORING_COMMENT = (
    "A scoring batch of new rows in the same layout, read the same way: the file of the same name "
    "in data/01_raw/batches/<batch>/ (kedro run --pipelines inference --params batch=<batch>; "
    "default no_drift)."
)


def _catalog(draft: "Draft", filepath: str) -> str:
    entries = _raw_entries(draft, filepath)
    (raw, raw_entry), (scoring, scoring_entry) = entries.items()
    text = _comment(
        f"The source, drafted by `kedro draft-config` from {draft.data.path.name}: your data, "
        "never modified. For each source named in parameters_ingestion.yml (main_source and "
        "related_sources): raw_<source>, the data the model learns from, and "
        "scoring_raw_<source>, a scoring batch in the same layout. Any kedro-datasets type works "
        "(pandas.CSVDataset, ParquetDataset, ExcelDataset, SQLTableDataset, ...). Column names "
        "and types are in parameters_ingestion.yml. Paths are relative to the project root. "
        "conf/spark/catalog.yml holds the same entries as Spark datasets."
    )
    text += _entry(raw, raw_entry)
    text += "\n" + _entry(scoring, scoring_entry, SCORING_COMMENT, notes=False)
    return _check("catalog.yml", text, entries)


def _spark_path(relative: str) -> str:
    """``relative`` made absolute by the project_path resolver, quoted for OmegaConf."""
    quoted = relative.replace("\\", "\\\\").replace("'", "\\'")
    return "${project_path:'" + quoted + "'}"


def _spark_reading(data: Source) -> dict[str, Any]:
    """How Spark reads the source as its pandas entry does (type, format, options)."""
    if data.dataset_type == "pandas.ParquetDataset":
        return {"type": "spark.SparkDataset", "file_format": "parquet"}
    if data.dataset_type == "pandas.JSONDataset":
        lines = data.load_args.get("lines")
        options = {} if lines else {"load_args": {"multiLine": True}}
        return {"type": "spark.SparkDataset", "file_format": "json", **options}
    load = data.load_args
    args: dict[str, Any] = {"header": True, "inferSchema": False}
    if load.get("sep", ",") != ",":
        args["sep"] = load["sep"]
    if load.get("encoding") == "latin-1":
        args["encoding"] = "ISO-8859-1"
    if load.get("skipinitialspace"):
        args["ignoreLeadingWhiteSpace"] = True
    markers = [str(m) for m in load.get("na_values", [])]
    if any(markers):  # Spark's reader knows one marker: the project's dataset reads them all
        return {"type": SPARK_CSV, "load_args": args, "na_values": markers}
    return {"type": "spark.SparkDataset", "file_format": "csv", "load_args": args}


def _spark_catalog(draft: "Draft", filepath: str) -> str:
    """conf/spark/catalog.yml: the source and its scoring batches as Spark datasets."""
    text = _comment(
        "The Spark environment (kedro run --env spark): the sources of conf/base/catalog.yml "
        "read as Spark DataFrames, drafted by `kedro draft-config` from "
        f"{draft.data.path.name}. Ingestion, validation and scoring run in Spark; the other "
        "entries of this environment are in catalog_<pipeline>.yml. Paths are absolute "
        "(${project_path:...}): a cluster's executors do not share the driver's working "
        "directory, and must all see these files (HDFS, S3, a shared disk)."
    )
    if draft.data.dataset_type == "pandas.ExcelDataset":
        draft.review.append(
            "Spark has no Excel reader: conf/spark/catalog.yml has no entry for this source; save "
            "the sheet as CSV or Parquet to run with --env spark."
        )
        text += _comment(
            "Spark has no Excel reader: save the sheet as CSV or Parquet and point raw_<source> "
            "and scoring_raw_<source> at it here to run on Spark."
        )
        return _check("conf/spark/catalog.yml", text, None)
    spec = _spark_reading(draft.data)
    paths = {
        f"raw_{draft.source}": filepath,
        f"scoring_raw_{draft.source}": f"{BATCH_FOLDER}/{draft.data.path.name}",
    }
    entries = {
        name: {
            "type": spec["type"],
            "filepath": _spark_path(path),
            **{k: v for k, v in spec.items() if k != "type"},
            "metadata": {"kedro-viz": {"layer": "raw"}},
        }
        for name, path in paths.items()
    }
    (raw, raw_entry), (scoring, scoring_entry) = entries.items()
    reads = (
        "read by the project's SparkCSVDataset: Spark's own reader knows one missing marker, "
        "this one reads every value of na_values as missing, as the pandas entry does"
        if spec["type"] == SPARK_CSV
        else ""
    )
    text += "\n" + _entry(raw, raw_entry, reads)
    text += "\n" + _entry(scoring, scoring_entry, SCORING_COMMENT, notes=False)
    return _check("conf/spark/catalog.yml", text, entries)


def _target_block(problem_type: str, target: dict[str, Any]) -> str:
    """The ``target:`` block of parameters_dataset.yml for the problem type, with its comments."""
    if problem_type == "binary":
        text = _comment(
            "The column to predict and what its positive class means. `positive` is the value (a "
            "number, a text or a boolean; a list for several spellings) that counts as the "
            "positive class (1); `negative` likewise (null: every other known value). A value "
            "that is neither is unknown: validation quarantines the row.",
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
        return text + _line(
            "favourable",
            target["favourable"],
            "REVIEW: is the positive class good for the person?",
            4,
        )
    if problem_type == "multiclass":
        text = _comment(
            "The column to predict and its classes, as found in the file (text: most frequent "
            "first; numbers: in increasing order). The order gives the class codes 0..k-1 and the "
            "order of the prediction columns. A value not listed is unknown: validation "
            "quarantines the row. Each class: value, means (words for reports: REVIEW), "
            "favourable (true, false, or null when neither: REVIEW).",
            2,
        )
        text += "  target:\n"
        text += _line("column", target["column"], indent=4)
        text += "    classes:\n"
        for spec in target["classes"]:
            flow = _dump(spec, flow=True)
            if "\n" in flow.rstrip("\n"):  # too long for one line: block style
                flow = _dump(spec, 8, flow=False)[8:]
            text += "      - " + flow
        return text
    text = _comment(
        "The column to predict: a number. A value that is not a number is unknown: validation "
        "quarantines the row. means: words for the quantity in reports (e.g. price per m2); "
        "unit (e.g. EUR); higher_is_favourable: true, false, or null when neither.",
        2,
    )
    text += "  target:\n"
    text += _line("column", target["column"], indent=4)
    text += _line("means", target["means"], "REVIEW", 4)
    text += _line("unit", target["unit"], "REVIEW", 4)
    return text + _line(
        "higher_is_favourable",
        target["higher_is_favourable"],
        "REVIEW: is a higher value good for the person or thing scored?",
        4,
    )


def _dataset_file(dataset: dict[str, Any], reason: str) -> str:
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
        "What kind of problem this is: binary, multiclass or regression (see "
        f"src/<package>/problem/); every stage takes its behaviour from it. Drafted: {reason}.",
        2,
    )
    text += _line("problem_type", dataset["problem_type"], indent=2)
    text += _target_block(dataset["problem_type"], target)
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


def _suites(draft: "Draft", id_column: str | None) -> dict[str, Any]:
    columns, target = draft.columns, draft.target
    name = target.column
    raw = [_row_count(len(draft.data.frame))]
    for c in columns.values():
        if c.missing == 0 or (c.required and c.name not in (name, id_column)):
            raw.append(
                _expect(
                    "expect_column_values_to_not_be_null",
                    "row",
                    f"{c.name} is present"
                    + ("" if c.missing == 0 else f" (missing in {c.missing} row(s) of this file)"),
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
    if target.problem_type != "regression":
        known = "a known value" if target.problem_type == "binary" else "one of the classes"
        raw.append(
            _expect(
                "expect_column_values_to_be_in_set",
                "row",
                f"the target {name} has {known}",
                column=name,
                value_set=target.raw_values,
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
        if c.name in (name, id_column):
            continue
        if c.kind in ("integer", "number") and c.bounds:
            low, high = c.bounds
            where = (
                f"as in this file but for {c.outlying} outlying row(s)"
                if c.outlying
                else "as in this file"
            )
            primary.append(
                _expect(
                    "expect_column_values_to_be_between",
                    "row",
                    f"{c.name} is between {low} and {high} ({where})",
                    column=c.name,
                    min_value=low,
                    max_value=high,
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
    primary.append(
        _expect(
            "expect_column_values_to_not_be_null",
            "row",
            f"the target {name} is known",
            column=name,
        )
    )
    if target.problem_type == "binary":
        rate = target.rate
        low = math.floor(rate / 2 * 100) / 100
        high = min(1.0, math.ceil((rate + (1 - rate) / 2) * 100) / 100)
        primary += [
            _expect(
                "expect_column_values_to_be_in_set",
                "row",
                f"the target {name} is 0 or 1",
                column=name,
                value_set=[0, 1],
            ),
            _expect(
                "expect_column_mean_to_be_between",
                "table",
                f"the positive rate is plausible (this file: {rate:.1%})",
                column=name,
                min_value=low,
                max_value=high,
            ),
        ]
    elif target.problem_type == "multiclass":
        primary.append(
            _expect(
                "expect_column_values_to_be_in_set",
                "row",
                f"the target {name} is a class code 0..{len(target.codes) - 1}",
                column=name,
                value_set=target.codes,
            )
        )
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
        "Drafted by `kedro draft-config` from what the file shows: REVIEW the bounds (ranges, "
        "sets of values, row count"
        + (", positive rate" if draft.target.problem_type == "binary" else "")
        + ") and widen them to what is plausible for new data. A range leaves out the few values "
        "far from the rest of its column (their rows are quarantined). Regex and set expectations "
        "ignore missing values."
    )
    text += "validation_suites:\n"
    text += _comment(
        f"{draft.data.path.name} as read by catalog entry {raw_name}: text (names normalised,\n"
        "na_values missing). Checks what parsing would hide (malformed numbers and dates).",
        2,
    )
    text += _dump({raw_name: suites[raw_name]}, 2)
    text += "\n"
    encoded = {
        "binary": "target encoded 1 = positive, 0 = negative",
        "multiclass": "target encoded as class codes 0..k-1 in the order of target.classes",
        "regression": "target parsed as a number",
    }[draft.target.problem_type]
    text += _comment(
        f"The typed primary table (text stripped, {encoded}): meaning (ranges, categories, "
        "uniqueness).",
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
    target: Target,
    id_column: str | None,
) -> dict[str, Any]:
    """How many rows of the file the drafted suites quarantine, and why."""
    import pandas as pd

    name = target.column
    rows: set[Any] = set(frame.index[frame[name].isna()]) | target.unknown
    reasons = []
    if rows:
        which = ""
        if target.unknown_values:
            which = f" (missing, or none of its known values: {_examples(target.unknown_values)})"
        reasons.append(f"{len(rows):,} row(s) have no known target {name}{which}")
    for c in columns.values():
        values = stripped[c.name]
        if c.malformed:
            bad = values.index[values.isin(c.malformed)]
            rows.update(bad)
            reasons.append(
                f"{len(bad):,} row(s) where {c.name} is not {_WHAT[c.kind]}: "
                f"{_examples(c.malformed)}"
            )
        if c.name in (name, id_column):
            continue
        if c.outlying and c.bounds:
            numbers = pd.to_numeric(values, errors="coerce")
            out = numbers.index[(numbers < c.bounds[0]) | (numbers > c.bounds[1])]
            rows.update(out)
            reasons.append(
                f"{len(out):,} row(s) where {c.name} is far from the rest of its values "
                f"({_examples(c.outlying_examples)}): its range is drafted as "
                f"{c.bounds[0]}..{c.bounds[1]}"
            )
        if c.required and c.missing:
            rows.update(frame.index[frame[c.name].isna()])
            reasons.append(
                f"{c.missing:,} row(s) where {c.name} is missing, in a column complete but for "
                "them (expect not null)"
            )
    return {"quarantined": len(rows), "reasons": reasons}


def _examples(values: list[Any], limit: int = 5) -> str:
    return ", ".join(repr(v) for v in values[:limit]) + (" ..." if len(values) > limit else "")


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


def _setting(root: Path, relative: str, *keys: str) -> Any:
    """A value of one of the project's parameter files, or None when it cannot be read."""
    try:
        value = yaml.safe_load((root / relative).read_text(encoding="utf-8"))
        for key in keys:
            value = value[key]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None
    return value


def _rows_per_class(root: Path) -> tuple[int, str]:
    """The rows a class needs so that the benchmark's folds each hold one, and why."""
    n_splits = _setting(root, BENCHMARKING_FILE, "benchmarking", "cv", "n_splits")
    if not isinstance(n_splits, int) or isinstance(n_splits, bool) or n_splits < 2:
        return 2, "that the stratified train/test split needs"
    test_size = _setting(root, TRAINING_FILE, "training", "split", "test_size")
    kept = 1 - test_size if isinstance(test_size, float) and 0 < test_size < 1 else 1.0
    need = math.ceil(n_splits / kept - 1e-9)
    return need, (
        f"that the {n_splits} cross-validation folds need (benchmarking.cv.n_splits in "
        f"{BENCHMARKING_FILE}, on the {kept:.0%} of rows not held out)"
    )


def _infer(tcol: Column) -> tuple[str, str]:
    """The problem type the target's values suggest, and why (a refusal when none does)."""
    numeric = tcol.kind in ("integer", "number")
    distinct = tcol.distinct - len(tcol.malformed) if numeric else tcol.distinct
    name = tcol.name
    if distinct < 2:
        seen = f"the one value {tcol.values[0]!r}" if distinct else "no value"
        raise click.ClickException(f"Column {name} has {seen}: a target needs two.")
    if tcol.kind == "boolean" or distinct == 2:
        values = [v for v in tcol.values if v not in tcol.malformed]
        return "binary", f"{name} has two values: {', '.join(map(repr, values))}"
    if tcol.kind == "number":
        return "regression", f"{name} is numeric with {distinct} distinct values, not all whole"
    if distinct <= MAX_CLASSES:
        what = "whole numbers" if numeric else "text"
        return "multiclass", f"{name} is {what} with {distinct} distinct values"
    if numeric:
        return "regression", f"{name} is numeric with {distinct} distinct values"
    raise click.ClickException(
        f"Cannot tell the problem type of target {name}: it is text with {distinct:,} distinct "
        f"values (classes: {MAX_CLASSES} at most); pass --problem-type binary, multiclass or "
        "regression."
    )


def _binary(tcol: Column, given: str | None, stripped: "pd.Series", raw: "pd.Series") -> Target:
    name = tcol.name
    if given is None:
        raise click.ClickException(
            f"--positive VALUE is needed for a binary target: the value of {name} that counts as "
            f"the positive class ({_seen(tcol)})."
        )
    if tcol.kind not in NUMERIC_KINDS or tcol.malformed:
        tcol.kind, tcol.malformed = "category", []
    value, negative, spellings = _positive(tcol, given, stripped)
    known = stripped.map({v: tcol.parse(v) for v in stripped.unique()})
    unknown = known[~known.isin([value, negative])] if negative is not None else known.iloc[:0]
    labelled = known.drop(unknown.index)
    rate = float((labelled == value).mean())
    spec = {
        "column": name,
        "positive": value,
        "negative": negative,
        "positive_means": f"have {name} = {spellings[value]}",
        "negative_means": (
            f"have {name} other than {spellings[value]}"
            if negative is None
            else f"have {name} = {spellings[negative]}"
        ),
        "favourable": False,
    }
    summary = (
        f"positive {value!r} (1), negative {negative!r} (0)"
        f"{' = every other value' if negative is None else ''}; positive rate {rate:.1%}"
    )
    return Target(
        column=name,
        problem_type="binary",
        reason="",
        spec=spec,
        summary=summary,
        raw_values=sorted((_python(v) for v in raw.dropna().unique()), key=str),
        rate=rate,
        unknown=set(unknown.index),
        unknown_values=sorted(set(map(str, unknown))),
    )


def _multiclass(tcol: Column, stripped: "pd.Series", raw: "pd.Series", root: Path) -> Target:
    """The classes found in the file: every value but a few stray ones (see MIN_CLASS_SHARE);
    a class with fewer rows than the benchmark's folds need is refused."""
    name = tcol.name
    numeric = tcol.kind in ("integer", "number")
    if not numeric:
        tcol.kind, tcol.malformed = "category", []
    wellformed = stripped[~stripped.isin(tcol.malformed)]

    def key(text: str) -> Any:
        return tcol.parse(text) if numeric else text.lower()

    keys = wellformed.map({v: key(v) for v in wellformed.unique()})
    counts = keys.value_counts()
    spelling = {  # the most frequent spelling of each class
        k: wellformed[keys == k].value_counts().index[0] for k in counts.index
    }
    # Stray values: each under MIN_CLASS_SHARE of the rows, together a few (a label typed
    # once, "unknown"): not classes, their rows are quarantined.
    total = counts.sum()
    stray = counts[counts < MIN_CLASS_SHARE * total]
    if stray.sum() > MAX_MALFORMED_SHARE * total:
        stray = counts.iloc[:0]
    frequent = counts.drop(stray.index)
    need, why = _rows_per_class(root)
    rare = frequent[frequent < need].sort_values()
    if len(rare):
        value, rows = spelling[rare.index[0]], int(rare.iloc[0])
        raise click.ClickException(
            f"Class {tcol.parse(value)!r} of target {name} has {rows} row(s), fewer than the "
            f"{need} {why}: merge it with another class in the file, or lower n_splits."
        )
    if len(frequent) > MAX_CATEGORIES:
        raise click.ClickException(
            f"Target {name} has {len(frequent):,} values: too many for classes; pass "
            "--problem-type regression if it is a number."
        )
    if len(frequent) < 3:
        found = ", ".join(f"{spelling[k]!r} ({n:,} rows)" for k, n in frequent.items())
        raise click.ClickException(
            f"Target {name} has {len(frequent)} class(es) ({found}): a multiclass target needs "
            "three; with two, pass --problem-type binary --positive VALUE."
        )
    if numeric:
        order = sorted(frequent.index)
    else:
        order = sorted(frequent.index, key=lambda k: (-frequent[k], k))
    values = [tcol.parse(spelling[k]) for k in order]
    classes = [{"value": v, "means": f"have {name} = {v}", "favourable": None} for v in values]
    known = set(order)
    raw_present = raw.dropna()
    raw_keys = raw_present.map(lambda v: key(str(v).strip()))
    raw_values = sorted((_python(v) for v in raw_present[raw_keys.isin(known)].unique()), key=str)
    unknown = stripped.index[~stripped.map(lambda v: key(v) in known).astype(bool)]
    summary = "classes " + ", ".join(
        f"{v!r} ({frequent[k]:,} rows)" for v, k in zip(values, order, strict=True)
    )
    if len(stray):
        summary += (
            f"; not classes (each under {MIN_CLASS_SHARE:.1%} of the rows; quarantined, or list "
            "one under target.classes and in the raw suite's value set): "
            + ", ".join(f"{spelling[k]!r} ({n})" for k, n in stray.sort_values().items())
        )
    return Target(
        column=name,
        problem_type="multiclass",
        reason="",
        spec={"column": name, "classes": classes},
        summary=summary,
        raw_values=raw_values,
        codes=list(range(len(classes))),
        unknown=set(unknown),
        unknown_values=sorted(set(stripped[unknown]), key=str),
    )


def _regression(tcol: Column, stripped: "pd.Series") -> Target:
    import pandas as pd

    name = tcol.name
    if tcol.kind not in ("integer", "number"):
        raise click.ClickException(
            f"--problem-type regression: target {name} is not numeric (its values include "
            f"{_seen(tcol)}): a regression predicts a number."
        )
    tcol.kind = "number"  # ingestion parses it as a number; malformed values are quarantined
    numbers = pd.to_numeric(stripped, errors="coerce").dropna()
    summary = (
        f"numbers from {_python(numbers.min())} to {_python(numbers.max())}, mean "
        f"{numbers.mean():.4g}, {numbers.nunique():,} distinct values"
    )
    spec = {
        "column": name,
        "means": name.replace("_", " "),
        "unit": None,
        "higher_is_favourable": None,
    }
    return Target(column=name, problem_type="regression", reason="", spec=spec, summary=summary)


def _target(
    tcol: Column,
    data: Source,
    stripped: "pd.Series",
    *,
    problem_type: str | None,
    positive: str | None,
    root: Path,
) -> Target:
    """The target for its problem type (inferred unless given); the inference is printed."""
    if problem_type is None:
        problem_type, reason = _infer(tcol)
        click.echo(f"problem type: {problem_type} ({reason}); override with --problem-type")
    else:
        reason = "given with --problem-type"
        click.echo(f"problem type: {problem_type} (--problem-type)")
    if problem_type != "binary" and positive is not None:
        raise click.ClickException(
            f"--positive is for a binary target; {tcol.name} is drafted as {problem_type}: "
            "leave --positive out, or pass --problem-type binary to predict that value against "
            "every other."
        )
    raw = data.frame[tcol.name]
    if problem_type == "binary":
        target = _binary(tcol, positive, stripped, raw)
    elif problem_type == "multiclass":
        target = _multiclass(tcol, stripped, raw, root)
    else:
        target = _regression(tcol, stripped)
    target.reason = reason
    return target


def _checked_dataset(dataset: dict[str, Any]) -> None:
    """The drafted dataset section as the project reads it (a refusal here is a bug)."""
    from .errors import ConfigError
    from .problem import problem_of

    try:
        problem_of(dataset)
    except ConfigError as error:
        raise RuntimeError(
            f"draft-config drafted a dataset section the project refuses: {error}"
        ) from error


def _fairness_file(text: str, attribute: str | None) -> str | None:
    """parameters_fairness_review.yml with mitigation.sensitive_feature set to ``attribute``
    (its comments kept); None when the file has no such key."""
    value = yaml.safe_dump(attribute, default_flow_style=True).splitlines()[0]
    lines = text.splitlines(keepends=True)
    section: int | None = None  # the indentation of `mitigation:` while in its block
    for index, line in enumerate(lines):
        content = line.lstrip(" ")
        indent = len(line) - len(content)
        ends = content.strip() and not content.startswith("#") and indent <= (section or 0)
        if section is not None and ends:
            section = None
        if re.match(r"mitigation:\s*(#.*)?$", content):
            section = indent
            continue
        found = re.match(r"( *sensitive_feature:)[^#\n]*?(\s+#[^\n]*)?(\n?)$", line)
        if section is not None and found:
            lines[index] = f"{found[1]} {value}{found[2] or ''}{found[3]}"
            drafted = "".join(lines)
            try:
                data = yaml.safe_load(text)
                data["fairness_review"]["mitigation"]["sensitive_feature"] = attribute
                return _check(FAIRNESS_FILE, drafted, data)
            except (yaml.YAMLError, KeyError, TypeError, RuntimeError):
                return None
    return None


def draft(
    path: Path,
    target: str,
    positive: str | None,
    project_root: Path,
    *,
    problem_type: str | None = None,
    id_column: str | None = None,
    sensitive: tuple[str, ...] | list[str] = (),
) -> Draft:
    """Read ``path`` and draft the configuration files (nothing is written)."""
    path = path.resolve()
    root = project_root.resolve()
    data = _read(path)
    if data.frame.empty:
        raise click.ClickException(f"{path}: the file has no rows.")
    read_as_text = data.dataset_type in TEXT_TYPES
    columns = {
        name: _describe(name, header, data.frame[name], read_as_text)
        for name, header in zip(data.frame.columns, data.headers, strict=True)
    }
    stripped = {name: data.frame[name].dropna().astype(str).str.strip() for name in columns}
    name = _column("--target", target, columns)
    the_target = _target(
        columns[name],
        data,
        stripped[name],
        problem_type=problem_type,
        positive=positive,
        root=root,
    )

    if id_column is not None:
        id_column = _column("--id", id_column, columns)
        if id_column == name:
            raise click.ClickException("--id and --target name the same column.")
        _check_id(columns[id_column], stripped[id_column])
        columns[id_column].kind = "string"  # an identifier is a label, not a quantity
        columns[id_column].malformed = []
    attributes, review = _sensitive(sensitive, columns, (name, id_column))
    numeric, categorical, drop, more = _features(columns, {name, id_column, *attributes})
    review += more
    notes = [f"dropped {column}: {why}" for column, why in drop.items()]
    dataset = {
        "id_column": id_column,
        "problem_type": the_target.problem_type,
        "target": the_target.spec,
        "features": {"numeric": numeric, "categorical": categorical, "drop": list(drop)},
        "sensitive_attributes": attributes,
        "intersections": [],
        "fairness_criteria": {},
        "keep_with_predictions": [*([id_column] if id_column else []), ROW_COLUMN],
    }
    _checked_dataset(dataset)
    result = Draft(
        source=normalise(path.stem) or "data",
        data=data,
        columns=columns,
        files={},
        dataset=dataset,
        target=the_target,
        **_quarantined(data.frame, columns, stripped, the_target, id_column),
        notes=notes,
        review=review,
    )
    try:
        filepath = path.relative_to(root).as_posix()
    except ValueError:
        filepath = str(path)
    catalog, dataset_file, ingestion, suites = BASE_FILES
    result.files = {
        catalog: _catalog(result, filepath),
        dataset_file: _dataset_file(dataset, the_target.reason),
        ingestion: _ingestion_file(result.source, {c.name: c.kind for c in columns.values()}),
        suites: _suites_file(result, _suites(result, id_column)),
    }
    if (root / SPARK_CATALOG).parent.is_dir():
        result.files[SPARK_CATALOG] = _spark_catalog(result, filepath)
    fairness = root / FAIRNESS_FILE
    if fairness.is_file():
        first = next(iter(attributes), None)
        drafted = _fairness_file(fairness.read_text(encoding="utf-8"), first)
        if drafted is None:
            result.review.append(
                f"fairness_review.mitigation.sensitive_feature is not in {FAIRNESS_FILE} as "
                f"drafted files have it: set it to {first} yourself."
            )
        else:
            result.files[FAIRNESS_FILE] = drafted
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


TARGET_REVIEW = {
    "binary": (
        "parameters_dataset.yml target.positive_means / negative_means are neutral placeholders: "
        "write the words your reports should use.",
        "target.favourable is false: set it to true if the positive class is the outcome the "
        "person scored wants.",
    ),
    "multiclass": (
        "parameters_dataset.yml target.classes: each class's `means` is a neutral placeholder "
        "(write the words your reports should use) and `favourable` is null (true for an outcome "
        "the person scored wants, false for one they do not).",
    ),
    "regression": (
        "parameters_dataset.yml target.means and unit are placeholders (the words and unit your "
        "reports should use); higher_is_favourable is null: true or false if a higher value is "
        "good or bad for the person or thing scored.",
    ),
}


def report(result: Draft, root: Path, written: list[str], kept: str | None) -> str:
    """What draft-config decided, what to review, and the next command."""
    data, columns = result.data, result.columns
    dataset, target = result.dataset, result.target
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
    lines.append(f"Target {target.column} ({target.problem_type}): {target.summary}")
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
        *TARGET_REVIEW[target.problem_type],
        "parameters_validation_suites.yml holds the bounds of THIS file (ranges, sets of values, "
        f"row count{', positive rate' if target.problem_type == 'binary' else ''}): widen them "
        "to what is plausible, or new data is quarantined.",
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


def _drafted_paths(root: Path) -> list[str]:
    """The files draft-config writes in this project (relative to its root)."""
    paths = list(BASE_FILES)
    if (root / SPARK_CATALOG).parent.is_dir():
        paths.append(SPARK_CATALOG)
    if (root / FAIRNESS_FILE).is_file():
        paths.append(FAIRNESS_FILE)
    return paths


@click.command(name="draft-config")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--target", required=True, metavar="COLUMN", help="The column to predict.")
@click.option(
    "--problem-type",
    type=click.Choice(PROBLEM_TYPES),
    help="binary, multiclass or regression (default: inferred from the target's values).",
)
@click.option(
    "--positive",
    metavar="VALUE",
    help="The target value of the positive class (a binary target only; required for one).",
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
    problem_type: str | None,
    positive: str | None,
    id_column: str | None,
    sensitive: tuple[str, ...],
    force: bool,
) -> None:
    """Draft the configuration of a dataset from PATH, for every environment.

    PATH is a CSV (or Parquet, Excel, JSON) file of one row per example. The problem type is
    inferred from the target (two values: binary; a few classes: multiclass; a number:
    regression) unless given. Writes conf/base (catalog with the scoring batches, dataset,
    ingestion, validation suites), conf/spark/catalog.yml, and the sensitive attribute of
    fairness_review.mitigation.
    """
    root = _project_root()
    conf = root / "conf" / "base"
    if not conf.is_dir():
        raise click.ClickException(f"{conf} does not exist: run this in a Kedro project.")
    paths = _drafted_paths(root)
    existing = [root / p for p in paths if (root / p).exists()]
    if existing and not force:
        names = ", ".join(str(t.relative_to(root)) for t in existing)
        raise click.ClickException(
            f"{names} already exist; pass --force to replace them (their current versions are "
            "committed to git first)."
        )
    result = draft(
        path,
        target,
        positive,
        root,
        problem_type=problem_type,
        id_column=id_column,
        sensitive=sensitive,
    )
    kept = keep_in_git(root, existing, result.data.path) if existing else None
    written = []
    first = next(iter(result.dataset["sensitive_attributes"]), "null")
    for relative, text in result.files.items():
        (root / relative).write_text(text, encoding="utf-8")
        what = f" (mitigation.sensitive_feature: {first})" if relative == FAIRNESS_FILE else ""
        written.append(relative + what)
    click.echo(report(result, root, written, kept))
