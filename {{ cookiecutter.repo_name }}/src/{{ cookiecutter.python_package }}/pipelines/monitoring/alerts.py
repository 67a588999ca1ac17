"""Alerts: when a batch crosses a threshold, log it, keep the alert record, POST it to a webhook."""

import json
import logging
import urllib.request
from typing import Any

from ...gates import gate_tags
from ...problem import problem_of
from .assessment import judge, monitoring_metrics

logger = logging.getLogger(__name__)


def post_json(url: str, payload: dict[str, Any], timeout: float) -> int:
    """POST ``payload`` as JSON; the HTTP status code."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, default=str).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(response.status)


def deliver_alert(record: dict[str, Any], plan: dict[str, Any]) -> None:
    """POST the alert record to the plan's webhook, if one is set; note how delivery went."""
    url = plan["alert_webhook_url"]
    if not url:
        return
    try:
        status = post_json(url, record, float(plan["webhook_timeout_s"]))
        record["webhook"]["status"] = f"sent (HTTP {status})"
    except Exception as error:
        record["webhook"]["status"] = f"failed: {type(error).__name__}: {error}"
        logger.error("Alert webhook %s failed: %s", url, error)


def raise_alert(
    assessment: dict[str, Any], plan: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The alert record; when thresholds are crossed, log it and POST it to the webhook.

    A webhook that cannot be reached is logged, never fatal: the alert record and the MLflow
    run keep the alert.
    """
    alert = judge(assessment, plan)
    alert["webhook"] = {"url": plan["alert_webhook_url"] or None, "status": "not sent"}
    if alert["alert"]:
        logger.warning(
            "MONITORING ALERT for batch %r (model %s), verdict %s:\n  - %s\nReport: %s",
            alert["batch"],
            alert["model_uri"],
            alert["verdict"],
            "\n  - ".join(alert["reasons"] + alert["warnings"]),
            alert["report"],
        )
        deliver_alert(alert, plan)
    else:
        logger.info("Monitoring of batch %r: %s, no alert.", alert["batch"], alert["verdict"])
    record = {
        "metrics": monitoring_metrics(assessment, problem_of(plan["dataset"])),
        "tags": {**gate_tags("monitoring", alert["verdict"]), "monitoring.alert": alert["alert"]},
    }
    return alert, record
