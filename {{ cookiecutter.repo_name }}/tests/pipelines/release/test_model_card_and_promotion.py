"""The model card is filled from the run's records; promotion only when every gate passed."""

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from {{ cookiecutter.python_package }}.audit import frame_digest
from {{ cookiecutter.python_package }}.errors import ConfigError
from {{ cookiecutter.python_package }}.modelling import decision_threshold_of
from {{ cookiecutter.python_package }}.pipelines.release import create_pipeline, model_card, promotion
from {{ cookiecutter.python_package }}.pipelines.release.plan import check_release_config
from {{ cookiecutter.python_package }}.problem import problem_of

from ..explanation.test_nodes import explained
from ..fairness_review.test_nodes import PARAMS, TRAINING_INPUTS, review

TEMPLATE = Path(__file__).resolve().parents[3] / "conf" / "base" / "model_card.md"
PROMOTION = {
    "registered_model_name": "scores",
    "alias": "challenger",
    "required_gates": ["validation", "benchmark", "fairness"],
    "allow_warn": False,
    "champion": {
        "alias": "champion",
        "margin": 0.01,
        "confidence": 0.95,
        "bootstrap_repeats": 200,
        "seed": 1,
    },
}
CHECKLIST = {
    "items": {
        "harm": {
            "question": "What harm can it do?",
            "owner": "product owner",
            "status": "open",
            "risk": "high",
        },
        "laws": {
            "question": "Are the laws known?",
            "owner": "legal",
            "status": "answered",
            "risk": "medium",
            "answer": "Yes, reviewed.",
        },
    }
}


DECISION = {
    "problem_type": "binary",
    "applies": True,
    "choose": "value",
    "threshold": 0.2,
    "values": {
        "true_positive": -100.0,
        "false_positive": -200.0,
        "true_negative": 0.0,
        "false_negative": -1000.0,
    },
    "unit": "EUR",
    "capacity": None,
    "calibration": None,
    "folds": 3,
    "rows": 90,
    "training_rows": 100,
    "seed": 1,
    "bootstrap_repeats": 100,
    "confidence": 0.95,
}


def decision_report() -> dict:
    """What deciding at 0.2 is worth on 400 rows, as the problem type reports it."""
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 400)
    y = (rng.uniform(0, 1, 400) < p).astype(int)
    scored = {"model": (p, 0.2), "dummy": (np.full(400, y.mean()), 0.5)}
    problem = problem_of({"problem_type": "binary", "target": {"column": "outcome", "positive": 1}})
    report = problem.decision_report(y, scored, DECISION, repeats=100, seed=1, confidence=0.95)
    return {**report, "applies": True}


def card_inputs() -> dict:
    _, _, train, held_out, report, record = review(bias=0.4)
    importance, _, _, cohorts, _ = explained("binary")
    columns = ["rank", "model", "role", "roc_auc_mean", "roc_auc_ci_low", "roc_auc_ci_high"]
    board = pd.DataFrame(
        [[1, "candidate", "candidate", 0.81, 0.79, 0.83], [2, "dummy", "baseline", 0.5, 0.5, 0.5]],
        columns=columns,
    )
    return {
        "template": TEMPLATE.read_text(),
        "fairness_report": report,
        "mitigation": {"enabled": False},
        "validation_summary": {"quarantined_by_reason": {"raw_source.value_range": 7}},
        "validation_record": {
            "metrics": {
                "rows_in": 107,
                "rows_passed": 100,
                "rows_quarantined": 7,
                "quarantined_share": 7 / 107,
            },
            "tags": {"gate.validation": "warn"},
        },
        "leaderboard": board,
        "benchmark_comparison": {
            "verdict": "pass",
            "primary_metric": "roc_auc",
            "best_baseline": "dummy",
            "improvement": {"mean": 0.31, "ci_low": 0.29, "ci_high": 0.33, "p_value": 0.0001},
        },
        "benchmark_record": {"metrics": {}, "tags": {"gate.benchmark": "pass"}},
        "test_metrics_record": {"metrics": {"roc_auc": 0.8123, "rows": 2000, "positive_rate": 0.3}},
        "fairness_record": record,
        "training_set": train,
        "held_out_set": held_out,
        "feature_importance": importance,
        "error_cohorts": cohorts,
        "modelling_sample_record": {
            "metrics": {"modelling_rows": 100, "validated_rows": 250},
            "tags": {
                "training.modelling_sample_seed": "42",
                "training.modelling_sample_sha256": "ab" * 32,
            },
        },
        "training": {
            **TRAINING_INPUTS,
            "candidate": {"class": "sklearn.linear_model.LogisticRegression", "kwargs": {}},
        },
        "plan": check_release_config(PROMOTION, CHECKLIST),
        "dataset": {"problem_type": "binary", "target": {"column": "outcome", "positive": 1}},
        "champion_comparison": {"verdict": "pass", "note": "no champion: none yet"},
        "decision": DECISION,
        "decision_report": decision_report(),
    }


