"""Expectation suites from configuration: checked before any data is read, then run with GX.

The suites are declared in ``conf/base/parameters_validation.yml`` in Great Expectations' own
vocabulary (``type`` + ``kwargs``), each entry with a ``severity``: ``row`` (rows that break it
are quarantined) or ``table`` (the table as a whole fails). ``great_expectations`` takes seconds
to import, so it is imported only inside the functions that build or run suites.
"""

import difflib
import json
import re
from typing import Any

from ...columns import ROW_POSITION
from ...errors import ConfigError, DataError
from ...project_config import sources_of
from ...spark_engine import is_spark_frame

PARAMETERS_FILE = "conf/base/parameters_validation.yml"
SUITES_FILE = "conf/base/parameters_validation_suites.yml"
SEVERITIES = ("row", "table")
ENTRY_KEYS = {"type", "kwargs", "severity", "id", "description"}
# MLflow metric names allow letters, digits, _ - . / and spaces: ids become metric names.
ID_PATTERN = re.compile(r"^[A-Za-z0-9_\-./ ]+$")
# Kwargs of GX expectations that name columns of the dataset.
COLUMN_KWARGS = ("column", "column_A", "column_B", "column_list", "column_set")
RESULT_FORMAT = "COMPLETE"


def _where(dataset: str, index: int | None = None, kind: Any = None) -> str:
    where = f"{SUITES_FILE}: validation_suites.{dataset}"
    if index is None:
        return where
    return f"{where}.expectations[{index}]" + (f" ({kind})" if kind else "")


PRIMARY_TABLE = "primary_table"
SUITE_KEYS = {"expectations", "columns"}


def suite_roles(ingestion: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every dataset that needs a suite, with the columns known before reading it and its row key.

    ``raw_<main source>``: the typed columns of ``ingestion.column_types``, keyed by
    ``source_row`` (the row position, added before validation). ``raw_<related source>``: its
    key and aggregated columns, keyed by the key. ``primary_table``: what ingestion builds.
    """
    sources = sources_of(ingestion)
    column_types = list(ingestion.get("column_types") or {})
    target = (ingestion.get("target") or {}).get("column")
    main_columns = list(dict.fromkeys([*column_types, *([target] if target else [])]))
    roles = {
        f"raw_{sources.main}": {
            "columns": [ROW_POSITION, *main_columns],
            "row_key": ROW_POSITION,
            "add_row_position": True,
        }
    }
    primary = [ROW_POSITION, *main_columns]
    for source in sources.related:
        spec = ingestion["related_sources"][source] or {}
        aggregations = spec.get("aggregations") or {}
        key = spec.get("key")
        roles[f"raw_{source}"] = {
            "columns": list(dict.fromkeys([key, *(c for c, _ in aggregations.values())])),
            "row_key": key,
            "add_row_position": False,
        }
        primary += [*aggregations, spec.get("presence_column") or f"has_{source}"]
    primary += list(ingestion.get("ratios") or {})
    roles[PRIMARY_TABLE] = {
        "columns": list(dict.fromkeys(primary)),
        "row_key": ROW_POSITION,
        "add_row_position": False,
    }
    return roles


def _named_columns(kwargs: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for key in COLUMN_KWARGS:
        value = kwargs.get(key)
        if isinstance(value, str):
            names.append(value)
        elif isinstance(value, list | tuple):
            names.extend(str(v) for v in value)
    return names


def _check_entry(dataset: str, index: int, entry: Any, columns: list[str]) -> dict[str, Any]:
    """One expectation entry with its defaults filled in, or a ConfigError naming it."""
    if not isinstance(entry, dict):
        raise ConfigError(
            f"{_where(dataset, index)}: an entry is a mapping with type, kwargs, "
            f"severity; got {entry!r}."
        )
    kind = entry.get("type")
    where = _where(dataset, index, kind)
    unknown = set(entry) - ENTRY_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; use {sorted(ENTRY_KEYS)}.")
    if not kind or not isinstance(kind, str):
        raise ConfigError(
            f"{where}: 'type' is missing (a GX expectation type, e.g. "
            "expect_column_values_to_not_be_null)."
        )
    if entry.get("severity") not in SEVERITIES:
        raise ConfigError(
            f"{where}: 'severity' is {entry.get('severity')!r}; use one of "
            f"{list(SEVERITIES)} (row: quarantine the rows, table: fail the table)."
        )
    kwargs = entry.get("kwargs") or {}
    if not isinstance(kwargs, dict):
        raise ConfigError(f"{where}: 'kwargs' must be a mapping, got {kwargs!r}.")
    missing = [c for c in _named_columns(kwargs) if c not in columns]
    if missing:
        raise ConfigError(
            f"{where}: column(s) {missing} are not columns of {dataset}; its columns are {columns}."
        )
    column = kwargs.get("column")
    default_id = f"{kind}.{column}" if isinstance(column, str) else kind
    entry_id = str(entry.get("id") or default_id)
    if not ID_PATTERN.match(entry_id):
        raise ConfigError(
            f"{where}: id {entry_id!r} may hold only letters, digits, _ - . / "
            "and spaces (it becomes an MLflow metric name)."
        )
    return {
        "id": entry_id,
        "type": kind,
        "kwargs": kwargs,
        "severity": entry["severity"],
        "description": entry.get("description") or entry_id,
    }


def check_suite_config(
    suites: dict[str, Any], ingestion: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Check every declared suite without reading data; return them with defaults filled in.

    Refused, with the file, the dataset and the entry named: a source without a suite, a suite
    for a dataset that is not a source, a missing ``type`` or ``severity``, a column the dataset
    does not have, an id used twice, a type GX does not know, kwargs GX rejects, and a ``row``
    severity on an expectation that does not name rows.
    """
    if not isinstance(suites, dict) or not suites:
        raise ConfigError(f"{SUITES_FILE}: validation_suites must map dataset names to suites.")
    roles = suite_roles(ingestion)
    missing = [name for name in roles if name not in suites]
    extra = [name for name in suites if name not in roles]
    if missing or extra:
        problem = (
            f"validation_suites has no suite for {missing} (every source of "
            f"parameters_ingestion.yml and {PRIMARY_TABLE} needs one; at least "
            "expect_table_row_count_to_be_between)"
            if missing
            else f"validation_suites.{extra[0]} is not a dataset to validate; the datasets are "
            f"{list(roles)} (raw_<source> for each source of parameters_ingestion.yml)"
        )
        raise ConfigError(f"{SUITES_FILE}: {problem}.")
    checked = {}
    ephemeral_context()  # building a suite needs an active context
    for dataset, role in roles.items():
        config = suites[dataset] or {}
        if not isinstance(config, dict) or set(config) - SUITE_KEYS:
            raise ConfigError(
                f"{_where(dataset)}: a suite holds {sorted(SUITE_KEYS)}; got "
                f"{sorted(config) if isinstance(config, dict) else config!r}."
            )
        columns = list(dict.fromkeys([*role["columns"], *(config.get("columns") or [])]))
        entries = config.get("expectations")
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"{_where(dataset)}.expectations: list at least one expectation.")
        checked_entries = [_check_entry(dataset, i, e, columns) for i, e in enumerate(entries)]
        ids = [e["id"] for e in checked_entries]
        for index, entry_id in enumerate(ids):
            if ids.index(entry_id) != index:
                raise ConfigError(
                    f"{_where(dataset, index, checked_entries[index]['type'])}: id "
                    f"{entry_id!r} is used twice; give one entry its own 'id'."
                )
        checked[dataset] = {**role, "columns": columns, "expectations": checked_entries}
        build_suite(dataset, checked_entries)  # refuses what GX would drop
    return checked


