"""Validation nodes: check the suites, run them, quarantine rows with reasons, gate the run.

Verdict of the validation gate:
- ``fail``: a ``table`` expectation failed, or more than ``max_quarantined_share`` of the rows
  were quarantined;
- ``warn``: some rows were quarantined (within the share): the run goes on without them;
- ``pass``: every expectation met, nothing quarantined.
"""

import logging
from typing import Any

import numpy as np

from ...columns import normalise_column_names
from ...errors import ConfigError, DataError, check_keys
from ...gates import check_on_fail, enforce_gate, gate_tags, worst
from ...problem import problem_of
from ...project_config import sources_of
from ...spark_engine import (
    is_spark_frame,
    normalise_spark_columns,
    spark_column_names,
    with_row_position,
)
from .report import render_html, summary_text
from .suites import (
    PARAMETERS_FILE,
    PRIMARY_TABLE,
    check_suite_config,
    check_target_values,
    run_suite,
    without_target,
)

logger = logging.getLogger(__name__)

REASON_SEPARATOR = "; "
KEYS = ("on_fail", "max_quarantined_share", "report_folder", "suites")


def check_validation_config(
    params: dict[str, Any],
    ingestion: dict[str, Any],
    dataset: dict[str, Any] | None = None,
    target_optional: bool = False,
) -> dict[str, Any]:
    """Refuse a bad validation configuration before any data is read; return the checked plan.

    ``dataset`` (the ``dataset`` section): a target value the problem type names (a positive
    value, a class) that the main source's suite never allows is refused.

    With ``target_optional`` (scoring), the plan also holds the suites for a batch that comes
    without its target column: the same suites minus every expectation on the target.
    """
    check_keys(params, KEYS, "validation", PARAMETERS_FILE)
    check_on_fail("validation", params["on_fail"], PARAMETERS_FILE)
    share = params["max_quarantined_share"]
    if not isinstance(share, int | float) or isinstance(share, bool) or not 0 <= share <= 1:
        raise ConfigError(
            f"validation.max_quarantined_share in {PARAMETERS_FILE} is {share!r}; "
            "use a share between 0 and 1 (e.g. 0.05)."
        )
    datasets = check_suite_config(params["suites"], ingestion)
    if dataset is not None:
        check_target_values(datasets[f"raw_{sources_of(ingestion).main}"], problem_of(dataset))
    target = (ingestion.get("target") or {}).get("column")
    return {
        "on_fail": params["on_fail"],
        "max_quarantined_share": float(share),
        "report_folder": params["report_folder"],
        "datasets": datasets,
        "unlabelled_datasets": without_target(datasets, target) if target_optional else None,
        "target": target,
        "main_dataset": f"raw_{sources_of(ingestion).main}",
    }


def suite_for(data: Any, plan: dict[str, Any], dataset: str) -> dict[str, Any]:
    """``dataset``'s suite; without the target's expectations when the data has no target column
    and the plan allows it (a scoring batch whose labels come later)."""
    config = plan["datasets"][dataset]
    target, unlabelled = plan.get("target"), plan.get("unlabelled_datasets")
    if is_spark_frame(data):
        columns = spark_column_names(data)
    else:
        columns = list(normalise_column_names(data.head(0)).columns)
    if unlabelled and target in config["columns"] and target not in columns:
        return {**unlabelled[dataset], "labelled": False}
    return {**config, "labelled": True}


def prepare_frame(data: Any, dataset: str, config: dict[str, Any]) -> Any:
    """Normalised column names (as ingestion does), the row position if configured, checked.

    A Spark DataFrame stays one: its row position is computed in Spark.
    """
    spark = is_spark_frame(data)
    if data.isEmpty() if spark else data.empty:
        raise DataError(f"Catalog entry '{dataset}' has no rows: check the file it points at.")
    row_key = config.get("row_key")
    if spark:
        frame = normalise_spark_columns(data)
        if config.get("add_row_position") and row_key:
            frame = with_row_position(frame, row_key)
    else:
        frame = normalise_column_names(data)
        if config.get("add_row_position") and row_key:
            frame.insert(0, row_key, np.arange(len(frame), dtype="int64"))
    missing = [c for c in config["columns"] if c not in frame.columns]
    if missing:
        raise DataError(
            f"Catalog entry '{dataset}' has no column(s) {missing}; it has "
            f"{[c for c in frame.columns if c != row_key]}. Fix the data, or the column names in "
            "conf/base/parameters_ingestion.yml and conf/base/parameters_validation_suites.yml."
        )
    return frame


def validate_dataset(data: Any, plan: dict[str, Any], dataset: str) -> dict[str, Any]:
    """Run ``dataset``'s suite; the result names the rows each expectation found."""
    config = suite_for(data, plan, dataset)
    result = run_suite(prepare_frame(data, dataset, config), dataset, config)
    if not config["labelled"]:
        logger.info(
            "%s has no target column: its suite without the target's expectations.", dataset
        )
    result["labelled"] = config["labelled"]
    failed = [o["id"] for o in result["expectations"] if not o["success"]]
    logger.info(
        "Validated %s: %d rows, %d expectation(s) not met%s",
        dataset,
        result["rows"],
        len(failed),
        f": {failed}" if failed else "",
    )
    return result


def validate_with_report(data: Any, plan: dict[str, Any], dataset: str) -> tuple[dict, str]:
    """Suite of ``dataset``: its result and its HTML report."""
    result = validate_dataset(data, plan, dataset)
    return result, render_html(result)