def test_model_card_has_every_section_and_the_runs_figures() -> None:
    inputs = card_inputs()
    card = model_card.build_model_card(**inputs)
    for section in model_card.SECTIONS:
        assert f"\n## {section}\n" in card
    report = inputs["fairness_report"]
    ratio = report["features"]["foreign"]["criteria"]["demographic_parity_ratio"]
    assert f"| demographic_parity_ratio | {ratio['value']:.3f} [{ratio['ci'][0]:.3f}" in card
    assert "107 rows in, 100 passed,\n7 quarantined" in card
    assert "| roc_auc | 0.8123 |" in card
    assert frame_digest(inputs["held_out_set"]) in card
    assert "Modelling rows: a sample of 100 rows out of 250 validated rows" in card
    assert "| harm | high | What harm can it do? | product owner |" in card  # open, with owner
    assert "Are the laws known?** (legal, medium risk, answered): Yes, reviewed." in card
    # an open item of high risk holds the model back, said before anything else
    assert (
        card.split("\n## ")[0]
        .rstrip()
        .endswith(
            "**Held back by the ethics checklist: `harm` (What harm can it do? "
            "Owner: product owner) is open and of high risk. No version of this model may be "
            "approved until it is answered in conf/base/parameters_ethics.yml.**"
        )
    )
    assert "kept back by `gate.validation=warn`, `gate.fairness=fail`" in card
    assert "${" not in card
    drives = card.split("## What drives its predictions")[1].split("## ")[0]
    assert "The model relies most on `signal_a`" in drives
    assert "| 1 | `signal_a` |" in drives
    wrong = card.split("## Where it is wrong")[1].split("## ")[0]
    assert inputs["error_cohorts"]["cohorts"][0]["cohort"] in wrong
    champion = card.split("### Challenger against champion")[1].split("## ")[0]
    assert "Verdict **pass**: no champion: none yet." in champion
    worth = card.split("## What it is worth")[1].split("## ")[0]
    report = inputs["decision_report"]
    assert "at least **0.200**" in worth and "on 90 of the 100 training rows" in worth
    assert f"worth **{report['model']['value_per_case']:,.2f} EUR per case**" in worth
    assert f"{report['act_on_none']:,.2f} EUR acting on none" in worth
    assert "| `dummy` | 0.500 |" in worth
    assert "A row is predicted positive at probability >= 0.2." in card


def test_model_card_refuses_an_unknown_placeholder_and_a_missing_section() -> None:
    inputs = card_inputs()
    with pytest.raises(ConfigError, match=r"model_card\.md uses \$\{owner_email\}"):
        model_card.build_model_card(**{**inputs, "template": inputs["template"] + "${owner_email}"})
    without = inputs["template"].replace("## Factors", "## Things")
    with pytest.raises(ConfigError, match="lacks the model card section"):
        model_card.build_model_card(**{**inputs, "template": without})


def test_warn_blocks_unless_allowed() -> None:
    tags = {"gate.validation": "warn", "gate.benchmark": "pass"}
    gates = ["validation", "benchmark", "fairness"]
    assert promotion.blocking_gates(tags, gates, allow_warn=False) == [
        "gate.validation=warn",
        "gate.fairness=missing (the gate did not run)",
    ]
    assert promotion.blocking_gates({**tags, "gate.fairness": "pass"}, gates, True) == []


@pytest.fixture
def tracking(mlflow_store):
    mlflow.set_experiment("promotion-test")
    return mlflow


