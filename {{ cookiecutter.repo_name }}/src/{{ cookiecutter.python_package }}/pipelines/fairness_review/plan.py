"""The fairness review's plan: its configuration, checked before any data is read.

Every default is in ``conf/base/parameters_fairness_review.yml``: a missing key is refused here,
so the code holds no second default that could disagree with the file. Where the file says
``null`` (metrics, thresholds, the mitigation's method and constraint), the problem type's own
choice applies (``problem/``, ``FAIRNESS_*``); an explicit value is checked against what the
type knows.
"""

from itertools import pairwise
from typing import Any

from ...decision import decision_threshold
from ...errors import ConfigError, check_keys
from ...gates import check_on_fail
from ...modelling import feature_columns
from ...problem import PROBLEMS, Problem, problem_of

PARAMETERS = "conf/base/parameters_fairness_review.yml"


MITIGATION_KEYS = (
    "enabled",
    "method",
    "constraint",
    "sensitive_feature",
    "objective",
    "bound",
    "max_iter",
    "seed",
)


_KEYS = (
    "sensitive_features",
    "intersections",
    "metrics",
    "min_group_size",
    "thresholds",
    "feature_thresholds",
    "bootstrap",
    "proxies",
    "mitigation",
    "on_fail",
    "report_folder",
)


DATASET_PARAMETERS = "conf/base/parameters_dataset.yml"


def _fail(key: str, problem: str) -> ConfigError:
    where = PARAMETERS
    if key.startswith("feature_thresholds"):  # written as dataset.fairness_criteria
        where += f" (dataset.fairness_criteria in {DATASET_PARAMETERS})"
    return ConfigError(f"fairness_review.{key} in {where} {problem}")


def _range_words(low: float, high: float) -> str:
    if high == float("inf"):
        return f"a number of at least {low:g}"
    return f"a number between {low:g} and {high:g}"


def _check_thresholds(thresholds: Any, key: str, problem: Problem) -> dict[str, float]:
    """Criteria of the problem type mapped to thresholds within each criterion's range."""
    if not isinstance(thresholds, dict):
        raise _fail(key, f"must map criteria to thresholds; it is {thresholds!r}.")
    known = problem.FAIRNESS_CRITERIA
    for name, value in thresholds.items():
        if name not in known:
            raise _fail(
                f"{key}.{name}",
                f"is not a criterion of a {problem.kind} problem (dataset.problem_type); use "
                f"{sorted(known)}.",
            )
        _, low, high = known[name]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not low <= value <= high:
            raise _fail(f"{key}.{name}", f"is {value!r}; give {_range_words(low, high)}.")
    return {name: float(value) for name, value in thresholds.items()}


def _check_metrics(metrics: Any, problem: Problem) -> list[str]:
    """The configured per-group metrics (null: the type's defaults), with the required ones."""
    if metrics is None:
        metrics = list(problem.FAIRNESS_DEFAULT_METRICS)
    known = problem.FAIRNESS_METRICS
    if not isinstance(metrics, list | tuple):
        raise _fail("metrics", f"must list metrics (or be null); it is {metrics!r}.")
    bad = [m for m in metrics if m not in known]
    if bad or not metrics:
        raise _fail(
            "metrics",
            f"has unknown metric(s) {bad} for a {problem.kind} problem (dataset.problem_type); "
            f"use any of {list(known)} (or null for the defaults).",
        )
    # the criteria are read from the required ones
    return [*dict.fromkeys([*problem.FAIRNESS_REQUIRED_METRICS, *metrics])]


def _check_mitigation(
    mitigation: dict[str, Any], features: dict[str, Any], problem: Problem
) -> dict[str, Any]:
    """The mitigation settings, with null method, constraint and sensitive feature resolved."""
    settings = dict(mitigation)
    if settings["sensitive_feature"] is None:
        settings["sensitive_feature"] = next(iter(features))
    if not settings["enabled"]:
        return settings
    methods = problem.FAIRNESS_MITIGATIONS
    method = settings["method"]
    if not methods:
        raise _fail(
            "mitigation.enabled",
            f"is true, but a {problem.kind} problem has no mitigation here "
            f"({_method_owners(method or 'threshold_optimizer')}); set it to false.",
        )
    method = method if method is not None else next(iter(methods))
    if method not in methods:
        raise _fail(
            "mitigation.method",
            f"is {method!r} ({_method_owners(method)}); a {problem.kind} problem can use "
            f"{list(methods)} (null: {next(iter(methods))}).",
        )
    constraint = settings["constraint"] or methods[method][0]
    if constraint not in methods[method]:
        raise _fail(
            "mitigation.constraint", f"must be one of {list(methods[method])} for {method}."
        )
    if settings["sensitive_feature"] not in features:
        raise _fail("mitigation.sensitive_feature", f"must be one of {sorted(features)} or null.")
    bound, max_iter = settings["bound"], settings["max_iter"]
    if not isinstance(bound, int | float) or isinstance(bound, bool) or bound <= 0:
        raise _fail("mitigation.bound", f"is {bound!r}; give a number above 0.")
    if not isinstance(max_iter, int) or isinstance(max_iter, bool) or max_iter < 1:
        raise _fail("mitigation.max_iter", f"is {max_iter!r}; give a whole number of at least 1.")
    return {**settings, "method": method, "constraint": constraint}