def without_target(datasets: dict[str, dict[str, Any]], target: str) -> dict[str, dict[str, Any]]:
    """The checked suites for a batch without its target column: every expectation on it removed.

    An expectation that names only the target (``column``, a pair or a list holding it) is
    dropped; one whose ``column_set`` / ``column_list`` holds other columns too keeps them. The
    target leaves each dataset's known columns. Derived from the training suites, never written
    twice.
    """
    derived = {}
    for dataset, config in datasets.items():
        kept = []
        for entry in config["expectations"]:
            kwargs = entry["kwargs"]
            if target not in _named_columns(kwargs):
                kept.append(entry)
                continue
            lists = {k: kwargs[k] for k in ("column_set", "column_list") if k in kwargs}
            single = [k for k in COLUMN_KWARGS if k in kwargs and k not in lists]
            rest = {k: [c for c in v if c != target] for k, v in lists.items()}
            if single or not all(rest.values()):
                continue
            kept.append({**entry, "kwargs": {**kwargs, **rest}})
        derived[dataset] = {
            **config,
            "columns": [c for c in config["columns"] if c != target],
            "expectations": kept,
        }
    return derived


def check_target_values(main_suite: dict[str, Any], problem: Any) -> None:
    """Refuse a target value the problem type names (the positive value, a class) that the
    main source's suite never allows (its in-set expectation on the target)."""
    column = problem.target_column
    allowed = [
        e["kwargs"].get("value_set")
        for e in main_suite["expectations"]
        if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"].get("column") == column
    ]
    for value_set in allowed:
        known = {str(v).strip().lower() for v in value_set or []}
        for key, values in problem.named_target_values().items():
            spellings = values if isinstance(values, list | tuple) else [values]
            if not any(str(v).strip().lower() in known for v in spellings):
                raise ConfigError(
                    f"dataset.target.{key} in conf/base/parameters_dataset.yml is {values!r}, but "
                    f"the suite of the main source ({SUITES_FILE}) allows {column!r} only the "
                    f"values {list(value_set or [])}; give one of them."
                )


