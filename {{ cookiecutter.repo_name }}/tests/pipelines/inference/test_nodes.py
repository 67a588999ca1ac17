"""Unit tests of the inference nodes: configuration, choice of model, predictions' metadata."""

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from {{ cookiecutter.python_package }}.errors import ConfigError, DataError
from {{ cookiecutter.python_package }}.modelling import load_logged_model
from {{ cookiecutter.python_package }}.pipelines.inference import create_pipeline, nodes
from {{ cookiecutter.python_package }}.pipelines.ingestion import create_pipeline as ingestion_pipeline
from {{ cookiecutter.python_package }}.pipelines.validation import create_pipeline as validation_pipeline
from {{ cookiecutter.python_package }}.project_config import configured_sources

TRAINING = {
    "target": "outcome",
    "features": {"numeric": ["income", "age"], "categorical": [], "drop": []},
    "sensitive_features": ["age"],
    "decision_threshold": 0.5,
    "use_sensitive_features": False,
    "preprocessing": {"numeric_imputation": "median"},
}
SETTINGS = {
    "experiment": "inference-test",
    "model": {
        "source": "alias",
        "registered_model_name": "inference-test-model",
        "alias": ["champion", "challenger"],
        "version": None,
        "uri": None,
        "fallback_to_latest_run": True,
    },
    "keep_columns": ["person_id"],
}
DATASET = {"problem_type": "binary", "target": {"column": "outcome", "positive": 1}}


