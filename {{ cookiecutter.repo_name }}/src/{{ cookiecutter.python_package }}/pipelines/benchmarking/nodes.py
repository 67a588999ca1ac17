"""Benchmarking nodes: the candidate against simple baselines on the same repeated CV folds.

Every model is fitted on exactly the same folds, so per-fold scores are paired. Fold scores are
correlated (training sets overlap), so the naive standard error is too small: intervals and the
candidate-vs-baseline test use the Nadeau-Bengio correction of the variance,
``var * (1 / (k * r) + n_test / n_train)`` (Nadeau and Bengio, 2003; as in scikit-learn's
example "Statistical comparison of models using grid search").
"""

import logging
import math
import time
from typing import Any

import numpy as np
import pandas as pd

from ...decision import calibrated_candidate, decision_threshold
from ...errors import ConfigError, check_keys
from ...gates import check_on_fail, enforce_gate, gate_tags
from ...modelling import (
    build_estimator,
    build_model,
    feature_columns,
    model_inputs,
    thread_limit,
)
from ...problem import problem_of

logger = logging.getLogger(__name__)

PARAMETERS = "conf/base/parameters_benchmarking.yml"
KEYS = (
    "candidate_name",
    "baselines",
    "cv",
    "max_rows",
    "max_threads",
    "metrics",
    "primary_metric",
    "min_improvement",
    "alpha",
    "on_fail",
    "report_folder",
)
MODEL_NAME_CHARACTERS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


def check_benchmark_config(params: dict[str, Any], dataset: dict[str, Any]) -> dict[str, Any]:
    """The benchmark plan: ``benchmarking`` checked, with the problem type's defaults where a
    key is null (``metrics``, ``primary_metric``, ``baselines``: see ``problem/``)."""
    problem = problem_of(dataset)
    check_keys(params, KEYS, "benchmarking", PARAMETERS)
    check_keys(params["cv"], ("n_splits", "n_repeats", "seed"), "benchmarking.cv", PARAMETERS)
    check_on_fail("benchmarking", params["on_fail"], PARAMETERS)
    metrics = (
        list(problem.DEFAULT_BENCHMARK_METRICS)
        if params["metrics"] is None
        else problem.check_metrics(params["metrics"], "benchmarking.metrics", PARAMETERS)
    )
    primary = params["primary_metric"] or problem.PRIMARY_METRIC
    if primary not in metrics:
        raise ConfigError(
            f"benchmarking.primary_metric in {PARAMETERS} is {primary!r}; it must be one of "
            f"benchmarking.metrics {metrics}."
        )
    cv = params["cv"]
    if int(cv["n_splits"]) < 2 or int(cv["n_repeats"]) < 1:
        raise ConfigError(
            f"benchmarking.cv in {PARAMETERS} needs n_splits >= 2 and n_repeats >= 1; it is {cv}."
        )
    if int(params["max_rows"]) < 10 * int(cv["n_splits"]):
        raise ConfigError(
            f"benchmarking.max_rows in {PARAMETERS} is too small: {params['max_rows']}."
        )
    baselines = problem.baselines() if params["baselines"] is None else params["baselines"]
    if not baselines:
        raise ConfigError(f"benchmarking.baselines in {PARAMETERS} lists no baseline model.")
    names = [params["candidate_name"], *baselines]
    for name in names:
        if not set(str(name)) <= MODEL_NAME_CHARACTERS or names.count(name) > 1:
            raise ConfigError(
                f"Model name {name!r} in {PARAMETERS} (benchmarking.candidate_name or a key of "
                "benchmarking.baselines) must be unique, lower-case letters, digits, _ or -."
            )
    return {
        **params,
        "metrics": metrics,
        "primary_metric": primary,
        "greater_is_better": {m: problem.greater_is_better(m) for m in metrics},
        "baselines": baselines,
        "dataset": problem.dataset,
    }