def ephemeral_context() -> Any:
    """An in-memory GX context: nothing written to disk, no Data Docs site."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    from ...console import show_progress_bars

    defaults = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    # "Calculating Metrics" bars only when conf/logging.yml has great_expectations at INFO.
    bars = ProgressBarsConfig(globally=show_progress_bars("great_expectations"))
    return gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(store_backend_defaults=defaults, progress_bars=bars),
    )


def build_suite(dataset: str, entries: list[dict[str, Any]]) -> Any:
    """A GX ExpectationSuite of ``entries``; an entry GX would drop is a ConfigError instead.

    Needs an active GX context (``ephemeral_context()``).
    """
    import great_expectations as gx
    from great_expectations.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )
    from great_expectations.expectations.registry import (
        get_expectation_impl,
        list_registered_expectation_implementations,
    )

    row_level = (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation)
    suite = gx.ExpectationSuite(name=dataset)
    for index, entry in enumerate(entries):
        where = _where(dataset, index, entry["type"])
        try:
            impl = get_expectation_impl(entry["type"])
        except ExpectationNotFoundError:
            close = difflib.get_close_matches(
                entry["type"], list_registered_expectation_implementations(), n=1
            )
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ConfigError(
                f"{where}: Great Expectations has no expectation type {entry['type']!r}{hint}"
            ) from None
        if entry["severity"] == "row" and not issubclass(impl, row_level):
            raise ConfigError(
                f"{where}: severity 'row' needs an expectation on column values "
                "(it names the failing rows); use severity 'table'."
            )
        try:
            expectation = impl(
                **entry["kwargs"], meta={"id": entry["id"]}, description=entry["description"]
            )
        except Exception as error:  # pydantic reports every bad kwarg; keep its first lines
            detail = " ".join(str(error).split("\n")[:3])
            raise ConfigError(f"{where}: GX refuses its kwargs: {detail}") from None
        suite.add_expectation(expectation)
    built = [e.meta.get("id") for e in suite.expectations]
    dropped = [e["id"] for e in entries if e["id"] not in built]
    if len(built) != len(entries) or dropped:
        raise ConfigError(f"{_where(dataset)}: GX dropped expectation(s) {dropped} from the suite.")
    return suite


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def run_suite(frame: Any, dataset: str, config: dict[str, Any]) -> dict[str, Any]:
    """Run a dataset's suite on ``frame`` in an ephemeral GX context; return a JSON-able result.

    Each expectation's result names its failing rows by ``row_key`` (``unexpected_rows``).
    ``frame`` is a pandas or a Spark DataFrame: GX runs the same suite on either.
    """
    import great_expectations as gx

    context = ephemeral_context()
    on_spark = is_spark_frame(frame)
    if on_spark:
        from .spark import spark_type_names

        config = {**config, "expectations": spark_type_names(config["expectations"])}
    suite = build_suite(dataset, config["expectations"])
    sources = context.data_sources
    batch = (
        (sources.add_spark if on_spark else sources.add_pandas)(name=dataset)
        .add_dataframe_asset(name=dataset)
        .add_batch_definition_whole_dataframe(name=dataset)
        .get_batch(batch_parameters={"dataframe": frame})
    )
    row_key = config["row_key"]
    result_format: dict[str, Any] = {"result_format": RESULT_FORMAT}
    if row_key:
        result_format["unexpected_index_column_names"] = [row_key]
    gx_result = batch.validate(suite, result_format=result_format).to_json_dict()
    by_id = {r["expectation_config"]["meta"]["id"]: r for r in gx_result["results"]}
    outcomes = []
    for entry in config["expectations"]:
        raw = by_id[entry["id"]]
        details = raw.get("result") or {}
        error = raw.get("exception_info") or {}
        if error.get("raised_exception"):
            raise DataError(
                f"Validating {dataset}: {entry['type']} ({entry['id']}) could not be evaluated: "
                f"{error.get('exception_message')}. Check the data, or the entry in "
                f"{PARAMETERS_FILE}."
            )
        index_list = details.get("unexpected_index_list")
        unexpected_rows = (
            [row[row_key] for row in index_list] if row_key and index_list is not None else None
        )
        outcomes.append(
            {
                **entry,
                "success": bool(raw["success"]),
                "unexpected_count": details.get("unexpected_count"),
                "unexpected_rows": unexpected_rows,
                "unexpected_sample": (details.get("partial_unexpected_list") or [])[:20],
                "observed_value": details.get("observed_value"),
            }
        )
    return _jsonable(
        {
            "dataset": dataset,
            "rows": frame.count() if on_spark else len(frame),
            "row_key": row_key,
            "success": all(o["success"] for o in outcomes),
            "statistics": gx_result.get("statistics"),
            "great_expectations_version": gx.__version__,
            "expectations": outcomes,
        }
    )
