"""Unit tests of the training nodes on a small generated frame."""

import numpy as np
import pandas as pd
import pytest
from kedro.pipeline import Pipeline

from {{ cookiecutter.python_package }}.audit import frame_digest
from {{ cookiecutter.python_package }}.errors import ConfigError, DataError
from {{ cookiecutter.python_package }}.pipelines.training import create_pipeline, nodes

PARAMS = {
    "target": "renewed",
    "id_column": "member_id",
    "split": {"test_size": 0.25, "seed": 3, "stratify": True},
    "features": {
        "numeric": ["income", "late_payments"],
        "categorical": ["region_code", "housing"],
        "drop": ["source_row"],
    },
    "sensitive_features": {"sex": {}, "age": {"bins": [18, 40, 80]}},
    "use_sensitive_features": False,
    "candidate": {
        "class": "sklearn.ensemble.HistGradientBoostingClassifier",
        "kwargs": {"max_iter": 20},
    },
    "decision_threshold": 0.5,
    "metrics": ["roc_auc", "average_precision", "accuracy", "log_loss", "brier"],
    "max_threads": 1,
    "input_example_rows": 3,
    "preprocessing": {"numeric_imputation": "median"},
    "modelling_sample": {"max_rows": 500000, "seed": 0},
}
DATASET = {"problem_type": "binary", "target": {"column": "renewed", "positive": 1}}


@pytest.fixture
def members() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    late = rng.poisson(1.0, n)
    income = rng.lognormal(10.5, 0.4, n)
    income[::37] = np.nan  # features may be missing: the model imputes them
    risk = 0.9 * late - 0.00002 * np.nan_to_num(income, nan=40000) + rng.normal(0, 1, n)
    return pd.DataFrame(
        {
            "source_row": np.arange(n),
            "member_id": [f"A{i:04d}" for i in range(n)],
            "age": pd.array(rng.integers(18, 80, n), dtype="Int64"),
            "sex": rng.choice(["F", "M"], n),
            "region_code": rng.choice(["R1", "R2", "R3"], n),
            "housing": rng.choice(["own", "rent"], n),
            "income": income,
            "late_payments": pd.array(late, dtype="Int64"),
            "renewed": pd.array((risk > np.quantile(risk, 0.7)).astype(int), dtype="Int64"),
        }
    )


def with_candidate(**candidate: object) -> dict:
    return {**PARAMS, "candidate": {**PARAMS["candidate"], **candidate}}


def test_bad_import_path_is_refused_naming_the_key() -> None:
    for path in ("sklearn.ensemble.GradientBoostedTrees", "no_such_package.Model", "Model"):
        with pytest.raises(ConfigError, match=r"training\.candidate\.class"):
            nodes.build_candidate_model(with_candidate(**{"class": path}), DATASET)


def test_bad_keyword_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"training\.candidate\.kwargs\.max_iterations"):
        nodes.build_candidate_model(with_candidate(kwargs={"max_iterations": 10}), DATASET)
    with pytest.raises(ConfigError, match=r"training\.candidate\.kwargs"):
        nodes.build_candidate_model(
            with_candidate(kwargs={"max_iter": -1}), DATASET
        )  # a refused value


def test_configuration_is_checked_before_any_data_or_fitting() -> None:
    """The checks run in a node that reads only parameters, and fitting waits for it."""
    pipeline = create_pipeline()
    check = next(n for n in pipeline.nodes if n.name == "training.build_candidate_model")
    assert check.inputs == ["params:training", "params:dataset"]
    train = next(n for n in pipeline.nodes if n.name == "training.train_model")
    upstream = Pipeline(pipeline.nodes).to_nodes(train.name).nodes
    assert check in upstream


def test_random_state_comes_from_the_seed() -> None:
    model = nodes.build_candidate_model(PARAMS, DATASET)
    assert model.named_steps["model"].random_state == PARAMS["split"]["seed"]


def test_split_is_stratified_reproducible_and_keeps_every_column(
    members: pd.DataFrame,
) -> None:
    training_set, held_out, ids = nodes.split_data(members, PARAMS, DATASET)
    again = nodes.split_data(members, PARAMS, DATASET)
    assert len(held_out) == 100 and len(training_set) == 300
    assert list(held_out.columns) == list(members.columns)
    assert held_out["member_id"].tolist() == again[1]["member_id"].tolist()
    assert ids["member_id"].tolist() == held_out["member_id"].tolist()
    assert list(ids.columns) == ["member_id", "source_row"]
    assert not set(ids["member_id"]) & set(training_set["member_id"])
    assert held_out["renewed"].mean() == pytest.approx(members["renewed"].mean(), 0.05)


