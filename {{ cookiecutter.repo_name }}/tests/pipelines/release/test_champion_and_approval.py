"""Challenger against champion (paired bootstrap, gate.champion) and moving the champion alias."""

import mlflow
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mean_absolute_error, roc_auc_score

from {{ cookiecutter.python_package }} import approval
from {{ cookiecutter.python_package }}.pipelines.release.champion import (
    champion_section,
    champion_verdict,
    compare_with_champion,
    paired_bootstrap,
)
from {{ cookiecutter.python_package }}.pipelines.release.plan import check_release_config

from ..fairness_review.test_nodes import DATASET, TRAINING_INPUTS, fitted_model, labelled_rows
from .test_model_card_and_promotion import CHECKLIST, PROMOTION

ANSWERED = {"items": {k: v for k, v in CHECKLIST["items"].items() if k != "harm"}}


def test_paired_bootstrap_is_seeded_and_paired() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=300)
    good, bad = y + rng.normal(0, 0.1, 300), y + rng.normal(0, 1.0, 300)
    first = paired_bootstrap(y, good, bad, mean_absolute_error, repeats=200, seed=3)
    assert np.array_equal(
        first, paired_bootstrap(y, good, bad, mean_absolute_error, repeats=200, seed=3)
    )
    assert not np.array_equal(
        first, paired_bootstrap(y, good, bad, mean_absolute_error, repeats=200, seed=4)
    )
    assert (first < 0).all()  # the better model has the lower error on every resample
    # paired: the same model against itself differs by exactly 0 on every resample
    assert (paired_bootstrap(y, good, good, mean_absolute_error, repeats=50, seed=3) == 0).all()
    rows = np.random.default_rng(3).integers(0, 300, 300)  # the first resample, by hand
    expected = mean_absolute_error(y[rows], good[rows]) - mean_absolute_error(y[rows], bad[rows])
    assert first[0] == pytest.approx(expected)


def test_paired_bootstrap_skips_resamples_where_the_metric_is_undefined() -> None:
    y = np.array([0, 0, 0, 1])
    differences = paired_bootstrap(y, y * 0.9, y * 0.5, roc_auc_score, repeats=200, seed=1)
    assert np.isnan(differences).any() and not np.isnan(differences).all()
    with pytest.raises(ValueError, match="same rows"):
        paired_bootstrap(y, y[:3], y, roc_auc_score, repeats=10, seed=1)


def test_the_verdict_reads_the_metrics_direction_and_the_margin() -> None:
    worse_by_a_little = np.full(100, -0.005)  # challenger - champion of a greater-is-better metric
    assert champion_verdict(worse_by_a_little, True, 0.01, 0.95)[0] == "pass"
    assert champion_verdict(worse_by_a_little, True, 0.001, 0.95)[0] == "fail"
    # for an error metric a positive difference means the challenger is worse
    assert champion_verdict(-worse_by_a_little, False, 0.001, 0.95)[0] == "fail"
    assert champion_verdict(worse_by_a_little, False, 0.001, 0.95) == ("pass", 0.005)
    assert champion_verdict(np.full(5, np.nan), True, 0.01, 0.95)[0] == "fail"


@pytest.fixture
def tracking(mlflow_store):
    mlflow.set_experiment("champion-test")
    return mlflow.MlflowClient()


def _registered(client, model, gates: dict[str, str], holds: str = "none") -> str:
    """A run that logged ``model`` with these gates, registered as a new version."""
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(model, name="model", skops_trusted_types=["numpy.dtype"])
        mlflow.set_tags({f"gate.{k}": v for k, v in gates.items()})
        mlflow.set_tags({"promotion.required_gates": "validation", "promotion.ethics_holds": holds})
    version = mlflow.register_model(info.model_uri, "scores")
    assert version.run_id == run.info.run_id
    return str(version.version)


def test_the_champion_gate_compares_with_the_approved_model(tracking) -> None:
    frame = labelled_rows(2000, bias=0.0)
    train, held_out = frame.iloc[:1000], frame.iloc[1000:].reset_index(drop=True)
    model = fitted_model(train)
    plan = check_release_config(PROMOTION, ANSWERED)
    record, comparison, verdict = compare_with_champion(
        model, held_out, {"threshold": 0.5}, TRAINING_INPUTS, DATASET, plan
    )
    assert verdict == "pass" and record["tags"]["gate.champion"] == "pass"
    assert record["tags"]["champion.note"].startswith("no champion")
    assert record["metrics"] == {}
    assert champion_section(comparison).startswith("Verdict **pass**: no champion")

    version = _registered(tracking, model, {"validation": "pass"})
    tracking.set_registered_model_alias("scores", "champion", version)
    record, comparison, verdict = compare_with_champion(
        model, held_out, {"threshold": 0.5}, TRAINING_INPUTS, DATASET, plan
    )
    assert verdict == "pass"  # the same model: not worse
    assert record["metrics"]["roc_auc_difference"] == 0
    assert record["metrics"]["version"] == float(version)
    assert comparison["rows"] == 1000 and comparison["champion_version"] == version
    assert "against champion version" in champion_section(comparison)

    strict = {**PROMOTION, "champion": {**PROMOTION["champion"], "margin": -0.05}}
    _, comparison, verdict = compare_with_champion(
        model,
        held_out,
        {"threshold": 0.5},
        TRAINING_INPUTS,
        DATASET,
        check_release_config(strict, ANSWERED),
    )
    assert verdict == "fail" and comparison["improvement_low"] == 0  # must improve by 0.05