def _method_owners(method: str) -> str:
    """``threshold_optimizer is for binary problems only``, from the types that list it."""
    owners = [kind for kind, cls in PROBLEMS.items() if method in cls.FAIRNESS_MITIGATIONS]
    if not owners:
        return f"{method!r} is not a mitigation method"
    return f"{method} is for {' and '.join(owners)} problems only"


def _section(params: dict[str, Any], key: str, names: tuple[str, ...]) -> dict[str, Any]:
    """``params[key]``, a mapping with exactly the keys ``names``."""
    check_keys(params[key], names, f"fairness_review.{key}", PARAMETERS)
    return params[key]


def check_fairness_config(
    params: dict[str, Any], training: dict[str, Any], dataset: dict[str, Any]
) -> dict[str, Any]:
    """Check the fairness configuration before any data is read; return the review plan."""
    problem = problem_of(dataset)
    check_keys(params, _KEYS, "fairness_review", PARAMETERS)
    check_on_fail("fairness_review", params["on_fail"], PARAMETERS)
    features = params["sensitive_features"] or {}
    if not isinstance(features, dict) or not features:
        raise _fail("sensitive_features", "must name at least one column (name: {bins: ...}).")
    for name, spec in features.items():
        bins = (spec or {}).get("bins")
        if bins is not None and (len(bins) < 2 or any(a >= b for a, b in pairwise(bins))):
            raise _fail(f"sensitive_features.{name}.bins", f"must be increasing; it is {bins}.")
    intersections = [list(parts) for parts in params["intersections"] or []]
    for parts in intersections:
        if len(parts) < 2 or any(p not in features for p in parts):
            raise _fail("intersections", f"entry {parts} must list 2+ of {sorted(features)}.")
    metrics = _check_metrics(params["metrics"], problem)
    thresholds = (
        dict(problem.FAIRNESS_THRESHOLDS)
        if params["thresholds"] is None
        else _check_thresholds(params["thresholds"], "thresholds", problem)
    )
    feature_thresholds = {}
    for name, override in (params["feature_thresholds"] or {}).items():
        if name not in features and name not in {"_x_".join(p) for p in intersections}:
            raise _fail(f"feature_thresholds.{name}", "is not a sensitive feature or intersection.")
        feature_thresholds[name] = _check_thresholds(
            override or {}, f"feature_thresholds.{name}", problem
        )
    boot = _section(params, "bootstrap", ("n_boot", "confidence", "seed", "max_rows"))
    if int(boot["n_boot"]) < 0 or not 0 < float(boot["confidence"]) < 1:
        raise _fail("bootstrap", "needs n_boot >= 0 and 0 < confidence < 1.")
    proxies = _section(params, "proxies", ("threshold", "numeric_bins", "max_rows"))
    mitigation = _check_mitigation(
        _section(params, "mitigation", MITIGATION_KEYS), features, problem
    )
    numeric, categorical = feature_columns(training)
    return {
        "problem_type": problem.kind,
        "features": {name: dict(spec or {}) for name, spec in features.items()},
        "intersections": intersections,
        "metrics": metrics,
        "columns": problem.fairness_columns(metrics),
        "min_group_size": int(params["min_group_size"]),
        "thresholds": thresholds,
        "feature_thresholds": feature_thresholds,
        "rules": {name: rule for name, (rule, _, _) in problem.FAIRNESS_CRITERIA.items()},
        "bootstrap": {
            "n_boot": int(boot["n_boot"]),
            "confidence": float(boot["confidence"]),
            "seed": int(boot["seed"]),
            "max_rows": int(boot["max_rows"]),
        },
        "proxies": {
            "threshold": float(proxies["threshold"]),
            "numeric_bins": int(proxies["numeric_bins"]),
            "max_rows": int(proxies["max_rows"]),
        },
        "mitigation": mitigation,
        "on_fail": params["on_fail"],
        "report_folder": params["report_folder"],
        "target": training["target"],
        "decision_threshold": float(training["decision_threshold"]),
        "numeric": numeric,
        "categorical": categorical,
    }


def at_decision(plan: dict[str, Any], decision: dict[str, Any]) -> dict[str, Any]:
    """The plan deciding at the threshold chosen in training (``training.decision``)."""
    return {**plan, "decision_threshold": decision_threshold(decision)}