def test_sensitive_attributes_are_not_inputs_unless_asked(members: pd.DataFrame) -> None:
    training_set, _, _ = nodes.split_data(members, PARAMS, DATASET)
    model = nodes.train_model(
        training_set, nodes.build_candidate_model(PARAMS, DATASET), PARAMS, DATASET
    )
    assert set(model.feature_names_in_) == {"income", "late_payments", "region_code", "housing"}
    features = {**PARAMS["features"], "numeric": [*PARAMS["features"]["numeric"], "age"]}
    with pytest.raises(ConfigError, match=r"sensitive attribute\(s\) \['age'\] as model inputs"):
        nodes.build_candidate_model({**PARAMS, "features": features}, DATASET)
    params = {**PARAMS, "features": features, "use_sensitive_features": True}
    model = nodes.train_model(
        training_set, nodes.build_candidate_model(params, DATASET), params, DATASET
    )
    assert "age" in set(model.feature_names_in_)


@pytest.mark.parametrize("threshold", [0, 1, 1.5, -0.1, None])
def test_decision_threshold_outside_zero_one_is_refused(threshold: object) -> None:
    with pytest.raises(
        ConfigError, match=r"training.decision_threshold .* strictly between 0 and 1"
    ):
        nodes.build_candidate_model({**PARAMS, "decision_threshold": threshold}, DATASET)


def test_split_without_an_id_column_keeps_the_row_position(members: pd.DataFrame) -> None:
    params = {**PARAMS, "id_column": None}
    _, held_out, held_out_ids = nodes.split_data(members.drop(columns="member_id"), params, DATASET)
    assert list(held_out_ids.columns) == ["source_row"]
    assert held_out_ids["source_row"].tolist() == held_out["source_row"].tolist()


def test_missing_feature_column_is_named(members: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"'income'.*training\.features"):
        nodes.split_data(members.drop(columns="income"), PARAMS, DATASET)


def test_missing_target_is_refused(members: pd.DataFrame) -> None:
    members.loc[3, "renewed"] = pd.NA
    with pytest.raises(DataError, match="without a target"):
        nodes.split_data(members, PARAMS, DATASET)


def test_model_is_evaluated_on_held_out_rows_and_predicts_raw_rows(
    members: pd.DataFrame,
) -> None:
    training_set, held_out, _ = nodes.split_data(members, PARAMS, DATASET)
    model = nodes.train_model(
        training_set, nodes.build_candidate_model(PARAMS, DATASET), PARAMS, DATASET
    )
    test, train = nodes.evaluate_model(
        model, training_set, held_out, {"threshold": 0.5}, PARAMS, DATASET
    )
    assert set(PARAMS["metrics"]) <= set(test["metrics"])
    assert test["metrics"]["rows"] == 100 and train["metrics"]["rows"] == 300
    assert 0.5 < test["metrics"]["roc_auc"] <= 1
    # the fitted pipeline takes the raw columns (extra columns, nullable integers, missing values)
    held_out.loc[0, "housing"] = "boat"  # a category unseen in training is ignored
    assert model.predict_proba(held_out).shape == (100, 2)
    figures = nodes.plot_model_performance(model, held_out, {"threshold": 0.5}, PARAMS, DATASET)
    assert len(figures) == 4
    logged = nodes.prepare_model_for_mlflow(model, held_out, PARAMS, DATASET)
    assert logged["input_example"].shape == (3, 4)


def test_modelling_sample_is_every_row_or_a_seeded_stratified_sample(members) -> None:
    table, record = nodes.sample_for_modelling(members, PARAMS, DATASET)
    assert table is members
    assert record["metrics"] == {"modelling_rows": 400, "validated_rows": 400}
    assert record["tags"]["training.modelling_sample"] == "all validated rows"
    small = {**PARAMS, "modelling_sample": {"max_rows": 100, "seed": 0}}
    sample, record = nodes.sample_for_modelling(members, small, DATASET)
    again, _ = nodes.sample_for_modelling(members, small, DATASET)
    assert len(sample) == 100
    assert record["metrics"] == {"modelling_rows": 100, "validated_rows": 400}
    assert record["tags"]["training.modelling_sample_sha256"] == frame_digest(sample)
    assert sample["source_row"].is_monotonic_increasing
    assert sample["source_row"].tolist() == again["source_row"].tolist()
    share = members["renewed"].mean()
    assert abs(sample["renewed"].mean() - share) <= 0.01  # the classes keep their shares


def test_modelling_sample_size_must_be_a_number_of_rows(members) -> None:
    bad = {**PARAMS, "modelling_sample": {"max_rows": "all", "seed": 0}}
    with pytest.raises(ConfigError, match=r"training\.modelling_sample\.max_rows"):
        nodes.sample_for_modelling(members, bad, DATASET)
