"""The monitoring plan: its configuration, checked before any data is read.

Every default is in ``conf/base/parameters_monitoring.yml``: a missing key is refused here, so
the code holds no second default that could disagree with the file.
"""

from typing import Any

from ...errors import ConfigError, check_keys
from ...gates import check_on_fail
from ...problem import problem_of

PARAMETERS_FILE = "conf/base/parameters_monitoring.yml"
KEYS = (
    "batch",
    "batch_number",
    "reference_max_rows",
    "seed",
    "psi_bins",
    "thresholds",
    "sensitive_features",
    "min_group_size",
    "reference_run_id",
    "alert_on",
    "alert_recipients",
    "alert_webhook_url",
    "webhook_timeout_s",
    "on_fail",
    "report_folder",
    "dashboard_top_features",
)


def check_monitoring_config(params: dict[str, Any], dataset: dict[str, Any]) -> dict[str, Any]:
    """Refuse a bad monitoring configuration before any data is read; return the plan.

    ``dataset`` is the ``dataset`` section: its problem type says which metrics
    ``thresholds.performance_drop`` may name (null: the type's default) and which threshold
    judges the group drift (``problem.GROUP_DRIFT_THRESHOLD``).
    """
    problem = problem_of(dataset)
    check_keys(params, KEYS, "monitoring", PARAMETERS_FILE)
    check_on_fail("monitoring", params["on_fail"], PARAMETERS_FILE)
    thresholds = params["thresholds"] or {}
    for key in ("p_value", problem.GROUP_DRIFT_THRESHOLD):
        if key not in thresholds:
            raise ConfigError(f"monitoring.thresholds.{key} in {PARAMETERS_FILE} is missing.")
    for key in ("feature_psi", "prediction_psi"):
        levels = thresholds.get(key) or {}
        if not {"warn", "fail"} <= set(levels) or not levels["warn"] <= levels["fail"]:
            raise ConfigError(
                f"monitoring.thresholds.{key} in {PARAMETERS_FILE} needs warn <= fail, "
                f"e.g. warn: 0.1, fail: 0.25; it is {levels!r}."
            )
    drops = problem.performance_drops(
        thresholds.get("performance_drop"),
        "monitoring.thresholds.performance_drop",
        PARAMETERS_FILE,
    )
    if params["alert_on"] not in ("warn", "fail"):
        raise ConfigError(f"monitoring.alert_on in {PARAMETERS_FILE} must be warn or fail.")
    url = params["alert_webhook_url"]
    if url and not str(url).startswith(("http://", "https://")):
        raise ConfigError(
            f"monitoring.alert_webhook_url in {PARAMETERS_FILE} is {url!r}; give an http(s) URL."
        )
    plan = dict(params)
    plan["thresholds"] = {"performance_drop": drops, **thresholds}
    plan["thresholds"]["performance_drop"] = drops  # null in the file: the type's default
    plan["dataset"] = problem.dataset
    plan["sensitive_features"] = dict(params["sensitive_features"] or {})
    plan["alert_recipients"] = list(params["alert_recipients"] or [])
    return plan
