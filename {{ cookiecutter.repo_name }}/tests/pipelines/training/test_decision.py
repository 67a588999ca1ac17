"""Unit tests of the decision threshold (training.decision) and what it is worth."""

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.python_package }} import decision
from {{ cookiecutter.python_package }}.errors import ConfigError
from {{ cookiecutter.python_package }}.pipelines.benchmarking.nodes import build_benchmark_models
from {{ cookiecutter.python_package }}.pipelines.training import create_pipeline, nodes
from {{ cookiecutter.python_package }}.problem import problem_of

VALUES = {
    "true_positive": -100,
    "false_positive": -200,
    "true_negative": 0,
    "false_negative": -1000,
}
DECISION = {
    "choose": "value",
    "values": VALUES,
    "unit": "EUR",
    "capacity": None,
    "folds": 3,
    "max_rows": 1500,
    "seed": 5,
    "calibration": None,
    "bootstrap_repeats": 200,
    "confidence": 0.95,
    "max_threads": 1,
}
PARAMS = {
    "target": "renewed",
    "id_column": "member_id",
    "split": {"test_size": 0.25, "seed": 3, "stratify": True},
    "features": {"numeric": ["income", "late_payments"], "categorical": ["region_code"]},
    "sensitive_features": {},
    "use_sensitive_features": False,
    "candidate": {
        "class": "sklearn.ensemble.HistGradientBoostingClassifier",
        "kwargs": {"max_iter": 30, "max_depth": 2},
    },
    "decision_threshold": 0.5,
    "decision": DECISION,
    "metrics": None,
    "max_threads": 1,
    "input_example_rows": 3,
    "preprocessing": {"numeric_imputation": "median"},
    "modelling_sample": {"max_rows": 500000, "seed": 0},
}
DATASET = {"problem_type": "binary", "target": {"column": "renewed", "positive": 1}}
BENCHMARKING = {
    "candidate_name": "candidate",
    "baselines": None,
    "cv": {"n_splits": 2, "n_repeats": 1, "seed": 0},
    "max_rows": 50000,
    "max_threads": 1,
    "metrics": None,
    "primary_metric": None,
    "min_improvement": 0.01,
    "alpha": 0.05,
    "on_fail": "flag",
    "report_folder": "data/08_reporting/benchmark",
}


def rows(n: int, seed: int = 0) -> pd.DataFrame:
    """Like the sample: about a fifth positive, a signal in two inputs."""
    rng = np.random.default_rng(seed)
    late = rng.poisson(1.0, n)
    income = rng.lognormal(10.5, 0.4, n)
    risk = 0.9 * late - 0.00003 * income + rng.normal(0, 1, n)
    return pd.DataFrame(
        {
            "source_row": np.arange(n),
            "member_id": [f"A{i:05d}" for i in range(n)],
            "region_code": rng.choice(["R1", "R2", "R3"], n),
            "income": income,
            "late_payments": pd.array(late, dtype="Int64"),
            "renewed": pd.array((risk > np.quantile(risk, 0.78)).astype(int), dtype="Int64"),
        }
    )


def with_decision(**changes: object) -> dict:
    return {**PARAMS, "decision": {**DECISION, **changes}}


def test_the_value_rule_chooses_a_threshold_other_than_one_half_on_training_rows_only() -> None:
    training_set = rows(2000)
    candidate = nodes.build_candidate_model(PARAMS, DATASET)
    chosen, record = decision.choose_decision(candidate, training_set, PARAMS, DATASET)
    # a missed positive costs five times a false flag: flag well below probability 0.5
    assert 0.05 < chosen["threshold"] < 0.4
    assert record["metrics"]["threshold"] == chosen["threshold"]
    assert record["tags"]["decision.threshold"] == str(chosen["threshold"])
    assert chosen["rows"] == 1500 and chosen["training_rows"] == 2000  # max_rows of them
    # the held-out rows are no input of the choice
    node = next(n for n in create_pipeline().nodes if n.name.endswith("choose_decision"))
    assert "held_out_set" not in node.inputs and "training_set" in node.inputs
    again, _ = decision.choose_decision(candidate, training_set, PARAMS, DATASET)
    assert again == chosen  # seeded


def test_the_value_rule_finds_the_best_threshold_of_calibrated_probabilities() -> None:
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 1, 40000)
    y = (rng.uniform(0, 1, len(p)) < p).astype(int)
    choice = problem_of(DATASET).choose_threshold(y, p, {"choose": "value", "values": VALUES})
    # flag when p * -100 + (1 - p) * -200 > p * -1000: p > 200 / 1100
    assert choice["threshold"] == pytest.approx(200 / 1100, abs=0.03)


@pytest.mark.parametrize("capacity", [0.05, 0.1, 0.3])
def test_the_capacity_rule_flags_that_share(capacity: float) -> None:
    p = np.random.default_rng(2).uniform(0, 1, 5001)
    y = (p > 0.7).astype(int)
    choice = problem_of(DATASET).choose_threshold(
        y, p, {"choose": "capacity", "capacity": capacity, "values": None}
    )
    assert capacity - 1 / len(p) <= choice["flagged_share"] <= capacity
    chosen, _ = decision.choose_decision(
        nodes.build_candidate_model(PARAMS, DATASET),
        rows(1200),
        with_decision(choose="capacity", capacity=capacity),
        DATASET,
    )
    # tied probabilities at the boundary: fewer flagged rather than more
    assert capacity - 0.05 < chosen["cross_validated"]["flagged_share"] <= capacity


