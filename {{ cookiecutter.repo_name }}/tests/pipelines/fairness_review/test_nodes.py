"""Unit tests of the fairness review on small generated frames with a planted bias and proxy."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

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
from {{ cookiecutter.python_package }}.problem import problem_of

FIXED = {"threshold": 0.5}  # the decision of training.decision: a fixed threshold

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
        "bound": 1.0,
        "max_iter": 50,
        "seed": 1,
    },
    "on_fail": "flag",
    "report_folder": "data/08_reporting/fairness",
}
DATASET = {
    "problem_type": "binary",
    "target": {
        "column": "outcome",
        "positive": 1,
        "positive_means": "is flagged for review",
        "favourable": False,
    },
}


CLASSES = [
    {"value": "low", "means": "is handled this week", "favourable": None},
    {"value": "medium", "means": "is handled tomorrow", "favourable": None},
    {"value": "high", "means": "is handled today", "favourable": True},
]
DATASETS = {
    "binary": DATASET,
    "multiclass": {
        "problem_type": "multiclass",
        "target": {"column": "outcome", "classes": CLASSES},
    },
    "regression": {
        "problem_type": "regression",
        "target": {
            "column": "outcome",
            "means": "sale price",
            "unit": "EUR",
            "higher_is_favourable": True,
        },
    },
}
# labels (and predictions) of each type: classes 0/1, class codes 0..2, numbers
LABELS = {
    "binary": lambda rng, n: rng.integers(0, 2, n),
    "multiclass": lambda rng, n: rng.integers(0, 3, n),
    "regression": lambda rng, n: rng.normal(100, 20, n),
}
# the types' own defaults: metrics and thresholds null
TYPE_PARAMS = {
    **PARAMS,
    "metrics": None,
    "thresholds": None,
    "feature_thresholds": {"sex_x_foreign": {}},
    "mitigation": {
        **PARAMS["mitigation"],
        "enabled": False,
        "method": None,
        "constraint": None,
        "sensitive_feature": None,
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
    plan = check_fairness_config(params or PARAMS, TRAINING_INPUTS, DATASET)
    frame = labelled_rows(n, bias)
    train, held_out = frame.iloc[: n // 2], frame.iloc[n // 2 :].reset_index(drop=True)
    model = fitted_model(train)
    proxy_report = detect_proxies(train, plan)
    report, record = assess_fairness(model, held_out, proxy_report, plan, FIXED, DATASET)
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
    plan = check_fairness_config(PARAMS, TRAINING_INPUTS, DATASET)
    frame = labelled_rows(3000, bias=0.0)
    model = fitted_model(frame)
    held_out = frame.copy()
    held_out.loc[:11, "sex"] = "X"  # 12 rows: too small to judge
    report, record = assess_fairness(
        model, held_out, detect_proxies(frame, plan), plan, FIXED, DATASET
    )
    sex = report["features"]["sex"]
    small = next(g for g in sex["groups"] if g["group"] == "X")
    assert sex["too_small"] == ["X"] and not small["judged"]
    assert small["note"].startswith("too small to judge (n=12 < 50)")
    assert record["metrics"]["sex.groups_too_small"] == 1
    assert sex["judged_groups"] == 2  # F and M are judged without X
    assert "too small to judge" in write_fairness_report(report, {"enabled": False}, plan, DATASET)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_metric_frame_figures_equal_the_per_group_sums(kind: str) -> None:
    problem = problem_of(DATASETS[kind])
    rng = np.random.default_rng(3)
    y_true, y_pred = LABELS[kind](rng, 500), LABELS[kind](rng, 500)
    groups = pd.Series(rng.choice(["a", "b", "c"], 500))
    columns = problem.fairness_columns(list(problem.FAIRNESS_METRICS))
    frame = disparity.metric_frame(problem, y_true, y_pred, groups, columns)
    codes = pd.Categorical(groups, categories=list(frame.by_group.index)).codes.astype(np.int64)
    cells, n_cells, values = problem.fairness_cells(y_true, y_pred)
    rates = problem.fairness_rates(disparity.group_stats(cells, values, codes, 3, n_cells))
    for column in columns:
        np.testing.assert_allclose(frame.by_group[column].to_numpy(float), rates[column])


def test_bootstrap_is_seeded_and_keeps_the_row_count() -> None:
    rng = np.random.default_rng(0)
    y, p, codes = rng.integers(0, 2, 300), rng.integers(0, 2, 300), rng.integers(0, 3, 300)
    cells, n_cells, values = problem_of(DATASET).fairness_cells(y, p)
    args = (cells, values, n_cells, {"f": codes}, {"f": 3})
    settings = {"n_boot": 50, "seed": 7, "max_rows": 10_000}
    first = disparity.bootstrap_stats(*args, **settings)
    second = disparity.bootstrap_stats(*args, **settings)
    np.testing.assert_array_equal(first["f"], second["f"])
    assert (first["f"].sum(axis=(1, 2)) == 300).all()
    capped = disparity.bootstrap_stats(*args, **{**settings, "max_rows": 100})
    assert (capped["f"].sum(axis=(1, 2)) == 100).all()


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_bootstrap_sums_equal_those_of_the_resampled_rows(kind: str) -> None:
    """Each resample's per-group sums (one bincount for all) equal those of its own rows."""
    problem = problem_of(DATASETS[kind])
    rng = np.random.default_rng(5)
    y, p, codes = LABELS[kind](rng, 400), LABELS[kind](rng, 400), rng.integers(0, 3, 400)
    cells, n_cells, values = problem.fairness_cells(y, p)
    boot = disparity.bootstrap_stats(
        cells, values, n_cells, {"f": codes}, {"f": 3}, n_boot=20, seed=9, max_rows=10_000
    )["f"]
    rows = np.random.default_rng(9).integers(0, 400, size=(20, 400))  # the same draws
    for b in (0, 7, 19):
        r = rows[b]
        expected = disparity.group_stats(cells[r], values[r], codes[r], 3, n_cells)
        np.testing.assert_allclose(boot[b], expected)


