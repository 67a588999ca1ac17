"""Approval: a person moves the champion alias (``kedro approve``, ``kedro rollback``).

``approve`` moves the champion alias (``promotion.champion.alias``) to a registered version
only when its run passed its gates (the gates promotion required, recorded on the run as
``promotion.required_gates``, and ``gate.champion``) and no ethics item of high risk is open
(on the run, tag ``promotion.ethics_holds``, or in today's ``parameters_ethics.yml``).
``rollback`` moves it back to the champion before the current one. Both record who, when, why
and the run as tags ``approval.*`` on the version that becomes the champion.
"""

from datetime import UTC, datetime
from typing import Any

from .errors import ProjectError


class ApprovalRefused(ProjectError):
    """The champion alias was not moved; the message says what is missing."""


def _version(client: Any, name: str, version: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version(name, str(version))
    except MlflowException:
        raise ApprovalRefused(f"version {version} of registered model {name} not found") from None


def _champion(client: Any, name: str, alias: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def missing_for_approval(run_tags: dict[str, str], plan: dict[str, Any]) -> list[str]:
    """What keeps a version's run from approval (empty: it may be approved)."""
    accepted = {"pass", "warn"} if plan["allow_warn"] else {"pass"}
    recorded = run_tags.get("promotion.required_gates")
    gates = [g.strip() for g in recorded.split(",")] if recorded else plan["required_gates"]
    missing = []
    for gate in dict.fromkeys([*gates, "champion"]):
        verdict = run_tags.get(f"gate.{gate}")
        if verdict not in accepted:
            missing.append(f"gate.{gate}={verdict or 'missing'}")
    recorded_holds = run_tags.get("promotion.ethics_holds", "none")
    holds = [h.strip() for h in recorded_holds.split(",") if h.strip() not in ("", "none")]
    holds = list(dict.fromkeys([*holds, *plan["ethics_holds"]]))
    if holds:
        missing.append(f"open ethics item(s) of high risk: {', '.join(holds)}")
    return missing


def _record(client: Any, version: Any, action: str, by: str, note: str, **extra: str) -> None:
    """Tags ``approval.*`` on the version that becomes the champion: who, when, why, which run."""
    tags = {
        "approval.action": action,
        "approval.by": by,
        "approval.at": datetime.now(UTC).isoformat(timespec="seconds"),
        "approval.note": note,
        "approval.run_id": version.run_id or "",
        **extra,
    }
    for key, value in tags.items():
        client.set_model_version_tag(version.name, version.version, key, value)


def approve(client: Any, plan: dict[str, Any], version: str, by: str, note: str) -> Any:
    """Move the champion alias to ``version`` if it may be approved; else ApprovalRefused."""
    name, alias = plan["registered_model_name"], plan["champion"]["alias"]
    chosen = _version(client, name, version)
    where = f"version {chosen.version} of {name}"
    current = _champion(client, name, alias)
    if current is not None and str(current.version) == str(chosen.version):
        raise ApprovalRefused(f"{where} is already the {alias}")
    missing = missing_for_approval(client.get_run(chosen.run_id).data.tags, plan)
    if missing:
        raise ApprovalRefused(f"{where} cannot be approved: {'; '.join(missing)}")
    previous = str(current.version) if current is not None else "none"
    _record(client, chosen, "approve", by, note, **{"approval.previous": previous})
    client.set_registered_model_alias(name, alias, chosen.version)
    return chosen


def rollback(client: Any, plan: dict[str, Any], by: str, note: str) -> Any:
    """Move the champion alias back to the version it had before the current champion."""
    name, alias = plan["registered_model_name"], plan["champion"]["alias"]
    current = _champion(client, name, alias)
    if current is None:
        raise ApprovalRefused(f"registered model {name} has no {alias} to roll back")
    previous = current.tags.get("approval.previous", "none")
    if previous == "none":
        raise ApprovalRefused(
            f"version {current.version} of {name} was the first {alias}: no earlier one"
        )
    target = _version(client, name, previous)
    # The target keeps its own approval.previous: a second rollback goes one further back.
    _record(
        client, target, "rollback", by, note, **{"approval.rolled_back_from": str(current.version)}
    )
    client.set_registered_model_alias(name, alias, target.version)
    return target