def build_benchmark_models(
    training: dict[str, Any], params: dict[str, Any], dataset: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Unfitted models by name: the candidate of ``training.candidate`` and the baselines, and
    the benchmark plan.

    All share the training pipeline's preprocessing. Runs on configuration alone, so a bad
    baseline, metric, fold count or ``on_fail`` is refused before any data is read.
    """
    plan = check_benchmark_config(params, dataset)
    problem = problem_of(dataset)
    seed = training["split"]["seed"]
    models = {plan["candidate_name"]: calibrated_candidate(training, problem)}
    for name, spec in plan["baselines"].items():
        where = f"benchmarking.baselines.{name}"
        models[name] = build_model(
            training, build_estimator(spec, where, PARAMETERS, problem, seed)
        )
    return models, plan


def _sample(
    frame: pd.DataFrame, y: np.ndarray, max_rows: int, seed: int, problem: Any
) -> pd.DataFrame:
    """At most ``max_rows`` rows, stratified by class (benchmarking cost grows with rows)."""
    if len(frame) <= max_rows:
        return frame
    from sklearn.model_selection import train_test_split

    stratify = problem.stratify_by(y)
    sample, _ = train_test_split(frame, train_size=max_rows, random_state=seed, stratify=stratify)
    logger.info("Benchmarking on a sample of %d of %d rows.", max_rows, len(frame))
    return sample


def cross_validate_models(
    training_set: pd.DataFrame,
    benchmark_models: dict[str, Any],
    decision: dict[str, Any],
    training: dict[str, Any],
    params: dict[str, Any],
) -> pd.DataFrame:
    """Score every model on the same repeated K-fold splits of the training set (stratified
    by class for classes, as the problem type says).

    One row per model and fold: the metrics, fit and predict seconds and the fold sizes.
    """
    from sklearn.base import clone

    problem = problem_of(params["dataset"])
    cv = params["cv"]
    n_splits, n_repeats, seed = int(cv["n_splits"]), int(cv["n_repeats"]), int(cv["seed"])
    y_all = problem.target_values(training_set, "training_set")
    frame = _sample(training_set, y_all, int(params["max_rows"]), seed, problem)
    y = problem.target_values(frame, "training_set")
    problem.check_folds(y, n_splits, f"benchmarking.cv.n_splits in {PARAMETERS}")
    X = model_inputs(frame, *feature_columns(training))
    splits = list(problem.folds(n_splits, n_repeats, seed).split(X, y))
    rows = []
    for name, model in benchmark_models.items():
        for index, (train, test) in enumerate(splits):
            logger.info("Benchmark: fold %d/%d for model %s", index + 1, len(splits), name)
            fitted = clone(model)
            start = time.perf_counter()
            with thread_limit(params["max_threads"]):
                fitted.fit(X.iloc[train], y[train])
                fit_seconds = time.perf_counter() - start
                start = time.perf_counter()
                prediction = problem.predict(fitted, X.iloc[test])
            predict_seconds = time.perf_counter() - start
            scores = problem.score(
                params["metrics"], y[test], prediction, decision_threshold(decision)
            )
            rows.append(
                {
                    "model": name,
                    "repeat": index // n_splits,
                    "fold": index % n_splits,
                    "n_train": len(train),
                    "n_test": len(test),
                    **scores,
                    "fit_seconds": fit_seconds,
                    "predict_seconds": predict_seconds,
                }
            )
    return pd.DataFrame(rows)


def corrected_t_test(
    differences: np.ndarray, n_train: float, n_test: float, confidence: float = 0.95
) -> dict[str, float]:
    """Nadeau-Bengio corrected resampled t-test of the mean of paired per-fold differences.

    ``differences`` are per-fold (candidate - baseline) improvements over k * r folds. The
    variance is corrected for the overlap of training sets: ``var * (1/(k*r) + n_test/n_train)``
    with ``df = k*r - 1``. The p-value is one-sided (H1: the mean improvement is above zero).
    """
    from scipy import stats

    differences = np.asarray(differences, dtype="float64")
    n = len(differences)
    if n < 2:
        raise ValueError("The corrected t-test needs at least two folds.")
    mean = float(differences.mean())
    variance = float(differences.var(ddof=1))
    corrected_se = math.sqrt(variance * (1 / n + n_test / n_train))
    df = n - 1
    if corrected_se > 0:
        t_statistic = mean / corrected_se
        p_value = float(stats.t.sf(t_statistic, df))
    else:  # identical differences on every fold
        t_statistic = math.copysign(math.inf, mean) if mean else 0.0
        p_value = 0.0 if mean > 0 else 1.0
    half_width = float(stats.t.ppf(0.5 + confidence / 2, df)) * corrected_se
    return {
        "mean": mean,
        "std": math.sqrt(variance),
        "corrected_se": corrected_se,
        "t_statistic": float(t_statistic),
        "df": float(df),
        "p_value": p_value,
        "ci_low": mean - half_width,
        "ci_high": mean + half_width,
    }


def _interval(values: np.ndarray, n_train: float, n_test: float) -> tuple[float, float]:
    """95 % interval of a mean fold score with the Nadeau-Bengio corrected standard error."""
    result = corrected_t_test(values, n_train, n_test)
    return result["ci_low"], result["ci_high"]


def summarise_models(fold_scores: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """The leaderboard: per model and metric mean, std and 95 % interval; times; rank."""
    metrics = params["metrics"]
    primary = params["primary_metric"]
    n_train, n_test = fold_scores["n_train"].mean(), fold_scores["n_test"].mean()
    rows = []
    for name, folds in fold_scores.groupby("model", sort=False):
        row: dict[str, Any] = {
            "model": name,
            "role": "candidate" if name == params["candidate_name"] else "baseline",
        }
        for metric in metrics:
            values = folds[metric].to_numpy()
            low, high = _interval(values, n_train, n_test)
            row |= {
                f"{metric}_mean": values.mean(),
                f"{metric}_std": values.std(ddof=1),
                f"{metric}_ci_low": low,
                f"{metric}_ci_high": high,
            }
        row |= {
            "fit_seconds_mean": folds["fit_seconds"].mean(),
            "predict_seconds_mean": folds["predict_seconds"].mean(),
            "folds": len(folds),
        }
        rows.append(row)
    board = pd.DataFrame(rows).sort_values(
        f"{primary}_mean", ascending=not params["greater_is_better"][primary], kind="stable"
    )
    board.insert(0, "rank", range(1, len(board) + 1))
    return board.reset_index(drop=True)


def verdict(improvement: float, p_value: float, min_improvement: float, alpha: float) -> str:
    """``pass``: better by at least ``min_improvement`` with ``p < alpha``; ``warn``: better and
    either significant or by the margin, not both; ``fail``: neither (or worse)."""
    significant, large_enough = p_value < alpha, improvement >= min_improvement
    if improvement > 0 and significant and large_enough:
        return "pass"
    if improvement > 0 and (significant or large_enough):
        return "warn"
    return "fail"


def compare_models(
    fold_scores: pd.DataFrame, params: dict[str, Any]
) -> tuple[pd.DataFrame, str, dict[str, Any], dict[str, Any]]:
    """Leaderboard, the candidate against the best baseline, and the benchmark verdict.

    Returns the leaderboard, its Markdown report, the comparison (JSON) and the run record
    (``benchmark.*`` metrics and the ``gate.benchmark`` tag).
    """
    primary, candidate = params["primary_metric"], params["candidate_name"]
    board = summarise_models(fold_scores, params)
    baselines = board[board["role"] == "baseline"]
    best = str(baselines.iloc[0]["model"])  # the leaderboard is sorted best first
    paired = fold_scores.pivot_table(index=["repeat", "fold"], columns="model", values=primary)
    sign = 1.0 if params["greater_is_better"][primary] else -1.0
    improvement = sign * (paired[candidate] - paired[best]).to_numpy()
    test = corrected_t_test(
        improvement, fold_scores["n_train"].mean(), fold_scores["n_test"].mean()
    )
    result = verdict(test["mean"], test["p_value"], params["min_improvement"], params["alpha"])
    reasons = []
    if result != "pass":
        reasons.append(
            f"{candidate} improves {primary} over the best baseline {best} by "
            f"{test['mean']:+.4f} (95% CI {test['ci_low']:+.4f} to {test['ci_high']:+.4f}, "
            f"one-sided p={test['p_value']:.3g}); required: at least {params['min_improvement']} "
            f"with p < {params['alpha']}"
        )
    comparison = {
        "gate": "benchmark",
        "verdict": result,
        "reasons": reasons,
        "primary_metric": primary,
        "candidate": candidate,
        "best_baseline": best,
        "min_improvement": params["min_improvement"],
        "alpha": params["alpha"],
        "folds": len(improvement),
        "improvement": test,
        "test": "Nadeau-Bengio corrected resampled t-test, one-sided (candidate better)",
    }
    metrics: dict[str, float] = {
        "rows": float(fold_scores.loc[0, "n_train"] + fold_scores.loc[0, "n_test"]),
        "folds": len(improvement),
        **{f"improvement_{key}": value for key, value in test.items() if key != "df"},
    }
    for row in board.to_dict("records"):
        for key, value in row.items():
            if key.endswith(("_mean", "_std", "_ci_low", "_ci_high")):
                metrics[f"{row['model']}.{key}"] = float(value)
    record = {
        "metrics": metrics,
        "tags": {
            **gate_tags("benchmark", result),
            "benchmark.best_baseline": best,
            "benchmark.primary_metric": primary,
        },
    }
    logger.info(
        "Benchmark: %s vs %s on %s: %+.4f (p=%.3g) -> %s",
        candidate,
        best,
        primary,
        test["mean"],
        test["p_value"],
        result,
    )
    return board, leaderboard_markdown(board, comparison, params), comparison, record


def leaderboard_markdown(
    board: pd.DataFrame, comparison: dict[str, Any], params: dict[str, Any]
) -> str:
    """A readable leaderboard: mean [95 % interval] per metric, times, and the verdict."""
    metrics = params["metrics"]
    header = ["rank", "model", "role", *metrics, "fit s", "predict s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in board.to_dict("records"):
        cells = [str(row["rank"]), f"`{row['model']}`", row["role"]]
        cells += [
            f"{row[f'{m}_mean']:.4f} [{row[f'{m}_ci_low']:.4f}, {row[f'{m}_ci_high']:.4f}]"
            for m in metrics
        ]
        cells += [f"{row['fit_seconds_mean']:.3f}", f"{row['predict_seconds_mean']:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    test = comparison["improvement"]
    cv = params["cv"]
    better = "higher" if params["greater_is_better"][comparison["primary_metric"]] else "lower"
    return "\n".join(
        [
            "# Benchmark leaderboard",
            "",
            f"Every model was fitted on the same {cv['n_repeats']} x {cv['n_splits']}-fold "
            f"splits of the training set ({comparison['folds']} folds). Ranked by "
            f"`{comparison['primary_metric']}` ({better} is better). Intervals are 95 % "
            "t-intervals with the Nadeau-Bengio corrected variance.",
            "",
            *lines,
            "",
            f"## Verdict: **{comparison['verdict']}**",
            "",
            f"`{comparison['candidate']}` against the best baseline "
            f"`{comparison['best_baseline']}` on `{comparison['primary_metric']}`: mean "
            f"improvement {test['mean']:+.4f} (95 % CI {test['ci_low']:+.4f} to "
            f"{test['ci_high']:+.4f}), corrected t = {test['t_statistic']:.3f} with "
            f"{test['df']:.0f} df, one-sided p = {test['p_value']:.3g}.",
            "",
            f"Pass requires an improvement of at least {comparison['min_improvement']} with "
            f"p < {comparison['alpha']}; warn: better, but only one of the two; fail: neither.",
            "",
        ]
    )


def plot_fold_scores(fold_scores: pd.DataFrame, params: dict[str, Any]) -> Any:
    """Per-fold scores of each model on the primary metric; grey lines join the same fold."""
    from matplotlib.figure import Figure

    primary = params["primary_metric"]
    paired = fold_scores.pivot_table(index=["repeat", "fold"], columns="model", values=primary)
    models = list(dict.fromkeys(fold_scores["model"]))
    paired = paired[models]
    figure = Figure(figsize=(1.8 * len(models) + 2, 4.5), layout="constrained")
    ax = figure.subplots()
    positions = np.arange(len(models))
    # one grey line per fold: each column of the transposed table is a fold
    ax.plot(positions, paired.to_numpy().T, color="grey", alpha=0.3, linewidth=0.8)
    for position, model in zip(positions, models, strict=True):
        ax.scatter(np.full(len(paired), position), paired[model], s=14, zorder=3)
        ax.hlines(paired[model].mean(), position - 0.25, position + 0.25, color="black")
    ax.set_xticks(positions, models)
    ax.set_ylabel(primary)
    ax.set_title(f"{primary} per fold ({len(paired)} folds; bar: mean)")
    return figure


def enforce_benchmark_gate(
    benchmark_comparison: dict[str, Any], benchmark_record: dict[str, Any], params: dict[str, Any]
) -> str:
    """Apply ``on_fail`` to the benchmark verdict (already tagged on the run); return it.

    ``stop`` ends the run with the reason; ``flag`` lets it finish, marked by the tag.
    """
    result = benchmark_comparison["verdict"]
    report = f"{params['report_folder']}/leaderboard.md"
    enforce_gate("benchmark", result, params["on_fail"], benchmark_comparison["reasons"], report)
    return result
