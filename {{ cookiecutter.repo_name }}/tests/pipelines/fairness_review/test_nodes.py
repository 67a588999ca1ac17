"""Unit tests of the fairness review on small generated frames with a planted bias and proxy."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from {{ cookiecutter.python_package }}.errors import ConfigError
from {{ cookiecutter.python_package }}.modelling import build_model, model_inputs
from {{ cookiecutter.python_package }}.pipelines.fairness_review import disparity
from {{ cookiecutter.python_package }}.pipelines.fairness_review.assessment import assess_fairness
from {{ cookiecutter.python_package }}.pipelines.fairness_review.mitigation import mitigate
from {{ cookiecutter.python_package }}.pipelines.fairness_review.plan import check_fairness_config
from {{ cookiecutter.python_package }}.pipelines.fairness_review.proxies import detect_proxies
from {{ cookiecutter.python_package }}.pipelines.fairness_review.report import (
    plot_fairness,
    write_fairness_report,
)
from {{ cookiecutter.python_package }}.pipelines.release.plan import check_ethics_checklist

TRAINING = {
    "target": "outcome",
    "features": {"numeric": ["income"], "categorical": ["region"]},
    "sensitive_features": {"sex": {}, "age": {"bins": [18, 40, 120]}, "foreign": {}},
    "use_sensitive_features": False,
    "decision_threshold": 0.5,
    "preprocessing": {"numeric_imputation": "median"},
}
PARAMS = {
    "sensitive_features": {"sex": {}, "age": {"bins": [18, 40, 120]}, "foreign": {}},
    "intersections": [["sex", "foreign"]],
    "metrics": ["count", "selection_rate", "true_positive_rate", "false_positive_rate", "accuracy"],
    "min_group_size": 50,
    "thresholds": {"demographic_parity_ratio": 0.8, "equalized_odds_difference": 0.1},
    "feature_thresholds": {"sex_x_foreign": {}},
    "bootstrap": {"n_boot": 200, "confidence": 0.95, "seed": 1, "max_rows": 100_000},
    "proxies": {"threshold": 0.3, "numeric_bins": 5, "max_rows": 100_000},
    "mitigation": {
        "enabled": True,
        "method": "threshold_optimizer",
        "constraint": "demographic_parity",
        "sensitive_feature": "foreign",
        "objective": "accuracy_score",
        "seed": 1,
    },
    "on_fail": "flag",
    "report_folder": "data/08_reporting/fairness",
    "target": {
        "column": "outcome",
        "positive": 1,
        "positive_means": "is flagged for review",
        "favourable": False,
    },
}


def labelled_rows(n: int, bias: float, seed: int = 0) -> pd.DataFrame:
    """Risk from income only; region stands in for foreign; ``bias``: share of foreign
    negatives labelled positive."""
    rng = np.random.default_rng(seed)
    foreign = rng.random(n) < 0.3
    region = np.where(rng.random(n) < 0.9, np.where(foreign, "R9", "R1"), "R5")
    income = rng.normal(0, 1, n)
    risk = 1 / (1 + np.exp(-(-1.2 - 1.5 * income)))
    label = rng.random(n) < risk
    label |= foreign & (rng.random(n) < bias)
    return pd.DataFrame(
        {
            "income": income,
            "age": rng.integers(18, 80, n),
            "region": region,
            "sex": rng.choice(["F", "M"], n),
            "foreign": np.where(foreign, "yes", "no"),
            "outcome": pd.array(label.astype(int), dtype="Int64"),
        }
    )


def fitted_model(frame: pd.DataFrame):
    model = build_model(TRAINING, LogisticRegression())
    x = model_inputs(frame, ["income", "age"], ["region"])
    return model.fit(x, frame["outcome"].astype(int))


TRAINING_INPUTS = {**TRAINING, "features": {"numeric": ["income"], "categorical": ["region"]}}


def review(bias: float, params: dict | None = None, n: int = 4000):
    plan = check_fairness_config(params or PARAMS, TRAINING_INPUTS)
    frame = labelled_rows(n, bias)
    train, held_out = frame.iloc[: n // 2], frame.iloc[n // 2 :].reset_index(drop=True)
    model = fitted_model(train)
    proxy_report = detect_proxies(train, plan)
    report, record = assess_fairness(model, held_out, proxy_report, plan)
    return plan, model, train, held_out, report, record


def test_planted_bias_fails_on_the_biased_attribute() -> None:
    _, _, _, _, report, record = review(bias=0.4)
    foreign = report["features"]["foreign"]
    assert foreign["criteria"]["demographic_parity_ratio"]["verdict"] == "fail"
    assert foreign["criteria"]["demographic_parity_ratio"]["value"] < 0.8
    assert report["verdict"] == "fail"
    assert record["tags"]["gate.fairness"] == "fail"
    assert any(reason.startswith("foreign:") for reason in report["reasons"])
    assert record["metrics"]["foreign.demographic_parity_ratio"] < 0.8


def test_unbiased_data_passes() -> None:
    _, _, _, _, report, record = review(bias=0.0)
    assert report["verdict"] == "pass", report["reasons"]
    assert record["tags"]["gate.fairness"] == "pass"
    assert report["features"]["sex_x_foreign"]["verdict"] == "reported only"


def test_planted_proxy_is_flagged_and_others_not() -> None:
    _, _, _, _, report, _ = review(bias=0.0)
    flagged = {(p["input"], p["sensitive"]) for p in report["proxies"]["flagged"]}
    assert flagged == {("region", "foreign")}


def test_too_small_group_is_reported_not_judged() -> None:
    plan = check_fairness_config(PARAMS, TRAINING_INPUTS)
    frame = labelled_rows(3000, bias=0.0)
    model = fitted_model(frame)
    held_out = frame.copy()
    held_out.loc[:11, "sex"] = "X"  # 12 rows: too small to judge
    report, record = assess_fairness(model, held_out, detect_proxies(frame, plan), plan)
    sex = report["features"]["sex"]
    small = next(g for g in sex["groups"] if g["group"] == "X")
    assert sex["too_small"] == ["X"] and not small["judged"]
    assert small["note"].startswith("too small to judge (n=12 < 50)")
    assert record["metrics"]["sex.groups_too_small"] == 1
    assert sex["judged_groups"] == 2  # F and M are judged without X
    assert "too small to judge" in write_fairness_report(report, {"enabled": False}, plan)


def test_metric_frame_figures_equal_the_confusion_counts() -> None:
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.integers(0, 2, 500), rng.integers(0, 2, 500)
    groups = pd.Series(rng.choice(["a", "b", "c"], 500))
    frame = disparity.metric_frame(y_true, y_pred, groups, list(disparity.METRICS))
    codes = pd.Categorical(groups, categories=list(frame.by_group.index)).codes.astype(np.int64)
    rates = disparity._rates(disparity.confusion_cells(y_true, y_pred, codes, 3))
    for metric in disparity.METRICS:
        np.testing.assert_allclose(frame.by_group[metric].to_numpy(float), rates[metric])


def test_bootstrap_is_seeded_and_keeps_the_row_count() -> None:
    rng = np.random.default_rng(0)
    y, p, codes = rng.integers(0, 2, 300), rng.integers(0, 2, 300), rng.integers(0, 3, 300)
    args = (y, p, {"f": codes}, {"f": 3})
    settings = {"n_boot": 50, "seed": 7, "max_rows": 10_000}
    first = disparity.bootstrap_cells(*args, **settings)
    second = disparity.bootstrap_cells(*args, **settings)
    np.testing.assert_array_equal(first["f"], second["f"])
    assert (first["f"].sum(axis=(1, 2)) == 300).all()
    capped = disparity.bootstrap_cells(*args, **{**settings, "max_rows": 100})
    assert (capped["f"].sum(axis=(1, 2)) == 100).all()


def test_mitigation_shrinks_the_disparity() -> None:
    plan, model, train, held_out, _, _ = review(bias=0.4)
    report, record = mitigate(model, train, held_out, plan)
    before, after = report["before"]["features"]["foreign"], report["after"]["features"]["foreign"]
    assert after["demographic_parity_ratio"] > before["demographic_parity_ratio"]
    gap = lambda e: abs(np.subtract(*e["selection_rate"].values()))  # noqa: E731
    assert gap(after) < gap(before)
    assert "mitigation.after.foreign.demographic_parity_ratio" in record["metrics"]
    assert mitigate(model, train, held_out, {**plan, "mitigation": {"enabled": False}})[0] == {
        "enabled": False
    }


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"metrics": ["count", "precision"]}, "fairness_review.metrics"),
        ({"thresholds": {"parity": 0.8}}, "fairness_review.thresholds.parity"),
        ({"thresholds": {"demographic_parity_ratio": 8}}, "demographic_parity_ratio"),
        ({"on_fail": "ignore"}, "fairness_review.on_fail"),
        ({"sensitive_features": {"age": {"bins": [50, 18]}}}, "sensitive_features.age.bins"),
        ({"intersections": [["sex", "religion"]]}, "fairness_review.intersections"),
        ({"feature_thresholds": {"religion": {}}}, "feature_thresholds.religion"),
        ({"mitigation": {**PARAMS["mitigation"], "method": "magic"}}, "mitigation.method"),
        ({"mitigation": {"enabled": True}}, "mitigation.method"),  # missing: no second default
        ({"bootstrap": {"n_boot": 10}}, "bootstrap.confidence"),
        ({"colour": 1}, "fairness_review.colour"),
    ],
)
def test_bad_configuration_is_refused_naming_the_key(change: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        check_fairness_config({**PARAMS, **change}, TRAINING_INPUTS)


def test_ethics_checklist_items_need_an_owner_and_a_known_status() -> None:
    bad = {"items": {"harm": {"question": "What harm?", "owner": "lead", "status": "maybe"}}}
    with pytest.raises(ConfigError, match=r"ethics_checklist\.items\.harm.*status 'maybe'"):
        check_ethics_checklist(bad)
    ownerless = {"items": {"harm": {"question": "What harm?", "status": "open"}}}
    with pytest.raises(ConfigError, match="has no owner"):
        check_ethics_checklist(ownerless)


def test_plots_one_figure_per_feature() -> None:
    _, _, _, _, report, _ = review(bias=0.4)
    figures = plot_fairness(report)
    assert set(figures) == {f"{name}.png" for name in report["features"]}