def test_a_champion_trained_on_other_features_is_scored_on_its_own(tracking) -> None:
    """The champion reads the columns it was fitted on, not today's features; a champion that
    reads a column the rows no longer have fails the gate, saying which."""
    frame = labelled_rows(2000, bias=0.0)
    train, held_out = frame.iloc[:1000], frame.iloc[1000:].reset_index(drop=True)
    plan = check_release_config(PROMOTION, ANSWERED)
    champion = LogisticRegression().fit(train[["age"]].astype(float), train["outcome"].astype(int))
    tracking.set_registered_model_alias("scores", "champion", _registered(tracking, champion, {}))
    challenger = fitted_model(train)
    _, comparison, verdict = compare_with_champion(
        challenger, held_out, {"threshold": 0.5}, TRAINING_INPUTS, DATASET, plan
    )
    assert comparison["rows"] == 1000 and verdict in {"pass", "fail"}
    expected = roc_auc_score(held_out["outcome"], champion.predict_proba(held_out[["age"]])[:, 1])
    assert comparison["champion"] == pytest.approx(expected)

    _, comparison, verdict = compare_with_champion(
        challenger, held_out.drop(columns="age"), {"threshold": 0.5}, TRAINING_INPUTS, DATASET, plan
    )
    assert verdict == "fail" and comparison["missing_columns"] == ["age"]
    assert "cannot be scored on the same rows" in comparison["note"]


def _champion(client) -> str:
    return str(client.get_model_version_by_alias("scores", "champion").version)


def test_approve_refuses_then_approves_and_rollback_goes_back(tracking) -> None:
    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    plan = check_release_config(PROMOTION, ANSWERED)
    first = _registered(tracking, model, {"validation": "pass", "champion": "pass"})
    failed = _registered(tracking, model, {"validation": "pass", "champion": "fail"})
    held = _registered(tracking, model, {"validation": "pass", "champion": "pass"}, holds="harm")
    second = _registered(tracking, model, {"validation": "pass", "champion": "pass"})

    with pytest.raises(approval.ApprovalRefused, match="no champion to roll back"):
        approval.rollback(tracking, plan, by="ana", note="oops")
    approval.approve(tracking, plan, first, by="ana", note="first model")
    assert _champion(tracking) == first
    with pytest.raises(approval.ApprovalRefused, match="no earlier one"):
        approval.rollback(tracking, plan, by="ana", note="oops")

    with pytest.raises(approval.ApprovalRefused, match=r"cannot be approved: gate.champion=fail$"):
        approval.approve(tracking, plan, failed, by="bo", note="try")
    with pytest.raises(approval.ApprovalRefused, match=r"ethics item.*harm"):
        approval.approve(tracking, plan, held, by="bo", note="try")
    today = check_release_config(PROMOTION, CHECKLIST)  # `harm` open today: nothing is approved
    with pytest.raises(approval.ApprovalRefused, match=r"ethics item.*harm"):
        approval.approve(tracking, today, second, by="bo", note="try")
    with pytest.raises(approval.ApprovalRefused, match="not found"):
        approval.approve(tracking, plan, "99", by="bo", note="try")
    with pytest.raises(approval.ApprovalRefused, match="already the champion"):
        approval.approve(tracking, plan, first, by="bo", note="again")
    assert _champion(tracking) == first

    approval.approve(tracking, plan, second, by="bo", note="better on recent data")
    tags = tracking.get_model_version("scores", second).tags
    assert tags["approval.by"] == "bo" and tags["approval.note"] == "better on recent data"
    assert tags["approval.action"] == "approve" and tags["approval.previous"] == first
    assert tags["approval.run_id"] == tracking.get_model_version("scores", second).run_id
    assert tags["approval.at"].endswith("+00:00")

    approval.rollback(tracking, plan, by="cy", note="complaints")
    assert _champion(tracking) == first
    tags = tracking.get_model_version("scores", first).tags
    assert tags["approval.action"] == "rollback" and tags["approval.by"] == "cy"
    assert tags["approval.rolled_back_from"] == second and tags["approval.previous"] == "none"
