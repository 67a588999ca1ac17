"""Unit tests of the benchmarking nodes: the corrected t-test, the leaderboard, the gate."""

import math

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.python_package }}.errors import ConfigError, GateFailed
from {{ cookiecutter.python_package }}.pipelines.benchmarking import nodes

TRAINING = {
    "target": "defaulted",
    "split": {"seed": 0},
    "features": {"numeric": ["x1", "x2"], "categorical": ["group"], "drop": []},
    "sensitive_features": [],
    "candidate": {
        "class": "sklearn.ensemble.HistGradientBoostingClassifier",
        "kwargs": {"max_iter": 30},
    },
    "decision_threshold": 0.5,
    "use_sensitive_features": False,
    "preprocessing": {"numeric_imputation": "median"},
}
PARAMS = {
    "candidate_name": "candidate",
    "baselines": {
        "dummy_prior": {"class": "sklearn.dummy.DummyClassifier", "kwargs": {"strategy": "prior"}},
        "logistic_regression": {
            "class": "sklearn.linear_model.LogisticRegression",
            "kwargs": {"C": 1.0, "max_iter": 1000},
        },
    },
    "cv": {"n_splits": 3, "n_repeats": 2, "seed": 0},
    "max_rows": 50000,
    "max_threads": 1,
    "metrics": ["roc_auc", "log_loss", "balanced_accuracy"],
    "primary_metric": "roc_auc",
    "min_improvement": 0.01,
    "alpha": 0.05,
    "on_fail": "flag",
    "report_folder": "data/08_reporting/benchmark",
}
DATASET = {"problem_type": "binary", "target": {"column": "defaulted", "positive": 1}}


