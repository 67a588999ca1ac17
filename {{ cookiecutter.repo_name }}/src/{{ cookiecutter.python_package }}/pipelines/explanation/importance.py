"""What drives the predictions: permutation importance of every model input, and partial
dependence of the top ones, on the held-out rows."""

import logging
import math
from typing import Any

import numpy as np
import pandas as pd

from ...decision import decision_threshold
from ...groups import metric_safe
from ...modelling import (
    checked_model_inputs,
    seeded_sample,
    thread_limit,
)
from ...problem import problem_of

logger = logging.getLogger(__name__)

Z95 = 1.959963984540054  # the normal quantile of a two-sided 95 % interval


def explanation_rows(held_out_set: pd.DataFrame, plan: dict[str, Any]) -> pd.DataFrame:
    """The held-out rows the explanation works on: all of them up to ``max_rows``, else a
    seeded random sample (the cost grows with these rows, not with the data)."""
    rows = seeded_sample(held_out_set, plan["max_rows"], plan["seed"])
    if len(rows) < len(held_out_set):
        logger.info(
            "Explaining the model on a seeded sample of %d of the %d held-out rows.",
            len(rows),
            len(held_out_set),
        )
    return rows.reset_index(drop=True)


def measure_importance(  # noqa: PLR0917  (a Kedro node: inputs come positionally)
    trained_model: Any,
    rows: pd.DataFrame,
    plan: dict[str, Any],
    decision: dict[str, Any],
    training: dict[str, Any],
    dataset: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Permutation importance of every model input (the columns before one-hot encoding).

    An input's importance is how much ``plan["metric"]`` worsens when its values are shuffled
    among the rows (in the metric's own units; 0: the model does not use it), the mean of
    ``n_repeats`` shuffles with a 95 % interval of that mean. Returns the report (inputs by
    importance, highest first) and the run record (``explain.importance.<input>``).
    """
    from sklearn.inspection import permutation_importance

    problem = problem_of(dataset)
    X, _, _ = checked_model_inputs(rows, training, "held_out_set")
    y = problem.target_values(rows, "held_out_set")
    metric, sign = plan["metric"], 1.0 if plan["greater_is_better"] else -1.0
    threshold = decision_threshold(decision)

    def score(model: Any, X_: pd.DataFrame, y_: np.ndarray) -> float:
        value = problem.score([metric], y_, problem.predict(model, X_), threshold)[metric]
        return sign * value

    n_repeats = plan["importance"]["n_repeats"]
    with thread_limit(plan["max_threads"]):
        result = permutation_importance(
            trained_model, X, y, scoring=score, n_repeats=n_repeats, random_state=plan["seed"]
        )
        baseline = float(sign * score(trained_model, X, y))
    half = Z95 * result.importances_std / math.sqrt(n_repeats)
    inputs = [
        {
            "input": column,
            "importance": float(result.importances_mean[i]),
            "std": float(result.importances_std[i]),
            "ci_low": float(result.importances_mean[i] - half[i]),
            "ci_high": float(result.importances_mean[i] + half[i]),
        }
        for i, column in enumerate(X.columns)
    ]
    inputs.sort(key=lambda item: (-item["importance"], item["input"]))
    for rank, item in enumerate(inputs, start=1):
        item["rank"] = rank
    report = {
        "metric": metric,
        "greater_is_better": plan["greater_is_better"],
        "baseline_score": baseline,
        "rows": len(X),
        "n_repeats": n_repeats,
        "seed": plan["seed"],
        "inputs": inputs,
    }
    logger.info(
        "Inputs the model relies on most (loss in %s when shuffled): %s",
        metric,
        ", ".join(f"{i['input']} {i['importance']:.4f}" for i in inputs[:5]),
    )
    record = {"metrics": {f"importance.{metric_safe(i['input'])}": i["importance"] for i in inputs}}
    return report, record


def top_inputs(importance: dict[str, Any], count: int) -> list[str]:
    """The ``count`` most important inputs whose shuffling costs the model anything."""
    return [i["input"] for i in importance["inputs"] if i["importance"] > 0][:count]


def plot_explanation(
    *,
    trained_model: Any,
    rows: pd.DataFrame,
    importance: dict[str, Any],
    plan: dict[str, Any],
    decision: dict[str, Any],
    training: dict[str, Any],
    dataset: dict[str, Any],
) -> dict[str, Any]:
    """The importance of every input with its interval, and partial dependence plots of the
    top inputs (for several classes: the probability of the class the model misses most)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.inspection import PartialDependenceDisplay

    problem = problem_of(dataset)
    figures: dict[str, Any] = {}
    items = importance["inputs"][::-1]  # highest at the top of a horizontal bar chart
    figure, ax = plt.subplots(figsize=(7, 0.35 * len(items) + 1.5), layout="constrained")
    ax.barh(
        [i["input"] for i in items],
        [i["importance"] for i in items],
        xerr=[
            [i["importance"] - i["ci_low"] for i in items],
            [i["ci_high"] - i["importance"] for i in items],
        ],
        color="#4c72b0",
    )
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_xlabel(f"loss in {importance['metric']} when the input is shuffled")
    ax.set_title(
        f"Permutation importance, held-out set\n(n={importance['rows']}, "
        f"{importance['n_repeats']} shuffles, 95 % interval of the mean)"
    )
    figures["permutation_importance"] = figure

    top = top_inputs(importance, plan["importance"]["top_inputs"])
    if not top:
        return figures
    X, _, categorical = checked_model_inputs(rows, training, "held_out_set")
    y = problem.target_values(rows, "held_out_set")
    with thread_limit(plan["max_threads"]):
        prediction = problem.predict(trained_model, X)
        target, words = problem.partial_dependence_target(
            y, prediction, decision_threshold(decision)
        )
        figure, axes = plt.subplots(1, len(top), figsize=(4 * len(top), 3.6), layout="constrained")
        PartialDependenceDisplay.from_estimator(
            trained_model,
            X,
            features=top,
            categorical_features=[c for c in top if c in categorical] or None,
            target=target,
            kind="average",
            grid_resolution=plan["importance"]["grid_resolution"],
            ax=np.atleast_1d(axes),
        )
    figure.suptitle(f"Partial dependence of {words} (n={len(X)})")
    figures["partial_dependence"] = figure
    return figures