def test_without_a_decision_section_the_fixed_threshold_is_used() -> None:
    legacy = {k: v for k, v in PARAMS.items() if k != "decision"}
    candidate = nodes.build_candidate_model(legacy, DATASET)
    chosen, record = decision.choose_decision(candidate, rows(300), legacy, DATASET)
    assert chosen["threshold"] == 0.5 and chosen["choose"] == "fixed"
    assert record["metrics"] == {"threshold": 0.5}


def test_other_problem_types_keep_their_prediction_as_the_decision() -> None:
    regression = {"problem_type": "regression", "target": {"column": "renewed"}}
    chosen, record = decision.choose_decision(None, rows(50), PARAMS, regression)
    assert chosen["applies"] is False and record["metrics"] == {}
    assert decision.worth_section(chosen, {"applies": False}).startswith("Not applicable")


def test_calibration_wraps_the_estimator() -> None:
    model = nodes.build_candidate_model(with_decision(calibration="sigmoid"), DATASET)
    assert type(model.steps[-1][1]).__name__ == "CalibratedClassifierCV"


BAD = {
    "choose": ({"choose": "best"}, "training.decision.choose"),
    "values missing": ({"values": None}, "training.decision.values"),
    "value not a number": (
        {"values": {**VALUES, "false_negative": "a lot"}},
        "training.decision.values.false_negative",
    ),
    "outcome unknown": ({"values": {**VALUES, "maybe": 1}}, "training.decision.values.maybe"),
    "capacity": ({"choose": "capacity", "capacity": 1.5}, "training.decision.capacity"),
    "capacity missing": ({"choose": "capacity", "capacity": None}, "training.decision.capacity"),
    "folds": ({"folds": 1}, "training.decision.folds"),
    "calibration": ({"calibration": "platt"}, "training.decision.calibration"),
    "key unknown": ({"threshold": 0.3}, "training.decision.threshold"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_decision_configuration_is_refused_in_one_line(name: str) -> None:
    changes, key = BAD[name]
    with pytest.raises(ConfigError) as refused:
        nodes.build_candidate_model(with_decision(**changes), DATASET)
    message = str(refused.value)
    assert key in message and "conf/base/parameters_training.yml" in message
    assert "\n" not in message


def assessed(count: int, training_rows: int, seed: int, params: dict) -> tuple:
    """The decision chosen on the first ``training_rows`` of ``count`` rows and assessed on the
    others: the decision, then ``assess_decision``'s report, record, calibration and figures."""
    frame = rows(count, seed=seed)
    training_set = frame.iloc[:training_rows]
    held_out = frame.iloc[training_rows:].reset_index(drop=True)
    candidate = nodes.build_candidate_model(params, DATASET)
    chosen, _ = decision.choose_decision(candidate, training_set, params, DATASET)
    model = nodes.train_model(training_set, candidate, params, DATASET)
    models, plan = build_benchmark_models(params, BENCHMARKING, DATASET)
    return (
        chosen,
        *decision.assess_decision(model, models, training_set, held_out, chosen, params, plan),
        held_out,
    )


def test_the_held_out_value_has_an_interval_and_is_set_against_the_baselines() -> None:
    chosen, report, record, calibration, figures, held_out = assessed(2400, 1800, 3, PARAMS)
    value = record["metrics"]["value_per_case"]
    assert record["metrics"]["value_per_case.lower"] <= value
    assert value <= record["metrics"]["value_per_case.upper"]
    y = held_out["renewed"].to_numpy(dtype=int)
    assert report["act_on_all"] == pytest.approx(y.mean() * -100 + (1 - y.mean()) * -200)
    assert report["act_on_none"] == pytest.approx(y.mean() * -1000)
    assert value > max(report["act_on_all"], report["act_on_none"])  # the model is worth it
    assert set(report["baselines"]) == {"dummy_prior", "logistic_regression"}
    assert 0 < calibration["metrics"]["brier"] < 0.25
    assert set(figures) == {"value_by_threshold", "reliability_curve"}
    section = decision.worth_section(chosen, report)
    assert f"**{chosen['threshold']:.3f}**" in section and "`logistic_regression`" in section
    assert "3-fold out-of-fold probabilities on 1500 of the 1800 training rows" in section


def test_a_capacity_rule_without_values_reports_the_share_flagged() -> None:
    params = with_decision(choose="capacity", capacity=0.1, values=None)
    chosen, report, record, _, figures, _ = assessed(1600, 1200, 4, params)
    assert "value_per_case" not in record["metrics"]
    assert 0.03 < record["metrics"]["flagged_share"] < 0.2
    assert set(figures) == {"value_by_threshold", "reliability_curve"}
    section = decision.worth_section(chosen, report)
    assert "flags the share of the cases the team can act on (10.0%" in section
    assert "value per case" not in section
