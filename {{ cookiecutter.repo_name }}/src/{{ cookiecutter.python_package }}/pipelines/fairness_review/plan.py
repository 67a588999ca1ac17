"""The fairness review's plan: its configuration, checked before any data is read.

Every default is in ``conf/base/parameters_fairness_review.yml``: a missing key is refused here,
so the code holds no second default that could disagree with the file.
"""

from itertools import pairwise
from typing import Any

from ...errors import ConfigError, check_keys
from ...gates import check_on_fail
from ...modelling import feature_columns
from ...wording import outcome_words
from . import disparity

PARAMETERS = "conf/base/parameters_fairness_review.yml"


MITIGATION_KEYS = ("enabled", "method", "constraint", "sensitive_feature", "objective", "seed")
MITIGATION_METHODS = ("threshold_optimizer",)


MITIGATION_CONSTRAINTS = (
    "demographic_parity",
    "equalized_odds",
    "true_positive_rate_parity",
    "false_positive_rate_parity",
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
    "target",
)


def _fail(key: str, problem: str) -> ConfigError:
    return ConfigError(f"fairness_review.{key} in {PARAMETERS} {problem}")


def _check_thresholds(thresholds: Any, key: str) -> dict[str, float]:
    if not isinstance(thresholds, dict):
        raise _fail(key, f"must map criteria to thresholds; it is {thresholds!r}.")
    for name, value in thresholds.items():
        if name not in disparity.CRITERIA:
            raise _fail(f"{key}.{name}", f"is not a criterion; use {sorted(disparity.CRITERIA)}.")
        if not isinstance(value, int | float) or not 0 <= value <= 1:
            raise _fail(f"{key}.{name}", f"is {value!r}; give a number between 0 and 1.")
    return {name: float(value) for name, value in thresholds.items()}


def _section(params: dict[str, Any], key: str, names: tuple[str, ...]) -> dict[str, Any]:
    """``params[key]``, a mapping with exactly the keys ``names``."""
    check_keys(params[key], names, f"fairness_review.{key}", PARAMETERS)
    return params[key]


def check_fairness_config(  # noqa: PLR0912  (one check per key, each naming it)
    params: dict[str, Any], training: dict[str, Any]
) -> dict[str, Any]:
    """Check the fairness configuration before any data is read; return the review plan."""
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
    metrics = list(params["metrics"] or [])
    bad = [m for m in metrics if m not in disparity.METRICS]
    if bad or not metrics:
        raise _fail("metrics", f"has unknown metric(s) {bad}; use any of {disparity.METRICS}.")
    needed = ["count", "selection_rate", "true_positive_rate", "false_positive_rate"]
    metrics = [*dict.fromkeys([*needed, *metrics])]  # the criteria need these four
    thresholds = _check_thresholds(params["thresholds"] or {}, "thresholds")
    feature_thresholds = {}
    for name, override in (params["feature_thresholds"] or {}).items():
        if name not in features and name not in {"_x_".join(p) for p in intersections}:
            raise _fail(f"feature_thresholds.{name}", "is not a sensitive feature or intersection.")
        feature_thresholds[name] = _check_thresholds(override or {}, f"feature_thresholds.{name}")
    boot = _section(params, "bootstrap", ("n_boot", "confidence", "seed", "max_rows"))
    if int(boot["n_boot"]) < 0 or not 0 < float(boot["confidence"]) < 1:
        raise _fail("bootstrap", "needs n_boot >= 0 and 0 < confidence < 1.")
    proxies = _section(params, "proxies", ("threshold", "numeric_bins", "max_rows"))
    mitigation = _section(params, "mitigation", MITIGATION_KEYS)
    if mitigation["enabled"]:
        if mitigation["method"] not in MITIGATION_METHODS:
            raise _fail("mitigation.method", f"must be one of {list(MITIGATION_METHODS)}.")
        if mitigation["constraint"] not in MITIGATION_CONSTRAINTS:
            raise _fail("mitigation.constraint", f"must be one of {list(MITIGATION_CONSTRAINTS)}.")
        if mitigation["sensitive_feature"] not in features:
            raise _fail("mitigation.sensitive_feature", f"must be one of {sorted(features)}.")
    numeric, categorical = feature_columns(training)
    return {
        "features": {name: dict(spec or {}) for name, spec in features.items()},
        "intersections": intersections,
        "metrics": metrics,
        "min_group_size": int(params["min_group_size"]),
        "thresholds": thresholds,
        "feature_thresholds": feature_thresholds,
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
        "mitigation": dict(mitigation),
        "on_fail": params["on_fail"],
        "report_folder": params["report_folder"],
        "target": training["target"],
        "outcome": outcome_words(params["target"]),
        "decision_threshold": float(training["decision_threshold"]),
        "numeric": numeric,
        "categorical": categorical,
    }
