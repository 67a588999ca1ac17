"""Unit tests of problem/: each problem type's answers, and the refusals of a bad `dataset`."""

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression

from {{ cookiecutter.python_package }}.errors import ConfigError, DataError
from {{ cookiecutter.python_package }}.pipelines.validation.suites import check_target_values
from {{ cookiecutter.python_package }}.problem import (
    PREDICTION,
    Binary,
    Multiclass,
    Regression,
    problem_of,
)

BINARY = {"problem_type": "binary", "target": {"column": "y", "positive": "yes"}}
MULTICLASS = {
    "problem_type": "multiclass",
    "target": {
        "column": "y",
        "classes": [
            {"value": "low", "means": "can wait", "favourable": True},
            {"value": "medium", "means": "this week"},
            {"value": "high", "means": "today", "favourable": False},
        ],
    },
}
REGRESSION = {
    "problem_type": "regression",
    "target": {"column": "y", "means": "price per m2", "unit": "EUR", "higher_is_favourable": None},
}


def test_each_type_is_its_own_object() -> None:
    assert isinstance(problem_of(BINARY), Binary)
    assert isinstance(problem_of(MULTICLASS), Multiclass)
    assert isinstance(problem_of(REGRESSION), Regression)


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        ({**BINARY, "problem_typ": "binary"}, r"dataset\.problem_typ in .* is not a key"),
        ({**BINARY, "problem_type": "regresion"}, r"dataset\.problem_type .* 'regresion'; use"),
        ({"target": BINARY["target"]}, r"dataset\.problem_type .* None"),
        (
            {**REGRESSION, "target": {**REGRESSION["target"], "positive": 1}},
            r"dataset\.target\.positive .* not a key of a regression target",
        ),
        ({**BINARY, "target": {"column": "y"}}, r"dataset\.target\.positive .* missing"),
        (
            {**MULTICLASS, "target": {"column": "y", "classes": ["a", "b"]}},
            r"at least three classes.*problem_type: binary",
        ),
        (
            {**MULTICLASS, "target": {"column": "y", "classes": ["a", "b", "A"]}},
            r"lists 'A' twice",
        ),
    ],
)
def test_a_bad_dataset_section_is_refused_in_one_line(dataset: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        problem_of(dataset)


def test_targets_are_encoded_as_the_type_says_and_unknown_values_are_missing() -> None:
    values = pd.Series(["High", " low", "urgent", None, "medium"])
    codes = problem_of(MULTICLASS).encode_target(values)
    assert codes.isna().tolist() == [False, False, True, True, False]
    assert codes.dropna().tolist() == [2, 0, 1]
    numbers = problem_of(REGRESSION).encode_target(pd.Series(["1.5", "n/a", " 3", "inf", None]))
    assert numbers.isna().tolist() == [False, True, False, True, True]
    assert numbers.dropna().tolist() == [1.5, 3.0]
    binary = problem_of(BINARY).encode_target(pd.Series(["yes", "no", None]))
    assert binary.tolist()[:2] == [1, 0] and binary.isna().tolist()[2]


def test_a_target_no_value_of_which_is_known_is_refused() -> None:
    frame = pd.DataFrame({"y": ["a", "b"]})
    with pytest.raises(ConfigError, match=r"none of its values matches"):
        problem_of(REGRESSION).encode_target_column(frame)
    with pytest.raises(ConfigError, match=r"one of the classes \['low', 'medium', 'high'\]"):
        problem_of(MULTICLASS).encode_target_column(frame)


def test_a_class_too_rare_for_the_folds_is_refused_with_its_count() -> None:
    y = np.array([0] * 20 + [1] * 20 + [2] * 3)
    with pytest.raises(DataError, match=r"Class 'high': 3 row\(s\) of target 'y'.*5 folds"):
        problem_of(MULTICLASS).check_folds(y, 5, "benchmarking.cv.n_splits")
    problem_of(MULTICLASS).check_folds(y, 3, "benchmarking.cv.n_splits")


def test_regression_metrics_directions_and_mape_only_without_zeros() -> None:
    problem = problem_of(REGRESSION)
    y, prediction = np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 3.0])
    scores = problem.score(list(problem.DEFAULT_METRICS), y, prediction)
    assert scores["rmse"] == pytest.approx(np.sqrt(2 / 3))
    assert scores["mae"] == pytest.approx(2 / 3)
    assert scores["mape"] == pytest.approx((0.5 + 0.25) / 3)
    assert "mape" not in problem.score(["rmse", "mape"], np.array([0.0, 1.0, 2.0]), prediction)
    assert not problem.greater_is_better("rmse") and problem.greater_is_better("r2")