def failures_of(
    results: tuple[dict[str, Any], ...],
) -> tuple[list[tuple[str, str, list[Any]]], list[dict[str, Any]], dict[str, float]]:
    """What the suites found: failing row expectations (reason, row key, failing keys) in
    suite order, failed table expectations, and each expectation's unexpected count."""
    row_failures, table_failures, metrics = [], [], {}
    for result in results:
        dataset = result["dataset"]
        for outcome in result["expectations"]:
            reason = f"{dataset}.{outcome['id']}"
            if outcome["unexpected_count"] is not None:
                metrics[f"{reason}.unexpected"] = outcome["unexpected_count"]
            if outcome["success"]:
                continue
            if outcome["severity"] == "table" or outcome["unexpected_rows"] is None:
                table_failures.append(
                    {
                        "reason": reason,
                        "description": outcome["description"],
                        "observed_value": outcome["observed_value"],
                    }
                )
                continue
            row_failures.append((reason, result["row_key"], outcome["unexpected_rows"]))
    return row_failures, table_failures, metrics


def check_row_counts(rows_in: int, plan: dict[str, Any], results: tuple[dict, ...]) -> None:
    """The primary table has one row per row of the main source, or ingestion lost some."""
    raw_rows = {r["dataset"]: r["rows"] for r in results}
    main = plan["main_dataset"]
    if raw_rows.get(main, rows_in) != rows_in:
        raise DataError(
            f"{PRIMARY_TABLE} has {rows_in} rows but {main} has {raw_rows[main]}: "
            "ingestion must keep one row per raw row."
        )


def quarantine_rows(
    primary: Any, plan: dict[str, Any], *results: dict[str, Any]
) -> tuple[Any, Any, dict[str, Any], dict[str, Any]]:
    """Split primary rows into passed and quarantined (with reasons); compute the verdict.

    A row is quarantined when it breaks a ``row`` expectation of any suite: the suite's
    ``row_key`` links its rows to primary rows (``source_row`` for the main source and the
    primary table, the join key for a related source). Nothing is dropped:
    rows_in = passed + quarantined. A Spark table is split in Spark (``spark.py``).
    """
    row_failures, table_failures, metrics = failures_of(results)
    if is_spark_frame(primary):
        from .spark import split_quarantined

        rows_in = primary.count()
        check_row_counts(rows_in, plan, results)
        passed, quarantined, counts = split_quarantined(primary, row_failures, REASON_SEPARATOR)
    else:
        rows_in = len(primary)
        check_row_counts(rows_in, plan, results)
        reasons: list[list[str]] = [[] for _ in range(rows_in)]
        by_reason: dict[str, int] = {}
        for reason, row_key, keys in row_failures:
            hit = np.flatnonzero(primary[row_key].isin(keys).to_numpy())
            by_reason[reason] = len(hit)
            for position in hit:
                reasons[position].append(reason)
        quarantine = np.array([bool(r) for r in reasons], dtype=bool)
        quarantined = primary[quarantine].assign(
            quarantine_reasons=[REASON_SEPARATOR.join(r) for r in reasons if r]
        )
        passed = primary[~quarantine]
        counts = {
            "rows_passed": len(passed),
            "rows_quarantined": int(quarantine.sum()),
            "by_reason": by_reason,
        }
    summary, record = verdict_of(rows_in, counts, table_failures, metrics, plan)
    return passed, quarantined, summary, record


def verdict_of(
    rows_in: int,
    counts: dict[str, Any],
    table_failures: list[dict[str, Any]],
    metrics: dict[str, float],
    plan: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The gate's verdict, the summary and the MLflow record from the counts of either engine."""
    rows_passed, rows_quarantined = counts["rows_passed"], counts["rows_quarantined"]
    if rows_passed + rows_quarantined != rows_in:  # never lose a row
        raise DataError(f"Row accounting broke: {rows_in} != {rows_passed} + {rows_quarantined}.")
    share = rows_quarantined / rows_in if rows_in else 0.0
    limit = plan["max_quarantined_share"]
    verdict = worst(
        "fail" if table_failures or share > limit else "pass",
        "warn" if rows_quarantined else "pass",
    )
    gate_reasons = [f"{f['reason']} ({f['description']})" for f in table_failures]
    if share > limit:
        gate_reasons.append(f"{share:.2%} of rows quarantined, more than the {limit:.2%} allowed")
    summary = {
        "verdict": verdict,
        "rows_in": rows_in,
        "rows_passed": rows_passed,
        "rows_quarantined": rows_quarantined,
        "quarantined_share": share,
        "max_quarantined_share": limit,
        "quarantined_by_reason": dict(sorted(counts["by_reason"].items(), key=lambda kv: -kv[1])),
        "failed_table_expectations": table_failures,
        "gate_reasons": gate_reasons,
        "reports": plan["report_folder"],
    }
    record = {
        "metrics": {
            "rows_in": rows_in,
            "rows_passed": rows_passed,
            "rows_quarantined": rows_quarantined,
            "quarantined_share": share,
            "failed_table_expectations": len(table_failures),
            **metrics,
        },
        "tags": gate_tags("validation", verdict),
    }
    return summary, record


def enforce_validation_gate(
    passed: Any, record: dict[str, Any], summary: dict[str, Any], plan: dict[str, Any]
) -> Any:
    """End the validation step: log the summary, then stop the run on a failed gate (on_fail)."""
    logger.info("%s", summary_text(summary))
    enforce_gate(
        "validation",
        record["tags"]["gate.validation"],
        plan["on_fail"],
        summary["gate_reasons"],
        summary["reports"],
    )
    return passed
