"""The release plan: the promotion settings and the ethics checklist, checked before any data
is read. Every default is in the parameter files; a missing key is refused here."""

from typing import Any

from ...errors import ConfigError, check_keys

PROMOTION = "conf/base/parameters_release.yml"
ETHICS = "conf/base/parameters_ethics.yml"
STATUSES = ("open", "answered", "not_applicable")
RISKS = ("low", "medium", "high")  # an open item of high risk holds every model back
PROMOTION_KEYS = ("registered_model_name", "alias", "required_gates", "allow_warn", "champion")
CHAMPION_KEYS = ("alias", "margin", "confidence", "bootstrap_repeats", "seed")
GATES = ("validation", "benchmark", "fairness", "champion")


def check_ethics_checklist(checklist: dict[str, Any]) -> list[dict[str, Any]]:
    """The checklist items; each needs a question, an owner, a known status and a risk level."""
    items = (checklist or {}).get("items") or {}
    if not items:
        raise ConfigError(f"ethics_checklist.items in {ETHICS} is empty; list the questions.")
    out = []
    for key, item in items.items():
        where = f"ethics_checklist.items.{key} in {ETHICS}"
        missing = [k for k in ("question", "owner", "status", "risk") if not (item or {}).get(k)]
        if missing:
            raise ConfigError(f"{where} has no {', '.join(missing)}.")
        if item["status"] not in STATUSES:
            raise ConfigError(f"{where}: status {item['status']!r} is not one of {list(STATUSES)}.")
        if item["risk"] not in RISKS:
            raise ConfigError(f"{where}: risk {item['risk']!r} is not one of {list(RISKS)}.")
        if item["status"] == "answered" and not str(item.get("answer") or "").strip():
            raise ConfigError(f"{where} is 'answered' but has no answer.")
        out.append({"id": key, **item})
    return out


def check_champion(champion: dict[str, Any], challenger_alias: str) -> dict[str, Any]:
    """The challenger-against-champion settings: alias, margin, interval, bootstrap."""
    check_keys(champion, CHAMPION_KEYS, "promotion.champion", PROMOTION)
    where = f"in {PROMOTION}"
    if not str(champion["alias"] or "").strip() or champion["alias"] == challenger_alias:
        raise ConfigError(
            f"promotion.champion.alias {where} must be a name other than promotion.alias."
        )
    if not 0 < float(champion["confidence"]) < 1:
        raise ConfigError(f"promotion.champion.confidence {where} must be between 0 and 1.")
    if int(champion["bootstrap_repeats"]) < 1:
        raise ConfigError(f"promotion.champion.bootstrap_repeats {where} must be at least 1.")
    return {
        "alias": str(champion["alias"]),
        "margin": float(champion["margin"]),
        "confidence": float(champion["confidence"]),
        "bootstrap_repeats": int(champion["bootstrap_repeats"]),
        "seed": int(champion["seed"]),
    }


def check_release_config(
    promotion: dict[str, Any], ethics_checklist: dict[str, Any]
) -> dict[str, Any]:
    """The release plan: who the model is registered as, which gates it needs, the checklist."""
    check_keys(promotion, PROMOTION_KEYS, "promotion", PROMOTION)
    if not str(promotion["registered_model_name"] or "").strip():
        raise ConfigError(f"promotion.registered_model_name in {PROMOTION} is empty.")
    gates = list(promotion["required_gates"] or [])
    bad = [gate for gate in gates if gate not in GATES]
    if bad:
        raise ConfigError(
            f"promotion.required_gates in {PROMOTION} names {bad}; the gates are {list(GATES)}."
        )
    champion = check_champion(promotion["champion"], str(promotion["alias"]))
    items = check_ethics_checklist(ethics_checklist)
    return {
        "registered_model_name": str(promotion["registered_model_name"]),
        "alias": str(promotion["alias"]),
        "required_gates": gates,
        "allow_warn": bool(promotion["allow_warn"]),
        "champion": champion,
        "ethics_items": items,
        # Open items of high risk: while any is open, no model of the project may be approved.
        "ethics_holds": [i["id"] for i in items if i["status"] == "open" and i["risk"] == "high"],
    }