def test_multiclass_metrics_per_class_and_prediction_columns() -> None:
    problem = problem_of(MULTICLASS)
    y = np.array([0, 1, 2, 2])
    prediction = np.array([[0.8, 0.1, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    scores = problem.score(list(problem.DEFAULT_METRICS), y, prediction)
    assert scores["accuracy"] == pytest.approx(0.75)
    assert scores["balanced_accuracy"] == pytest.approx((1 + 1 + 0.5) / 3)
    detail = problem.detail_metrics(y, prediction)
    assert detail["recall.high"] == pytest.approx(0.5) and detail["precision.low"] == 0.5
    columns = problem.prediction_columns(prediction)
    assert list(columns[PREDICTION]) == ["low", "medium", "high", "low"]
    assert list(columns) == [
        PREDICTION,
        "probability_low",
        "probability_medium",
        "probability_high",
    ]
    frame = pd.DataFrame(columns)
    assert problem.decision_of_columns(frame).tolist() == [0, 1, 2, 0]
    np.testing.assert_array_equal(problem.prediction_of_columns(frame), prediction)


def test_predictions_have_the_types_shape_and_plots() -> None:
    X = pd.DataFrame({"x": np.linspace(0, 1, 60)})
    y_class = np.array([0, 1, 2] * 20)
    multiclass = problem_of(MULTICLASS)
    model = LogisticRegression().fit(X, y_class)
    prediction = multiclass.predict(model, X)
    assert prediction.shape == (60, 3) and np.allclose(prediction.sum(axis=1), 1)
    # a model that never saw a class still gives every configured class a column
    partial = DummyClassifier().fit(X, np.array([0, 2] * 30))
    assert multiclass.predict(partial, X)[:, 1].tolist() == [0.0] * 60
    assert set(multiclass.plots(y_class, prediction)) == {
        "confusion_matrix",
        "precision_recall_per_class",
    }
    regression = problem_of(REGRESSION)
    y = X["x"].to_numpy() * 3
    numbers = regression.predict(LinearRegression().fit(X, y), X)
    assert numbers.shape == (60,)
    assert set(regression.plots(y, numbers)) == {
        "predicted_vs_actual",
        "residuals_vs_predicted",
        "residual_distribution",
    }
    assert regression.predict(DummyRegressor().fit(X, y), X)[0] == pytest.approx(y.mean())


def test_estimators_must_suit_the_type() -> None:
    with pytest.raises(ConfigError, match=r"no predict_proba\(\): a multiclass problem"):
        problem_of(MULTICLASS).check_estimator_class(LinearRegression, "training.candidate.class")
    problem_of(REGRESSION).check_estimator_class(LinearRegression, "training.candidate.class")


def test_a_class_the_suite_never_allows_is_refused() -> None:
    suite = {
        "expectations": [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "y", "value_set": ["low", "medium"]},
            }
        ]
    }
    with pytest.raises(ConfigError, match=r"dataset\.target\.classes\[2\]\.value .*'high'"):
        check_target_values(suite, problem_of(MULTICLASS))
    check_target_values(suite, problem_of(REGRESSION))  # a number names no value


def test_card_words_name_the_types_outcome() -> None:
    assert "`high` = today (adverse)" in problem_of(MULTICLASS).card_words()["prediction"]
    words = problem_of(REGRESSION).card_words()["prediction"]
    assert "price per m2 in EUR" in words and "neither" in words
