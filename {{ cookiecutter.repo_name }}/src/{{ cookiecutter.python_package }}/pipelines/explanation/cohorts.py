"""Where the model is wrong: cohorts of held-out rows with the highest error rate, found by a
shallow decision tree fitted on the model's errors.

The rows are split in two seeded halves: the tree is fitted on the errors of one half, and each
of its leaves (a cohort: conditions on at most ``max_depth`` inputs) is measured on the other
half, so the sizes, error rates and Wilson intervals are not flattered by the tree's own choice.
"""

import logging
import math
from typing import Any

import numpy as np
import pandas as pd

from ...decision import decision_threshold
from ...modelling import checked_model_inputs, thread_limit
from ...problem import problem_of

logger = logging.getLogger(__name__)


def wilson_interval(errors: int, rows: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval of a proportion ``errors / rows``."""
    from scipy.stats import norm

    if rows == 0:
        return math.nan, math.nan
    z = float(norm.ppf(0.5 + confidence / 2))
    p = errors / rows
    centre = (p + z * z / (2 * rows)) / (1 + z * z / rows)
    half = z * math.sqrt(p * (1 - p) / rows + z * z / (4 * rows * rows)) / (1 + z * z / rows)
    return max(0.0, centre - half), min(1.0, centre + half)


def _design(
    X: pd.DataFrame, numeric: list[str], categorical: list[str], max_categories: int
) -> tuple[np.ndarray, list[tuple[str, str | None]]]:
    """Numbers as they are (NaN kept: the tree routes missing values itself) and one indicator
    per frequent value of each categorical input; ``columns`` say which input each column is."""
    blocks, columns = [], []
    for name in numeric:
        blocks.append(X[name].to_numpy(dtype="float64"))
        columns.append((name, None))
    for name in categorical:
        values = X[name].astype(object).where(X[name].notna(), "missing").astype(str)
        for level in values.value_counts().index[:max_categories]:
            blocks.append((values == level).to_numpy(dtype="float64"))
            columns.append((name, str(level)))
    return np.column_stack(blocks), columns


def _number(value: float) -> str:
    return f"{value:.4g}"


def _merged(conditions: list[tuple[int, bool, bool]], tree: Any, columns: list) -> dict:
    """A leaf's path, per input: its bounds, the value it is or the values it is not, and
    whether missing values go along every step."""
    by_input: dict[str, dict[str, Any]] = {}
    for node, left, missing_this_way in conditions:
        name, level = columns[tree.tree_.feature[node]]
        entry = by_input.setdefault(
            name, {"low": None, "high": None, "is": None, "not": [], "missing": True}
        )
        if level is not None and left:
            entry["not"].append(level)
            continue
        if level is not None:
            entry["is"] = level
            continue
        threshold = float(tree.tree_.threshold[node])
        if left:
            entry["high"] = threshold if entry["high"] is None else min(entry["high"], threshold)
        else:
            entry["low"] = threshold if entry["low"] is None else max(entry["low"], threshold)
        entry["missing"] = entry["missing"] and missing_this_way
    return by_input


def _condition(name: str, entry: dict[str, Any], has_missing: set) -> str:
    """One input's condition in words: a value, values it is not, or a range."""
    if entry["is"] is not None:
        return f"`{name}` is {entry['is']}"
    if entry["not"]:
        return f"`{name}` is not {' or '.join(entry['not'])}"
    low, high = entry["low"], entry["high"]
    if low is not None and high is not None:
        text = f"{_number(low)} < `{name}` <= {_number(high)}"
    elif high is not None:
        text = f"`{name}` <= {_number(high)}"
    else:
        text = f"`{name}` > {_number(low)}"
    return f"({text} or missing)" if name in has_missing and entry["missing"] else text


def _describe(
    conditions: list[tuple[int, bool, bool]], tree: Any, columns: list, has_missing: set
) -> str:
    """A leaf's path in words: per input, one condition (a range, a value, or values it is not)."""
    merged = _merged(conditions, tree, columns)
    return " and ".join(_condition(n, e, has_missing) for n, e in merged.items()) or "all rows"


def _leaf_paths(tree: Any) -> dict[int, list[tuple[int, bool, bool]]]:
    """For each leaf: the (node, went left, missing values go this way) steps from the root."""
    t = tree.tree_
    missing_left = getattr(t, "missing_go_to_left", np.zeros(t.node_count, dtype=bool))
    paths: dict[int, list[tuple[int, bool, bool]]] = {}
    stack: list[tuple[int, list]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        if t.children_left[node] == -1:
            paths[node] = path
            continue
        go_left = bool(missing_left[node])
        stack.append((t.children_left[node], [*path, (node, True, go_left)]))
        stack.append((t.children_right[node], [*path, (node, False, not go_left)]))
    return paths


def analyse_errors(  # noqa: PLR0917  (a Kedro node: inputs come positionally)
    trained_model: Any,
    rows: pd.DataFrame,
    plan: dict[str, Any],
    decision: dict[str, Any],
    training: dict[str, Any],
    dataset: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The cohorts of held-out rows where the model errs most, against the overall error rate.

    Returns the report (every cohort of the tree, highest error rate first, each with its
    conditions in words, rows, errors, error rate and Wilson interval) and the run record
    (``explain.errors.*``).
    """
    from sklearn.tree import DecisionTreeClassifier

    settings = plan["error_analysis"]
    problem = problem_of(dataset)
    X, numeric, categorical = checked_model_inputs(rows, training, "held_out_set")
    y = problem.target_values(rows, "held_out_set")
    with thread_limit(plan["max_threads"]):
        prediction = problem.predict(trained_model, X)
    wrong, definition = problem.errors_of(
        y, prediction, decision_threshold(decision), settings["residual_quantile"]
    )
    wrong = np.asarray(wrong, dtype=bool)
    design, columns = _design(X, numeric, categorical, settings["max_categories"])
    has_missing = {name for name in numeric if X[name].isna().any()}
    order = np.random.default_rng(plan["seed"]).permutation(len(X))
    fit, measure = order[: len(X) // 2], order[len(X) // 2 :]
    min_rows, confidence = settings["min_rows"], settings["confidence"]
    overall_low, overall_high = wilson_interval(int(wrong.sum()), len(wrong), confidence)
    report: dict[str, Any] = {
        "error_definition": definition,
        "rows": len(X),
        "errors": int(wrong.sum()),
        "error_rate": float(wrong.mean()) if len(wrong) else math.nan,
        "ci_low": overall_low,
        "ci_high": overall_high,
        "confidence": confidence,
        "max_depth": settings["max_depth"],
        "min_rows": min_rows,
        "max_cohorts": settings["max_cohorts"],
        "fit_rows": len(fit),
        "measured_rows": len(measure),
        "cohorts": [],
    }
    enough = len(fit) >= 2 * min_rows and 0 < wrong[fit].sum() < len(fit)
    if enough:
        tree = DecisionTreeClassifier(
            max_depth=settings["max_depth"], min_samples_leaf=min_rows, random_state=plan["seed"]
        ).fit(design[fit], wrong[fit])
        leaves = tree.apply(design[measure])
        measured_rate = float(wrong[measure].mean())
        for leaf, path in _leaf_paths(tree).items():
            in_leaf = leaves == leaf
            n, k = int(in_leaf.sum()), int(wrong[measure][in_leaf].sum())
            if n < min_rows:
                continue
            low, high = wilson_interval(k, n, confidence)
            report["cohorts"].append(
                {
                    "cohort": _describe(path, tree, columns, has_missing),
                    "inputs": sorted({columns[tree.tree_.feature[node]][0] for node, _, _ in path}),
                    "rows": n,
                    "errors": k,
                    "error_rate": k / n,
                    "ci_low": low,
                    "ci_high": high,
                    "above_overall": bool(low > measured_rate),
                }
            )
        report["measured_error_rate"] = measured_rate
    report["cohorts"].sort(key=lambda c: (-c["error_rate"], -c["rows"]))
    above = [c for c in report["cohorts"] if c["above_overall"]]
    worst = report["cohorts"][0] if report["cohorts"] else None
    logger.info(
        "Error rate %.3f on %d held-out rows; %d cohort(s) clearly above it%s",
        report["error_rate"],
        len(X),
        len(above),
        f", worst: {worst['cohort']} ({worst['error_rate']:.3f} on {worst['rows']} rows)."
        if worst
        else ".",
    )
    metrics = {
        "errors.error_rate": report["error_rate"],
        "errors.cohorts": len(report["cohorts"]),
        "errors.cohorts_above_overall": len(above),
    }
    if worst:
        metrics |= {
            "errors.worst_cohort_error_rate": worst["error_rate"],
            "errors.worst_cohort_rows": worst["rows"],
        }
    return report, {"metrics": metrics}