def frame(n: int = 600, noise: bool = False, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    group = rng.choice(["a", "b", "c"], n)
    # a non-linear signal (an interaction) that trees find and a linear model cannot
    signal = 2.5 * ((x1 > 0) == (x2 > 0)) + rng.normal(0, 0.5, n)
    label = rng.random(n) < 0.3 if noise else signal > np.quantile(signal, 0.6)
    return pd.DataFrame({"x1": x1, "x2": x2, "group": group, "defaulted": label.astype(int)})


def run_benchmark(data: pd.DataFrame, **overrides: object) -> tuple:
    params = {**PARAMS, **overrides}
    models, plan = nodes.build_benchmark_models(TRAINING, params, DATASET)
    scores = nodes.cross_validate_models(data, models, {"threshold": 0.5}, TRAINING, plan)
    return scores, *nodes.compare_models(scores, plan)


def test_corrected_t_test_matches_a_hand_computation() -> None:
    differences = np.array([0.01, 0.02, 0.03, 0.00, 0.04])  # k * r = 5 folds
    result = nodes.corrected_t_test(differences, n_train=80, n_test=20)
    # mean 0.02; sample variance (1 + 0 + 1 + 4 + 4) e-4 / 4 = 2.5e-4;
    # corrected variance 2.5e-4 * (1/5 + 20/80) = 1.125e-4; t = 0.02 / sqrt(1.125e-4)
    t = 0.02 / math.sqrt(1.125e-4)
    assert result["mean"] == pytest.approx(0.02)
    assert result["t_statistic"] == pytest.approx(t) == pytest.approx(1.885618, rel=1e-6)
    assert result["df"] == 4
    # one-sided p from the closed-form CDF of Student's t with 4 degrees of freedom
    cdf = 0.5 + 3 / 8 * t / math.sqrt(1 + t * t / 4) * (1 - t * t / (12 * (1 + t * t / 4)))
    assert result["p_value"] == pytest.approx(1 - cdf) == pytest.approx(0.0662, abs=1e-4)
    half_width = 2.776445 * math.sqrt(1.125e-4)  # t(0.975, 4) * corrected standard error
    assert result["ci_low"] == pytest.approx(0.02 - half_width, rel=1e-5)
    assert result["ci_high"] == pytest.approx(0.02 + half_width, rel=1e-5)
    # without the correction the same folds would look significant
    naive_t = 0.02 / math.sqrt(2.5e-4 / 5)
    assert naive_t > 2.776445 > result["t_statistic"]


@pytest.mark.parametrize(
    ("improvement", "p_value", "expected"),
    [
        (0.02, 0.01, "pass"),
        (0.005, 0.01, "warn"),
        (0.02, 0.2, "warn"),
        (0.005, 0.2, "fail"),
        (-0.02, 0.99, "fail"),
        (0.0, 0.5, "fail"),
    ],
)
def test_verdict(improvement: float, p_value: float, expected: str) -> None:
    assert nodes.verdict(improvement, p_value, min_improvement=0.01, alpha=0.05) == expected


def test_leaderboard_lists_every_model_with_intervals_on_the_same_folds() -> None:
    scores, board, report, comparison, record = run_benchmark(frame())
    assert set(board["model"]) == {"candidate", "dummy_prior", "logistic_regression"}
    assert board["rank"].tolist() == [1, 2, 3]
    for metric in PARAMS["metrics"]:
        assert (board[f"{metric}_ci_low"] <= board[f"{metric}_mean"]).all()
        assert (board[f"{metric}_mean"] <= board[f"{metric}_ci_high"]).all()
    assert (board["folds"] == 6).all() and (board["fit_seconds_mean"] > 0).all()
    # the same folds for every model: identical fold sizes per (repeat, fold)
    sizes = scores.groupby(["repeat", "fold"])["n_test"].nunique()
    assert (sizes == 1).all() and len(sizes) == 6
    for model in board["model"]:
        assert f"`{model}`" in report
        assert f"{model}.roc_auc_ci_low" in record["metrics"]
    assert comparison["best_baseline"] == board.loc[board["role"] == "baseline", "model"].iloc[0]
    # trees find the interaction: the candidate clearly beats the baselines
    assert record["tags"]["gate.benchmark"] == comparison["verdict"] == "pass"


def test_pure_noise_does_not_pass_the_gate() -> None:
    *_, comparison, record = run_benchmark(frame(noise=True, seed=1))
    assert record["tags"]["gate.benchmark"] == comparison["verdict"] != "pass"
    assert comparison["improvement"]["p_value"] > PARAMS["alpha"]


def test_rows_above_max_rows_are_sampled() -> None:
    scores, *_ = run_benchmark(frame(), max_rows=300)
    assert (scores["n_train"] + scores["n_test"] == 300).all()


def test_bad_baseline_keyword_and_on_fail_are_refused_before_fitting() -> None:
    bad = {"class": "sklearn.linear_model.LogisticRegression", "kwargs": {"c": 1.0}}
    with pytest.raises(ConfigError, match=r"benchmarking\.baselines\.linear\.kwargs\.c"):
        nodes.build_benchmark_models(TRAINING, {**PARAMS, "baselines": {"linear": bad}}, DATASET)
    missing = {"class": "sklearn.linear_model.LogisticRegresion"}
    with pytest.raises(ConfigError, match=r"benchmarking\.baselines\.linear\.class"):
        nodes.build_benchmark_models(
            TRAINING, {**PARAMS, "baselines": {"linear": missing}}, DATASET
        )
    with pytest.raises(ConfigError, match=r"benchmarking\.on_fail"):
        nodes.build_benchmark_models(TRAINING, {**PARAMS, "on_fail": "halt"}, DATASET)
    with pytest.raises(ConfigError, match=r"benchmarking\.primary_metric"):
        nodes.build_benchmark_models(TRAINING, {**PARAMS, "primary_metric": "f1"}, DATASET)


def test_failed_gate_stops_or_flags() -> None:
    comparison = {"verdict": "fail", "reasons": ["no better than logistic_regression"]}
    assert nodes.enforce_benchmark_gate(comparison, {}, PARAMS) == "fail"
    with pytest.raises(GateFailed, match="no better than logistic_regression"):
        nodes.enforce_benchmark_gate(comparison, {}, {**PARAMS, "on_fail": "stop"})
