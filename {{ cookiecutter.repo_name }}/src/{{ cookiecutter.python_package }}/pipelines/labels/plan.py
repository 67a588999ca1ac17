"""The labels plan: its configuration, checked before any data is read.

Every default is in ``conf/base/parameters_labels.yml`` (most of it refers to
``parameters_monitoring.yml``): a missing key is refused here, so the code holds no second default.
"""

from typing import Any

from ...columns import ROW_POSITION
from ...errors import ConfigError, check_keys
from ...gates import check_on_fail
from ...problem import problem_of

PARAMETERS_FILE = "conf/base/parameters_labels.yml"
KEYS = (
    "batch",
    "experiment",
    "id_column",
    "target",
    "performance_drop",
    "reference_run_id",
    "sensitive_features",
    "min_group_size",
    "alert_on",
    "alert_recipients",
    "alert_webhook_url",
    "webhook_timeout_s",
    "on_fail",
    "report_folder",
)


def check_labels_config(params: dict[str, Any], dataset: dict[str, Any]) -> dict[str, Any]:
    """Refuse a bad labels configuration before any data is read; return the plan."""
    problem = problem_of(dataset)
    check_keys(params, KEYS, "labels", PARAMETERS_FILE)
    check_on_fail("labels", params["on_fail"], PARAMETERS_FILE)
    target = params["target"] or {}
    if not isinstance(target, dict) or not target.get("column"):
        raise ConfigError(f"labels.target in {PARAMETERS_FILE} must name the target column.")
    drops = problem.performance_drops(
        params["performance_drop"], "labels.performance_drop", PARAMETERS_FILE
    )
    if params["alert_on"] not in ("warn", "fail"):
        raise ConfigError(f"labels.alert_on in {PARAMETERS_FILE} must be warn or fail.")
    url = params["alert_webhook_url"]
    if url and not str(url).startswith(("http://", "https://")):
        raise ConfigError(
            f"labels.alert_webhook_url in {PARAMETERS_FILE} is {url!r}; give an http(s) URL."
        )
    return {
        **params,
        "batch": str(params["batch"]),
        "id_column": params["id_column"] or ROW_POSITION,
        "target": dict(target),
        "dataset": problem.dataset,
        "performance_drop": drops,
        "sensitive_features": dict(params["sensitive_features"] or {}),
        "alert_recipients": list(params["alert_recipients"] or []),
    }
