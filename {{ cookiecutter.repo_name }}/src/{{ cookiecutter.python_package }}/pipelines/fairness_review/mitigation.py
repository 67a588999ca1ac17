"""Mitigation (report only): a fairlearn mitigation of the fitted model, before and after.

The methods a problem type can use are listed in ``problem/`` (``FAIRNESS_MITIGATIONS``):
``threshold_optimizer`` (fairlearn's ThresholdOptimizer on the fitted classifier's
probabilities: one decision threshold per group) for a binary target, ``exponentiated_gradient``
(fairlearn's ExponentiatedGradient with BoundedGroupLoss: the model refitted with reweighted rows
so that no group's squared error exceeds a bound) for a number. The model registered by promotion
stays the unmitigated one.
"""

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ...groups import sensitive_groups
from ...modelling import model_inputs
from ...problem import Problem, problem_of
from . import disparity
from .assessment import held_out_predictions
from .plan import at_decision

logger = logging.getLogger(__name__)


def _snapshot(  # noqa: PLR0917  (the labels, the decisions and how to judge them)
    problem: Problem,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    groups: dict[str, pd.Series],
    plan: dict[str, Any],
    reference: dict[str, float],
) -> dict[str, Any]:
    """The type's headline figures overall and by group, and the criteria of every feature
    (point estimates), of one set of decisions."""
    cells, n_cells, values = problem.fairness_cells(y_true, y_pred)
    everyone = np.zeros(len(cells), dtype=np.int64)
    overall = problem.fairness_rates(disparity.group_stats(cells, values, everyone, 1, n_cells))
    out: dict[str, Any] = {m: float(overall[m][0]) for m in problem.FAIRNESS_MITIGATION_OVERALL}
    out["features"] = {}
    for name, labels in groups.items():
        order = sorted(set(labels))
        codes = pd.Categorical(labels, categories=order).codes.astype(np.int64)
        rates = problem.fairness_rates(
            disparity.group_stats(cells, values, codes, len(order), n_cells)
        )
        judged = rates["count"] >= plan["min_group_size"]
        entry: dict[str, Any] = {
            metric: {g: float(rates[metric][i]) for i, g in enumerate(order) if judged[i]}
            for metric in problem.FAIRNESS_MITIGATION_BY_GROUP
        }
        if judged.sum() >= 2:
            values_ = problem.fairness_summary(
                {k: v[judged] for k, v in rates.items()}, plan["metrics"], reference
            )
            entry |= {c: float(values_[c]) for c in problem.FAIRNESS_CRITERIA}
        out["features"][name] = entry
    return out


def _threshold_optimizer(  # noqa: PLR0917
    trained_model: Any,
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    train_groups: np.ndarray,
    x_held_out: pd.DataFrame,
    held_out_groups: np.ndarray,
    settings: dict[str, Any],
) -> np.ndarray:
    """Group-specific decision thresholds on the fitted model's probabilities (``prefit``),
    chosen on the training rows so that the constraint holds; decisions on the held-out rows."""
    from fairlearn.postprocessing import ThresholdOptimizer

    optimizer = ThresholdOptimizer(
        estimator=trained_model,
        constraints=settings["constraint"],
        objective=settings["objective"],
        prefit=True,
        predict_method="predict_proba",
    )
    optimizer.fit(x_train, y_train, sensitive_features=train_groups)
    after = optimizer.predict(
        x_held_out, sensitive_features=held_out_groups, random_state=int(settings["seed"])
    )
    return np.asarray(after, dtype=np.int64)


