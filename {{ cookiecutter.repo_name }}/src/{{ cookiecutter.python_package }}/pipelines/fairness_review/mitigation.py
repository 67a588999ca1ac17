"""Mitigation: fairlearn's ThresholdOptimizer on the fitted model, before and after."""

import logging
from typing import Any

import numpy as np
import pandas as pd

from ...groups import sensitive_groups
from ...modelling import model_inputs, predicted_classes, target_values
from . import disparity

logger = logging.getLogger(__name__)


def _criteria_snapshot(
    y_true: np.ndarray, y_pred: np.ndarray, groups: dict[str, pd.Series], plan: dict[str, Any]
) -> dict[str, Any]:
    """Accuracy, selection rates by group and the criteria of every feature (point estimates)."""
    out: dict[str, Any] = {
        "accuracy": float((y_true == y_pred).mean()),
        "selection_rate": float(y_pred.mean()),
        "features": {},
    }
    for name, labels in groups.items():
        order = sorted(set(labels))
        codes = pd.Categorical(labels, categories=order).codes.astype(np.int64)
        rates = disparity._rates(disparity.confusion_cells(y_true, y_pred, codes, len(order)))
        judged = rates["count"] >= plan["min_group_size"]
        entry: dict[str, Any] = {
            "selection_rate": {
                g: float(rates["selection_rate"][i]) for i, g in enumerate(order) if judged[i]
            }
        }
        if judged.sum() >= 2:
            values = disparity.criteria_values({k: v[judged] for k, v in rates.items()})
            entry |= {c: float(values[c]) for c in disparity.CRITERIA}
        out["features"][name] = entry
    return out


def mitigate(
    trained_model: Any,
    training_set: pd.DataFrame,
    held_out_set: pd.DataFrame,
    plan: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Optionally wrap the model with fairlearn's ThresholdOptimizer and report before / after.

    The optimizer picks group-specific decision thresholds on the training rows (the model is
    already fitted: ``prefit``) so that the chosen constraint holds; the held-out rows show
    what that costs in accuracy and buys in disparity. It needs the sensitive attribute at
    prediction time: whether that is lawful is a question for the ethics checklist.
    """
    settings = plan["mitigation"]
    if not settings.get("enabled"):
        return {"enabled": False}, {"metrics": {}}
    from fairlearn.postprocessing import ThresholdOptimizer

    feature = settings["sensitive_feature"]
    seed = int(settings["seed"])
    train_groups = sensitive_groups(training_set, plan["features"], [])[feature]
    optimizer = ThresholdOptimizer(
        estimator=trained_model,
        constraints=settings["constraint"],
        objective=settings["objective"],
        prefit=True,
        predict_method="predict_proba",
    )
    optimizer.fit(
        model_inputs(training_set, plan["numeric"], plan["categorical"]),
        target_values(training_set, plan["target"], "training_set"),
        sensitive_features=train_groups.to_numpy(),
    )
    groups = sensitive_groups(held_out_set, plan["features"], plan["intersections"])
    y_true = target_values(held_out_set, plan["target"], "held_out_set")
    before = predicted_classes(trained_model, held_out_set, plan, "held_out_set")
    after = np.asarray(
        optimizer.predict(
            model_inputs(held_out_set, plan["numeric"], plan["categorical"]),
            sensitive_features=groups[feature].to_numpy(),
            random_state=seed,
        ),
        dtype=np.int64,
    )
    report = {
        "enabled": True,
        "method": settings["method"],
        "constraint": settings["constraint"],
        "sensitive_feature": feature,
        "rows": len(y_true),
        "before": _criteria_snapshot(y_true, before, groups, plan),
        "after": _criteria_snapshot(y_true, after, groups, plan),
    }
    metrics: dict[str, float] = {}
    for when in ("before", "after"):
        snapshot = report[when]
        metrics[f"mitigation.{when}.accuracy"] = snapshot["accuracy"]
        metrics[f"mitigation.{when}.selection_rate"] = snapshot["selection_rate"]
        for name, entry in snapshot["features"].items():
            for criterion in ("demographic_parity_ratio", "equalized_odds_difference"):
                if criterion in entry:
                    metrics[f"mitigation.{when}.{name}.{criterion}"] = entry[criterion]
    b, a = report["before"]["features"][feature], report["after"]["features"][feature]
    logger.info(
        "Mitigation (%s, %s on %s): accuracy %.4f -> %.4f; DP ratio %.3f -> %.3f; "
        "EO difference %.3f -> %.3f",
        settings["method"],
        settings["constraint"],
        feature,
        report["before"]["accuracy"],
        report["after"]["accuracy"],
        b.get("demographic_parity_ratio", np.nan),
        a.get("demographic_parity_ratio", np.nan),
        b.get("equalized_odds_difference", np.nan),
        a.get("equalized_odds_difference", np.nan),
    )
    return report, {"metrics": metrics}
