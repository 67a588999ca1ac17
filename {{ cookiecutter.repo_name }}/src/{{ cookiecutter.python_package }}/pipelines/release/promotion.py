"""Promotion: register the run's model with alias ``challenger`` when every gate of the run passed.

The verdicts are read back from the run's own tags (``gate.<name>``), so the decision is made on
what the run recorded; a gate that did not run (e.g. ``kedro run --pipeline fairness_review``)
keeps the model back like a failed one.
"""

import logging
from typing import Any

logger = logging.getLogger(__name__)


def blocking_gates(tags: dict[str, str], gates: list[str], allow_warn: bool) -> list[str]:
    """The gates that keep the model back, as ``gate.<name>=<verdict>`` (empty: promote)."""
    accepted = {"pass", "warn"} if allow_warn else {"pass"}
    blocked = []
    for gate in gates:
        verdict = tags.get(f"gate.{gate}")
        if verdict not in accepted:
            blocked.append(f"gate.{gate}={verdict or 'missing (the gate did not run)'}")
    return blocked


def promote(run_id: str, plan: dict[str, Any]) -> dict[str, Any]:
    """Register the model logged by run ``run_id`` and set its alias, if the gates allow it.

    Returns the run record: tags ``promotion.status`` (promoted / held_back) and
    ``promotion.reason``, and the registered version as metric ``promotion.model_version``.
    """
    import mlflow

    client = mlflow.MlflowClient()
    run = client.get_run(run_id)
    alias, name = plan["alias"], plan["registered_model_name"]
    blocked = blocking_gates(run.data.tags, plan["required_gates"], plan["allow_warn"])
    models = mlflow.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run_id}'",
        output_format="list",
    )
    # The run logs the scikit-learn model and the validating served model: register the former.
    trained = run.data.tags.get("training.model_uri")
    models = [m for m in models if trained in (None, f"models:/{m.model_id}")]
    if not models:
        blocked.append("no model was logged by this run")
    if blocked:
        reason = "kept back by " + ", ".join(blocked)
        logger.warning("Model not promoted: %s.", reason)
        return {
            "metrics": {},
            "tags": {
                "promotion.status": "held_back",
                "promotion.reason": reason,
                "promotion.ethics_holds": ", ".join(plan["ethics_holds"]) or "none",
                "promotion.required_gates": ", ".join(plan["required_gates"]),
            },
        }
    model = models[0]
    version = mlflow.register_model(
        f"models:/{model.model_id}",
        name,
        tags={
            "source_run_id": run_id,
            # What `mlflow models serve` serves for this version (docs/production.md).
            "serving_model_uri": run.data.tags.get("training.serving_model_uri", ""),
            **{k: v for k, v in run.data.tags.items() if k.startswith("gate.")},
            # The threshold it decides at (training.decision): inference reads it back.
            **{k: v for k, v in run.data.tags.items() if k.startswith("decision.")},
        },
    )
    client.set_registered_model_alias(name, alias, version.version)
    reason = f"every gate passed ({', '.join(plan['required_gates'])})"
    logger.info(
        "Model registered as %s version %s with alias %r: %s.", name, version.version, alias, reason
    )
    return {
        "metrics": {"model_version": int(version.version)},
        "tags": {
            "promotion.status": "promoted",
            "promotion.reason": reason,
            "promotion.registered_model": f"models:/{name}@{alias}",
            "promotion.ethics_holds": ", ".join(plan["ethics_holds"]) or "none",
            # What `kedro approve` checks again (with gate.champion) before the champion moves.
            "promotion.required_gates": ", ".join(plan["required_gates"]),
        },
    }


def promote_model(  # noqa: PLR0917  (this node's inputs: everything it must run after)
    model_card: str,
    fairness_verdict: str,
    benchmark_verdict: str,
    champion_verdict: str,
    validated_table: Any,
    mlflow_model: Any,
    plan: dict[str, Any],
) -> dict[str, Any]:
    """Register the run's model with the alias when every gate passed; else say which did not.

    Runs last: its inputs are the model card and the outputs of every gate and of the step
    that logs the model, so all verdicts are on the run when it reads them.
    """
    import mlflow

    run = mlflow.active_run()
    if run is None:
        logger.info("No active MLflow run: nothing to promote.")
        return {"metrics": {}, "tags": {}}
    return promote(run.info.run_id, plan)
