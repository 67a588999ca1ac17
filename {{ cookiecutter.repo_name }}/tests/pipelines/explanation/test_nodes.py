"""Explanation on generated frames with a planted signal and a planted cohort of noisy labels:
the importance ranks the signal first, the error analysis finds the cohort, for every type."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from {{ cookiecutter.python_package }}.errors import ConfigError
from {{ cookiecutter.python_package }}.modelling import build_model, model_inputs
from {{ cookiecutter.python_package }}.pipelines.explanation import create_pipeline
from {{ cookiecutter.python_package }}.pipelines.explanation.card import (
    errors_section,
    importance_section,
)
from {{ cookiecutter.python_package }}.pipelines.explanation.cohorts import (
    analyse_errors,
    wilson_interval,
)
from {{ cookiecutter.python_package }}.pipelines.explanation.importance import (
    explanation_rows,
    measure_importance,
    plot_explanation,
)
from {{ cookiecutter.python_package }}.pipelines.explanation.plan import check_explanation_config

NUMERIC, CATEGORICAL = ["signal_a", "signal_b", "noise", "where"], ["kind"]
FIXED = {"threshold": 0.5}  # the decision of training.decision: a fixed threshold

TRAINING = {
    "target": "outcome",
    "features": {"numeric": NUMERIC, "categorical": CATEGORICAL},
    "sensitive_features": {},
    "use_sensitive_features": False,
    "decision_threshold": 0.5,
    "preprocessing": {"numeric_imputation": "median"},
}
PARAMS = {
    "max_rows": 5000,
    "seed": 7,
    "max_threads": 1,
    "metric": None,
    "importance": {"n_repeats": 5, "top_inputs": 3, "grid_resolution": 10},
    "error_analysis": {
        "max_depth": 3,
        "min_rows": 40,
        "residual_quantile": 0.8,
        "max_categories": 20,
        "confidence": 0.95,
        "max_cohorts": 5,
    },
}
CLASSES = [
    {"value": "low", "means": "is handled this week", "favourable": None},
    {"value": "medium", "means": "is handled tomorrow", "favourable": None},
    {"value": "high", "means": "is handled today", "favourable": True},
]
DATASETS = {
    "binary": {"problem_type": "binary", "target": {"column": "outcome", "positive": 1}},
    "multiclass": {
        "problem_type": "multiclass",
        "target": {"column": "outcome", "classes": CLASSES},
    },
    "regression": {
        "problem_type": "regression",
        "target": {"column": "outcome", "means": "price", "unit": "EUR"},
    },
}
ESTIMATORS = {
    "binary": lambda: LogisticRegression(max_iter=1000),
    "multiclass": lambda: LogisticRegression(max_iter=1000),
    "regression": LinearRegression,
}


def planted_rows(kind: str, n: int = 6000, seed: int = 0) -> pd.DataFrame:
    """The outcome follows signal_a and signal_b (noise, where and kind carry nothing), except
    in the planted cohort (kind == "b" and where > 0.6), where it is pure noise."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    where, kind_of = rng.random(n), rng.choice(["a", "b", "c"], n)
    cohort = (kind_of == "b") & (where > 0.6)
    score = 3 * a - 2 * b
    if kind == "binary":
        outcome = np.where(cohort, rng.random(n) < 0.5, score + rng.normal(0, 0.3, n) > 0)
        outcome = outcome.astype(int)
    elif kind == "multiclass":
        clean = np.digitize(score + rng.normal(0, 0.3, n), [-1.5, 1.5])
        outcome = np.where(cohort, rng.integers(0, 3, n), clean)
    else:
        outcome = 100 + 10 * score + np.where(cohort, rng.normal(0, 40, n), rng.normal(0, 2, n))
    frame = pd.DataFrame(
        {"signal_a": a, "signal_b": b, "noise": rng.normal(size=n), "where": where, "kind": kind_of}
    )
    frame.loc[rng.random(n) < 0.05, "noise"] = np.nan  # missing values are explained too
    frame["outcome"] = outcome if kind == "regression" else pd.array(outcome, dtype="Int64")
    return frame