def _run_with_model(mlflow, gates: dict[str, str], **tags: str) -> str:
    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(model, name="model")
        mlflow.set_tags({f"gate.{k}": v for k, v in gates.items()} | tags)
    return run.info.run_id


def test_alias_challenger_only_when_every_gate_passes(tracking) -> None:
    mlflow = tracking
    client = mlflow.MlflowClient()
    held = _run_with_model(mlflow, {"validation": "pass", "benchmark": "fail", "fairness": "pass"})
    record = promotion.promote(held, check_release_config(PROMOTION, CHECKLIST))
    assert record["tags"]["promotion.status"] == "held_back"
    assert "gate.benchmark=fail" in record["tags"]["promotion.reason"]
    assert record["tags"]["promotion.ethics_holds"] == "harm"  # recorded, whatever the gates
    assert client.search_registered_models() == []

    passed = _run_with_model(
        mlflow,
        {"validation": "pass", "benchmark": "pass", "fairness": "pass"},
        **{"decision.threshold": "0.3", "decision.rule": "value"},
    )
    record = promotion.promote(passed, check_release_config(PROMOTION, CHECKLIST))
    assert record["tags"]["promotion.status"] == "promoted"
    assert record["tags"]["promotion.ethics_holds"] == "harm"
    version = client.get_model_version_by_alias("scores", "challenger")
    assert version.run_id == passed
    assert record["metrics"]["model_version"] == int(version.version)
    # the threshold it decides at travels with it; a model without one: the configured one
    assert version.tags["decision.threshold"] == "0.3" and version.tags["decision.rule"] == "value"
    assert decision_threshold_of(version.run_id, {"decision_threshold": 0.5}) == 0.3
    assert decision_threshold_of(held, {"decision_threshold": 0.5}) == 0.5


def test_a_run_without_a_model_is_held_back(tracking) -> None:
    mlflow = tracking
    with mlflow.start_run() as run:
        mlflow.set_tags(
            {"gate.validation": "pass", "gate.benchmark": "pass", "gate.fairness": "pass"}
        )
    record = promotion.promote(run.info.run_id, check_release_config(PROMOTION, CHECKLIST))
    assert record["tags"]["promotion.status"] == "held_back"
    assert "no model was logged" in record["tags"]["promotion.reason"]


def test_the_shipped_checklist_is_valid_and_names_its_holds() -> None:
    import yaml

    shipped = yaml.safe_load((TEMPLATE.parent / "parameters_ethics.yml").read_text())
    plan = check_release_config(PROMOTION, shipped["ethics_checklist"])
    items = {i["id"]: i for i in plan["ethics_items"]}
    assert plan["ethics_holds"] == [
        key for key, i in items.items() if i["status"] == "open" and i["risk"] == "high"
    ]
    assert check_release_config(PROMOTION, CHECKLIST)["ethics_holds"] == ["harm"]


def test_configuration_params_reach_the_plan() -> None:
    plan = review(bias=0.0)[0]
    assert plan["feature_thresholds"] == {"sex_x_foreign": {}}
    assert plan["thresholds"] == PARAMS["thresholds"]


def test_promotion_runs_last() -> None:
    pipeline = create_pipeline()
    promote = next(n for n in pipeline.nodes if n.name == "release.promote_model")
    assert {
        "model_card",
        "fairness_verdict",
        "benchmark_verdict",
        "champion_verdict",
        "mlflow_model",
    } <= set(promote.inputs)
    assert pipeline.nodes[-1] is promote


@pytest.mark.parametrize(
    "change, message",
    [
        ({"registered_model_name": ""}, "registered_model_name"),
        ({"required_gates": ["validation", "vibes"]}, "vibes"),
        ({"colour": "red"}, "promotion.colour"),
        ({"champion": {**PROMOTION["champion"], "alias": "challenger"}}, "champion.alias"),
        ({"champion": {**PROMOTION["champion"], "confidence": 1.5}}, "confidence"),
        ({"champion": {"alias": "champion"}}, "promotion.champion.margin"),
    ],
)
def test_bad_release_configuration_is_refused(change: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_release_config({**PROMOTION, **change}, CHECKLIST)
    missing = {k: v for k, v in PROMOTION.items() if k != "allow_warn"}
    with pytest.raises(ConfigError, match=r"allow_warn.*missing"):
        check_release_config(missing, CHECKLIST)