def test_mitigation_shrinks_the_disparity() -> None:
    plan, model, train, held_out, _, _ = review(bias=0.4)
    report, record = mitigate(model, train, held_out, plan, FIXED, DATASET)
    before, after = report["before"]["features"]["foreign"], report["after"]["features"]["foreign"]
    assert after["demographic_parity_ratio"] > before["demographic_parity_ratio"]
    gap = lambda e: abs(np.subtract(*e["selection_rate"].values()))  # noqa: E731
    assert gap(after) < gap(before)
    assert "mitigation.after.foreign.demographic_parity_ratio" in record["metrics"]
    disabled = {**plan, "mitigation": {"enabled": False}}
    assert mitigate(model, train, held_out, disabled, FIXED, DATASET)[0] == {"enabled": False}


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
        check_fairness_config({**PARAMS, **change}, TRAINING_INPUTS, DATASET)


def test_ethics_checklist_items_need_an_owner_and_a_known_status() -> None:
    item = {"question": "What harm?", "owner": "lead", "status": "open", "risk": "high"}
    bad = {"items": {"harm": {**item, "status": "maybe"}}}
    with pytest.raises(ConfigError, match=r"ethics_checklist\.items\.harm.*status 'maybe'"):
        check_ethics_checklist(bad)
    ownerless = {"items": {"harm": {**item, "owner": ""}}}
    with pytest.raises(ConfigError, match="has no owner"):
        check_ethics_checklist(ownerless)
    with pytest.raises(ConfigError, match="has no risk"):
        check_ethics_checklist({"items": {"harm": {**item, "risk": None}}})
    with pytest.raises(
        ConfigError, match=r"risk 'severe' is not one of \['low', 'medium', 'high'\]"
    ):
        check_ethics_checklist({"items": {"harm": {**item, "risk": "severe"}}})


def test_plots_one_figure_per_feature() -> None:
    _, _, _, _, report, _ = review(bias=0.4)
    figures = plot_fairness(report, DATASET)
    assert set(figures) == {f"{name}.png" for name in report["features"]}


# --- multiclass and regression ----------------------------------------------------------------


def other_rows(kind: str, n: int, planted: bool, seed: int = 0) -> pd.DataFrame:
    """Rows whose label depends on income only, except, when ``planted``, for the
    ``foreign == "yes"`` group, which no input shows (region is drawn apart from it): its numbers
    are lower and scattered more widely (regression), its classes shifted down (multiclass)."""
    rng = np.random.default_rng(seed)
    frame = labelled_rows(n, bias=0.0, seed=seed).drop(columns="outcome")
    frame["region"] = rng.choice(["R1", "R5", "R9"], n)
    income = frame["income"].to_numpy()
    group = (frame["foreign"] == "yes").to_numpy() & planted
    if kind == "regression":
        label = 100 + 20 * income + rng.normal(0, 5, n)
        label += np.where(group, -12 + rng.normal(0, 12, n), 0.0)
        return frame.assign(outcome=label)
    logits = np.column_stack([np.zeros(n), 1.2 * income, 2.5 * income - 0.5])
    logits[group, 1] -= 1.5
    logits[group, 2] -= 3.0
    gumbel = -np.log(-np.log(rng.random((n, 3))))
    return frame.assign(outcome=pd.array((logits + gumbel).argmax(axis=1), dtype="Int64"))