def _exponentiated_gradient(  # noqa: PLR0917
    trained_model: Any,
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    train_groups: np.ndarray,
    x_held_out: pd.DataFrame,
    held_out_groups: np.ndarray,
    settings: dict[str, Any],
) -> np.ndarray:
    """The model refitted under fairlearn's BoundedGroupLoss: every group's mean squared error
    at most ``bound`` times the fitted model's overall one on the training rows; predictions of
    the randomised mixture on the held-out rows.

    The target is rescaled to 0-1 over its training range for the reduction (its Lagrange
    multipliers grow with the loss, so squared errors in the target's own unit overflow) and the
    predictions are scaled back.
    """
    from fairlearn.reductions import BoundedGroupLoss, ExponentiatedGradient, SquareLoss
    from sklearn.base import clone

    low = float(np.min(y_train))
    scale = float(np.max(y_train)) - low or 1.0
    y_scaled = (np.asarray(y_train, dtype="float64") - low) / scale
    loss = SquareLoss(0.0, 1.0)
    baseline = float(np.mean(loss.eval(y_scaled, (trained_model.predict(x_train) - low) / scale)))
    steps = getattr(trained_model, "steps", None)  # a Pipeline takes <last step>__sample_weight
    weight = f"{steps[-1][0]}__sample_weight" if steps else "sample_weight"
    mitigator = ExponentiatedGradient(
        clone(trained_model),
        constraints=BoundedGroupLoss(loss, upper_bound=float(settings["bound"]) * baseline),
        max_iter=int(settings["max_iter"]),
        sample_weight_name=weight,
    )
    with warnings.catch_warnings():  # fairlearn's own pandas deprecation warnings
        warnings.filterwarnings("ignore", module=r"fairlearn\.")
        mitigator.fit(x_train, pd.Series(y_scaled), sensitive_features=train_groups)
        after = mitigator.predict(x_held_out, random_state=int(settings["seed"]))
    return low + scale * np.asarray(after, dtype="float64")


METHODS = {
    "threshold_optimizer": _threshold_optimizer,
    "exponentiated_gradient": _exponentiated_gradient,
}


def mitigate(  # noqa: PLR0917  (a Kedro node: inputs come positionally)
    trained_model: Any,
    training_set: pd.DataFrame,
    held_out_set: pd.DataFrame,
    plan: dict[str, Any],
    decision: dict[str, Any],
    dataset: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Optionally mitigate the fitted model (``fairness_review.mitigation``) and report the
    type's figures and criteria before and after on the held-out rows.

    Both methods need the sensitive attribute at prediction time: whether that is lawful is a
    question for the ethics checklist.
    """
    plan = at_decision(plan, decision)
    settings = plan["mitigation"]
    if not settings.get("enabled"):
        return {"enabled": False}, {"metrics": {}}
    problem = problem_of(dataset)
    feature = settings["sensitive_feature"]
    train_groups = sensitive_groups(training_set, plan["features"], [])[feature]
    groups = sensitive_groups(held_out_set, plan["features"], plan["intersections"])
    y_true = problem.target_values(held_out_set, "held_out_set")
    before = held_out_predictions(problem, trained_model, held_out_set, plan, "held_out_set")
    after = METHODS[settings["method"]](
        trained_model,
        model_inputs(training_set, plan["numeric"], plan["categorical"]),
        problem.target_values(training_set, "training_set"),
        train_groups.to_numpy(),
        model_inputs(held_out_set, plan["numeric"], plan["categorical"]),
        groups[feature].to_numpy(),
        settings,
    )
    reference = problem.fairness_reference(y_true)
    report = {
        "enabled": True,
        "method": settings["method"],
        "constraint": settings["constraint"],
        "sensitive_feature": feature,
        "rows": len(y_true),
        "before": _snapshot(problem, y_true, before, groups, plan, reference),
        "after": _snapshot(problem, y_true, after, groups, plan, reference),
        "criteria": list(problem.FAIRNESS_THRESHOLDS),
    }
    metrics: dict[str, float] = {}
    for when in ("before", "after"):
        snapshot = report[when]
        for metric in problem.FAIRNESS_MITIGATION_OVERALL:
            metrics[f"mitigation.{when}.{metric}"] = snapshot[metric]
        for name, entry in snapshot["features"].items():
            for criterion in report["criteria"]:
                if criterion in entry and np.isfinite(entry[criterion]):
                    metrics[f"mitigation.{when}.{name}.{criterion}"] = entry[criterion]
    b, a = report["before"], report["after"]
    changes = [f"{m} {b[m]:.4f} -> {a[m]:.4f}" for m in problem.FAIRNESS_MITIGATION_OVERALL] + [
        f"{c} {b['features'][feature].get(c, np.nan):.3f} -> "
        f"{a['features'][feature].get(c, np.nan):.3f}"
        for c in report["criteria"]
    ]
    logger.info(
        "Mitigation (%s, %s on %s): %s",
        settings["method"],
        settings["constraint"],
        feature,
        "; ".join(changes),
    )
    return report, {"metrics": metrics}
