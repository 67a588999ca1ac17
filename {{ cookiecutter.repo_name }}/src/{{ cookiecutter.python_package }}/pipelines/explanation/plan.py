"""The explanation's plan: its configuration, checked before any data is read.

Every default is in ``conf/base/parameters_explanation.yml``: a missing or unknown key is refused
here, so the code holds no second default.
"""

from typing import Any

from ...errors import ConfigError, check_keys
from ...problem import problem_of

PARAMETERS = "conf/base/parameters_explanation.yml"
KEYS = ("max_rows", "seed", "max_threads", "metric", "importance", "error_analysis")
IMPORTANCE_KEYS = ("n_repeats", "top_inputs", "grid_resolution")
ERROR_KEYS = (
    "max_depth",
    "min_rows",
    "residual_quantile",
    "max_categories",
    "confidence",
    "max_cohorts",
)


def _whole(value: Any, key: str, low: int, high: int | None = None) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
    if not ok or (high is not None and value > high):
        span = f"between {low} and {high}" if high is not None else f"of at least {low}"
        raise ConfigError(
            f"explanation.{key} in {PARAMETERS} is {value!r}; give a whole number {span}."
        )
    return value


def _fraction(value: Any, key: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < 1:
        raise ConfigError(
            f"explanation.{key} in {PARAMETERS} is {value!r}; give a number between 0 and 1."
        )
    return float(value)


def check_explanation_config(
    explanation: dict[str, Any], dataset: dict[str, Any]
) -> dict[str, Any]:
    """The explanation plan: rows, seed, metric (null: the problem type's primary metric),
    importance and error-analysis settings, each checked."""
    problem = problem_of(dataset)
    check_keys(explanation, KEYS, "explanation", PARAMETERS)
    check_keys(explanation["importance"], IMPORTANCE_KEYS, "explanation.importance", PARAMETERS)
    check_keys(explanation["error_analysis"], ERROR_KEYS, "explanation.error_analysis", PARAMETERS)
    metric = explanation["metric"] or problem.PRIMARY_METRIC
    problem.check_metrics([metric], "explanation.metric", PARAMETERS)
    importance, errors = explanation["importance"], explanation["error_analysis"]
    if not isinstance(explanation["seed"], int) or isinstance(explanation["seed"], bool):
        raise ConfigError(
            f"explanation.seed in {PARAMETERS} is {explanation['seed']!r}; give a whole number."
        )
    threads = explanation["max_threads"]
    return {
        "max_rows": _whole(explanation["max_rows"], "max_rows", 20),
        "seed": explanation["seed"],
        "max_threads": None if threads is None else _whole(threads, "max_threads", 1),
        "metric": metric,
        "greater_is_better": problem.greater_is_better(metric),
        "importance": {
            "n_repeats": _whole(importance["n_repeats"], "importance.n_repeats", 2),
            "top_inputs": _whole(importance["top_inputs"], "importance.top_inputs", 0, 10),
            "grid_resolution": _whole(
                importance["grid_resolution"], "importance.grid_resolution", 2
            ),
        },
        "error_analysis": {
            "max_depth": _whole(errors["max_depth"], "error_analysis.max_depth", 1, 3),
            "min_rows": _whole(errors["min_rows"], "error_analysis.min_rows", 5),
            "residual_quantile": _fraction(
                errors["residual_quantile"], "error_analysis.residual_quantile"
            ),
            "max_categories": _whole(errors["max_categories"], "error_analysis.max_categories", 1),
            "confidence": _fraction(errors["confidence"], "error_analysis.confidence"),
            "max_cohorts": _whole(errors["max_cohorts"], "error_analysis.max_cohorts", 1),
        },
    }