def _frame(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    income = rng.normal(50, 10, n)
    return pd.DataFrame(
        {
            "person_id": [f"A{i}" for i in range(n)],
            "income": income,
            "age": rng.integers(18, 80, n),
            "outcome": (income < 50).astype(int),
        }
    )


@pytest.mark.parametrize(
    "model, message",
    [
        ({"source": "newest"}, "source"),
        ({"source": "version", "registered_model_name": "m"}, "version"),
        ({"source": "uri"}, "uri"),
        ({"source": "alias", "registered_model_name": ""}, "registered_model_name"),
    ],
)
def test_bad_model_configuration_is_refused(model, message):
    with pytest.raises(ConfigError, match=message):
        nodes.check_inference_config({**SETTINGS, "model": {**SETTINGS["model"], **model}})


def test_predictions_carry_the_model_and_the_scoring_time(monkeypatch):
    frame = _frame()
    model = LogisticRegression().fit(frame[["income"]], frame["outcome"])
    monkeypatch.setattr(nodes, "load_logged_model", lambda uri: model)
    info = {
        "model_uri": "models:/m-1",
        "model_source": "latest_run (no alias 'champion' or alias 'challenger' on x)",
        "model_version": "",
        "model_run_id": "run1",
    }
    training = {**TRAINING, "features": {"numeric": ["income"], "categorical": []}}
    predictions, record = nodes.score_batch(frame, info, training, DATASET, SETTINGS)
    assert len(predictions) == len(frame)
    assert list(predictions["person_id"]) == list(frame["person_id"])
    assert predictions["probability"].between(0, 1).all()
    assert set(predictions["prediction"]) <= {0, 1}
    assert (predictions["model_source"] == info["model_source"]).all()
    assert (predictions["model_run_id"] == "run1").all()
    assert predictions["scored_at"].str.match(r"\d{4}-\d{2}-\d{2}T").all()
    assert record["metrics"]["rows_scored"] == len(frame)
    assert record["metrics"]["predicted_positive_rate"] == predictions["prediction"].mean()
    assert record["metrics"]["mean_probability"] == pytest.approx(predictions["probability"].mean())
    assert record["tags"]["inference.model_uri"] == "models:/m-1"


INFO = {"model_uri": "models:/m-2", "model_source": "uri", "model_version": "", "model_run_id": ""}
CLASSES = [{"value": "low"}, {"value": "medium"}, {"value": "high"}]


def test_a_multiclass_batch_gets_the_class_and_each_class_probability(monkeypatch):
    frame = _frame(90)
    codes = np.digitize(frame["income"], np.quantile(frame["income"], [1 / 3, 2 / 3]))
    model = LogisticRegression().fit(frame[["income"]], codes)
    monkeypatch.setattr(nodes, "load_logged_model", lambda uri: model)
    dataset = {"problem_type": "multiclass", "target": {"column": "outcome", "classes": CLASSES}}
    training = {**TRAINING, "features": {"numeric": ["income"], "categorical": []}}
    predictions, record = nodes.score_batch(frame, INFO, training, dataset, SETTINGS)
    probabilities = ["probability_low", "probability_medium", "probability_high"]
    assert list(predictions.columns[:5]) == ["person_id", "prediction", *probabilities]
    assert np.allclose(predictions[probabilities].sum(axis=1), 1.0)
    best = predictions[probabilities].to_numpy().argmax(axis=1)
    assert predictions["prediction"].tolist() == [("low", "medium", "high")[i] for i in best]
    assert "probability" not in predictions and "decision_threshold" not in predictions
    shares = [record["metrics"][f"predicted_share.{c}"] for c in ("low", "medium", "high")]
    assert sum(shares) == pytest.approx(1.0) and min(shares) > 0
    assert shares[0] == (predictions["prediction"] == "low").mean()


def test_a_regression_batch_gets_the_predicted_number(monkeypatch):
    from sklearn.linear_model import LinearRegression

    frame = _frame()
    model = LinearRegression().fit(frame[["income"]], 3 * frame["income"])
    monkeypatch.setattr(nodes, "load_logged_model", lambda uri: model)
    dataset = {"problem_type": "regression", "target": {"column": "outcome"}}
    training = {**TRAINING, "features": {"numeric": ["income"], "categorical": []}}
    predictions, record = nodes.score_batch(frame, INFO, training, dataset, SETTINGS)
    assert list(predictions.columns[:2]) == ["person_id", "prediction"]
    assert "probability" not in predictions and predictions["prediction"].dtype == "float64"
    assert np.allclose(predictions["prediction"], 3 * frame["income"])
    assert record["metrics"] == {
        "rows_scored": len(frame),
        "mean_prediction": pytest.approx(3 * frame["income"].mean()),
    }


@pytest.fixture
def tracking(mlflow_store):
    mlflow.set_experiment(SETTINGS["experiment"])
    return mlflow


def _log_model(tracking) -> tuple[str, str]:
    frame = _frame()
    model = LogisticRegression().fit(frame[["income", "age"]], frame["outcome"])
    with tracking.start_run() as run:  # a complete run: the fallback takes no other
        tracking.set_tags({f"gate.{g}": "pass" for g in ("validation", "benchmark", "fairness")})
        info = tracking.sklearn.log_model(model, name="model")
    return run.info.run_id, info.model_uri


def test_without_the_alias_the_latest_runs_model_is_used_and_said(tracking, caplog):
    run_id, uri = _log_model(tracking)
    info = nodes.resolve_model(nodes.check_inference_config(SETTINGS))
    assert info["model_uri"] == uri and info["model_run_id"] == run_id
    assert info["model_source"].startswith("latest_run")
    assert "LATEST RUN" in caplog.text


def test_the_alias_wins_when_set(tracking):
    run_id, uri = _log_model(tracking)
    name = SETTINGS["model"]["registered_model_name"]
    version = tracking.register_model(uri, name)
    tracking.MlflowClient().set_registered_model_alias(name, "challenger", version.version)
    _log_model(tracking)  # a newer, unpromoted model must not be picked
    info = nodes.resolve_model(nodes.check_inference_config(SETTINGS))
    assert info["model_uri"] == f"models:/{name}/{version.version}"
    assert info["model_source"] == f"alias {name}@challenger"
    assert info["model_run_id"] == run_id
    assert load_logged_model(info["model_uri"]).predict_proba(_frame()[["income", "age"]]).shape


def test_the_champion_comes_before_the_challenger(tracking, caplog):
    name = SETTINGS["model"]["registered_model_name"]
    champion_run, champion_uri = _log_model(tracking)
    champion = tracking.register_model(champion_uri, name)
    challenger = tracking.register_model(_log_model(tracking)[1], name)
    client = tracking.MlflowClient()
    client.set_registered_model_alias(name, "challenger", challenger.version)
    client.set_registered_model_alias(name, "champion", champion.version)
    with caplog.at_level("INFO"):
        info = nodes.resolve_model(nodes.check_inference_config(SETTINGS))
    assert info["model_uri"] == f"models:/{name}/{champion.version}"
    assert info["model_source"] == f"alias {name}@champion"
    assert info["model_run_id"] == champion_run
    assert "@champion" in caplog.text


def test_no_fallback_and_no_alias_is_a_clear_error(tracking):
    _log_model(tracking)
    settings = {**SETTINGS, "model": {**SETTINGS["model"], "fallback_to_latest_run": False}}
    with pytest.raises(DataError, match="alias 'champion' or alias 'challenger'"):
        nodes.resolve_model(nodes.check_inference_config(settings))


def test_no_model_at_all_is_a_clear_error(tracking):
    with pytest.raises(DataError, match="kedro run"):
        nodes.resolve_model(nodes.check_inference_config(SETTINGS))


def test_pipeline_wiring():
    sources = configured_sources()
    pipeline = create_pipeline(sources)
    assert {f"scoring_raw_{source}" for source in sources.all} <= pipeline.inputs()
    assert {"batch_predictions", "scoring_quarantined_rows"} <= pipeline.all_outputs()


def test_the_batch_goes_through_the_ingestion_and_validation_nodes_themselves():
    """Scoring reuses the training data's pipelines under a namespace: same functions, same
    order, so parsing and suites cannot drift apart."""
    sources = configured_sources()
    intake = ingestion_pipeline(sources) + validation_pipeline(sources)
    scoring = [
        n for n in create_pipeline(sources).nodes if (n.namespace or "").startswith("scoring.")
    ]
    assert [n.name for n in scoring] == [f"scoring.{n.name}" for n in intake.nodes]
    for reused, original in zip(scoring, intake.nodes, strict=True):
        assert getattr(reused.func, "func", reused.func) is getattr(
            original.func, "func", original.func
        )