def explained(kind: str) -> tuple:
    dataset = DATASETS[kind]
    frame = planted_rows(kind)
    train, held_out = frame.iloc[:3000], frame.iloc[3000:].reset_index(drop=True)
    model = build_model(TRAINING, ESTIMATORS[kind]())
    y = train["outcome"].astype(float if kind == "regression" else int)
    model.fit(model_inputs(train, NUMERIC, CATEGORICAL), y)
    plan = check_explanation_config(PARAMS, dataset)
    rows = explanation_rows(held_out, plan)
    importance, importance_record = measure_importance(model, rows, plan, FIXED, TRAINING, dataset)
    plots = plot_explanation(
        trained_model=model,
        rows=rows,
        importance=importance,
        plan=plan,
        decision=FIXED,
        training=TRAINING,
        dataset=dataset,
    )
    cohorts, cohorts_record = analyse_errors(model, rows, plan, FIXED, TRAINING, dataset)
    return importance, importance_record, plots, cohorts, cohorts_record


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_importance_ranks_the_signal_first_and_errors_are_found_in_the_planted_cohort(
    kind: str,
) -> None:
    import matplotlib.pyplot as plt

    importance, importance_record, plots, cohorts, cohorts_record = explained(kind)
    ranked = [i["input"] for i in importance["inputs"]]
    assert set(ranked[:2]) == {"signal_a", "signal_b"}
    assert all(i["ci_low"] > 0 for i in importance["inputs"][:2])
    assert importance_record["metrics"].keys() == {f"importance.{c}" for c in NUMERIC + CATEGORICAL}
    assert set(plots) == {"permutation_importance", "partial_dependence"}
    plt.close("all")

    worst = cohorts["cohorts"][0]
    assert {"kind", "where"} <= set(worst["inputs"]), worst
    assert "`kind` is b" in worst["cohort"] and "`where` >" in worst["cohort"]
    assert worst["above_overall"] and worst["ci_low"] > cohorts["measured_error_rate"]
    assert worst["rows"] >= PARAMS["error_analysis"]["min_rows"]
    assert cohorts_record["metrics"]["errors.worst_cohort_error_rate"] == worst["error_rate"]
    assert cohorts_record["metrics"]["errors.cohorts_above_overall"] >= 1

    card = importance_section(importance) + errors_section(cohorts)
    assert "The model relies most on `signal_" in card
    assert worst["cohort"] in card


def test_what_counts_as_an_error_is_the_problem_types() -> None:
    _, _, _, regression, _ = explained("regression")
    assert regression["error_definition"].startswith("off by more than")
    assert "EUR" in regression["error_definition"]
    assert regression["error_rate"] == pytest.approx(0.2, abs=0.01)  # residual_quantile 0.8
    binary = explained("binary")[3]
    assert binary["error_definition"].startswith("misclassified")


def test_wilson_interval() -> None:
    low, high = wilson_interval(10, 100, 0.95)
    assert low == pytest.approx(0.0552, abs=1e-3) and high == pytest.approx(0.1744, abs=1e-3)
    assert wilson_interval(0, 20, 0.95)[0] == 0.0


def test_a_bad_key_is_refused_before_any_data_is_read() -> None:
    binary = DATASETS["binary"]
    with pytest.raises(ConfigError, match=r"explanation\.repeats in .* is not a key"):
        check_explanation_config({**PARAMS, "repeats": 3}, binary)
    depth = {**PARAMS, "error_analysis": {**PARAMS["error_analysis"], "max_depth": 5}}
    with pytest.raises(ConfigError, match=r"error_analysis\.max_depth .* between 1 and 3"):
        check_explanation_config(depth, binary)
    with pytest.raises(ConfigError, match=r"explanation\.max_threads .* at least 1"):
        check_explanation_config({**PARAMS, "max_threads": 0}, binary)
    with pytest.raises(ConfigError, match=r"explanation\.metric"):
        check_explanation_config({**PARAMS, "metric": "rmse"}, binary)
    assert check_explanation_config(PARAMS, DATASETS["regression"])["metric"] == "rmse"
    check = next(n for n in create_pipeline().nodes if n.name.endswith("check_explanation_config"))
    assert all(name.startswith("params:") for name in check.inputs)