def review_other(kind: str, planted: bool, params: dict | None = None, n: int = 4000):
    """The fairness review of a model fitted on half of ``other_rows``, on the other half."""
    dataset = DATASETS[kind]
    plan = check_fairness_config(params or TYPE_PARAMS, TRAINING_INPUTS, dataset)
    frame = other_rows(kind, n, planted)
    train, held_out = frame.iloc[: n // 2], frame.iloc[n // 2 :].reset_index(drop=True)
    estimator = Ridge() if kind == "regression" else LogisticRegression(max_iter=1000)
    model = build_model(TRAINING, estimator)
    y = train["outcome"].astype(float if kind == "regression" else int)
    model.fit(model_inputs(train, ["income", "age"], ["region"]), y)
    report, record = assess_fairness(
        model, held_out, detect_proxies(train, plan), plan, FIXED, dataset
    )
    return plan, model, train, held_out, report, record


def test_regression_planted_disparity_fails_on_errors_and_residuals() -> None:
    plan, _, _, _, report, record = review_other("regression", planted=True)
    assert plan["thresholds"] == {"mae_ratio": 1.25, "mean_residual_difference": 0.1}
    assert plan["metrics"] == ["count", "mae", "mean_residual", "rmse", "mean_prediction"]
    foreign = report["features"]["foreign"]
    assert foreign["criteria"]["mae_ratio"]["verdict"] == "fail"
    assert foreign["criteria"]["mae_ratio"]["rule"] == "at most"
    assert foreign["criteria"]["mean_residual_difference"]["verdict"] == "fail"
    assert report["verdict"] == "fail" and record["tags"]["gate.fairness"] == "fail"
    assert any(r.startswith("foreign: mae_ratio") for r in report["reasons"])
    yes = next(g for g in foreign["groups"] if g["group"] == "yes")
    no = next(g for g in foreign["groups"] if g["group"] == "no")
    assert yes["mean_residual"] < 0 < no["mean_residual"]  # the group is over-estimated
    assert yes["mean_residual_ci"][1] < 0 and yes["mae"] > 1.5 * no["mae"]
    assert record["metrics"]["foreign.mae_ratio"] > 1.25
    assert "foreign.group.yes.mean_residual_ci_low" in record["metrics"]
    assert record["metrics"]["foreign.mean_residual_gap"] == pytest.approx(
        yes["mean_residual_ci"] and no["mean_residual"] - yes["mean_residual"]
    )
    assert report["features"]["sex"]["verdict"] == "pass"
    assert report["words"]["unit"] == "EUR" and report["target_std"] > 0
    line = next(x for x in report["summary_lines"] if x.startswith("foreign:"))
    assert "sale price of yes is over-estimated" in line
    assert "(favourable for the person scored)" in line


def test_regression_without_disparity_passes() -> None:
    _, _, _, _, report, record = review_other("regression", planted=False)
    assert report["verdict"] == "pass", report["reasons"]
    assert record["tags"]["gate.fairness"] == "pass"
    assert report["features"]["foreign"]["criteria"]["mae_ratio"]["value"] < 1.25


def test_multiclass_planted_disparity_fails_on_equalised_odds() -> None:
    plan, _, _, _, report, record = review_other("multiclass", planted=True)
    assert "recall.high" in plan["columns"] and "precision.low" in plan["columns"]
    foreign = report["features"]["foreign"]
    odds = foreign["criteria"]["equalized_odds_difference"]
    assert odds["verdict"] == "fail" and odds["worst_class"] in ("high", "medium", "low")
    assert (
        odds["value"]
        == foreign["summary"][f"equalized_odds_difference.{odds['worst_class']}"]["value"]
    )
    # judged on the worst class with that class's own interval
    worst = foreign["summary"][f"equalized_odds_difference.{odds['worst_class']}"]
    assert odds["ci"] == worst["ci"] == foreign["summary"]["equalized_odds_difference"]["ci"]
    assert report["verdict"] == "fail" and record["tags"]["gate.fairness"] == "fail"
    assert any("equalized_odds_difference (worst class" in r for r in report["reasons"])
    yes = next(g for g in foreign["groups"] if g["group"] == "yes")
    no = next(g for g in foreign["groups"] if g["group"] == "no")
    assert yes["precision.high"] < no["precision.high"]  # predicted high, labelled lower
    assert "foreign.group.yes.recall.high" in record["metrics"]
    assert "foreign.equalized_odds_difference.high_ci_high" in record["metrics"]
    assert any(
        x.startswith("foreign: fail; error rates differ most") for x in report["summary_lines"]
    )
    markdown = write_fairness_report(report, {"enabled": False}, plan, DATASETS["multiclass"])
    assert "equalized_odds_difference per class: low" in markdown
    assert "high (is handled today; favourable)" in markdown


def test_multiclass_without_disparity_passes() -> None:
    _, _, _, _, report, _ = review_other("multiclass", planted=False)
    assert report["verdict"] == "pass", report["reasons"]


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_reports_and_plots_of_other_types(kind: str) -> None:
    plan, _, _, _, report, _ = review_other(kind, planted=True, n=1200)
    figures = plot_fairness(report, DATASETS[kind])
    assert set(figures) == {f"{name}.png" for name in report["features"]}
    markdown = write_fairness_report(report, {"enabled": False}, plan, DATASETS[kind])
    assert "## In short" in markdown and "### foreign:" in markdown
    assert report["summary_lines"][0].startswith("Fairness review: ")
    assert report["problem_type"] == kind


def test_regression_mitigation_with_bounded_group_loss() -> None:
    params = {
        **TYPE_PARAMS,
        "mitigation": {
            **TYPE_PARAMS["mitigation"],
            "enabled": True,  # method, constraint and sensitive_feature null
            "max_iter": 8,
        },
    }
    plan, model, train, held_out, _, _ = review_other("regression", True, params, n=1200)
    assert plan["mitigation"]["method"] == "exponentiated_gradient"
    assert plan["mitigation"]["constraint"] == "bounded_group_loss"
    assert plan["mitigation"]["sensitive_feature"] == "sex"
    plan = {**plan, "mitigation": {**plan["mitigation"], "sensitive_feature": "foreign"}}
    report, record = mitigate(model, train, held_out, plan, FIXED, DATASETS["regression"])
    before, after = report["before"], report["after"]
    assert set(before) == {"mae", "rmse", "mean_residual", "features"}
    assert set(after["features"]["foreign"]) >= {"mae", "mean_residual", "mae_ratio"}
    assert after["mae"] > 0 and "mitigation.after.foreign.mae_ratio" in record["metrics"]
    assert "exponentiated_gradient with constraint `bounded_group_loss`" in write_fairness_report(
        review_other("regression", True, n=400)[4], report, plan, DATASETS["regression"]
    )


@pytest.mark.parametrize(
    ("kind", "change", "key"),
    [
        ("regression", {"thresholds": {"demographic_parity_ratio": 0.8}}, "thresholds.demographic"),
        ("regression", {"thresholds": {"mae_ratio": 0.5}}, "thresholds.mae_ratio.*at least 1"),
        ("regression", {"metrics": ["count", "selection_rate"]}, "metrics.*regression"),
        ("regression", {"feature_thresholds": {"sex": {"equalized_odds_ratio": 0.8}}}, "sex.equal"),
        ("multiclass", {"thresholds": {"mae_ratio": 1.2}}, "thresholds.mae_ratio.*multiclass"),
        ("multiclass", {"metrics": ["count", "mae"]}, "fairness_review.metrics"),
        ("binary", {"thresholds": {"mae_ratio": 1.2}}, "thresholds.mae_ratio.*binary"),
    ],
)
def test_criteria_and_metrics_are_checked_against_the_type(
    kind: str, change: dict, key: str
) -> None:
    with pytest.raises(ConfigError, match=key):
        check_fairness_config({**TYPE_PARAMS, **change}, TRAINING_INPUTS, DATASETS[kind])


@pytest.mark.parametrize(
    ("kind", "method", "key"),
    [
        ("regression", "threshold_optimizer", r"mitigation\.method.*for binary problems only"),
        ("binary", "exponentiated_gradient", r"mitigation\.method.*for regression problems only"),
        ("multiclass", None, r"mitigation\.enabled.*threshold_optimizer is for binary"),
        ("multiclass", "threshold_optimizer", r"mitigation\.enabled.*binary problems only"),
    ],
)
def test_mitigation_methods_are_refused_for_other_types(kind: str, method, key: str) -> None:
    mitigation = {**TYPE_PARAMS["mitigation"], "enabled": True, "method": method}
    with pytest.raises(ConfigError, match=key):
        check_fairness_config(
            {**TYPE_PARAMS, "mitigation": mitigation}, TRAINING_INPUTS, DATASETS[kind]
        )


def test_null_means_the_types_defaults() -> None:
    for dataset in DATASETS.values():
        plan = check_fairness_config(TYPE_PARAMS, TRAINING_INPUTS, dataset)
        problem = problem_of(dataset)
        assert plan["thresholds"] == problem.FAIRNESS_THRESHOLDS
        assert set(plan["metrics"]) == set(problem.FAIRNESS_DEFAULT_METRICS)
        assert plan["mitigation"]["sensitive_feature"] == "sex"  # null: the first attribute
    binary = check_fairness_config(TYPE_PARAMS, TRAINING_INPUTS, DATASET)
    assert binary["metrics"] == PARAMS["metrics"] and binary["thresholds"] == PARAMS["thresholds"]
    assert (
        check_fairness_config({**TYPE_PARAMS, "thresholds": {}}, TRAINING_INPUTS, DATASET)[
            "thresholds"
        ]
        == {}
    )
