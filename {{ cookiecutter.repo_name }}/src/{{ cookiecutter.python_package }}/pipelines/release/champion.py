"""Challenger against champion: the run's model and the approved one on the same held-out rows.

When the registry has a version with the champion alias (``promotion.champion.alias``, moved
only by ``kedro approve`` / ``kedro rollback``), both models score this run's held-out set and
a paired bootstrap of the rows gives the difference of the problem type's primary metric
(challenger better: positive). Tag ``gate.champion`` is ``pass`` when the lower bound of its
one-sided interval (``confidence``) is at least ``-margin``: the challenger is not worse than
the champion by more than the margin. Without a champion the gate passes, with a note saying so.
"""

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ...decision import decision_threshold
from ...modelling import checked_model_inputs, feature_columns, model_inputs
from ...problem import problem_of

logger = logging.getLogger(__name__)


def paired_bootstrap(
    y: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray,
    metric: Callable[[np.ndarray, np.ndarray], float],
    *,
    repeats: int,
    seed: int,
) -> np.ndarray:
    """``metric(challenger) - metric(champion)`` on ``repeats`` resamples of the same rows.

    Both models are scored on the same resampled rows each time (paired). A resample on which
    the metric is undefined (e.g. one class only) gives NaN.
    """
    y, challenger, champion = np.asarray(y), np.asarray(challenger), np.asarray(champion)
    if not len(y) == len(challenger) == len(champion):
        raise ValueError("paired_bootstrap needs the same rows for both models and the labels")
    rng = np.random.default_rng(seed)
    differences = np.full(repeats, np.nan)
    for i in range(repeats):
        rows = rng.integers(0, len(y), len(y))
        try:
            differences[i] = metric(y[rows], challenger[rows]) - metric(y[rows], champion[rows])
        except ValueError:
            continue
    return differences


def champion_verdict(
    differences: np.ndarray, greater_is_better: bool, margin: float, confidence: float
) -> tuple[str, float]:
    """``(verdict, lower bound)`` of the improvement (challenger better: positive)."""
    improvement = differences if greater_is_better else -differences
    improvement = improvement[~np.isnan(improvement)]
    if not len(improvement):
        return "fail", float("nan")
    low = float(np.quantile(improvement, 1 - confidence))
    return ("pass" if low >= -margin else "fail"), low


def _champion_version(name: str, alias: str) -> Any:
    """The registered version with the champion alias, or None."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return mlflow.MlflowClient().get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def _inputs_of(
    model: Any, frame: pd.DataFrame, inputs: pd.DataFrame, training: dict[str, Any]
) -> tuple[pd.DataFrame | None, list[str]]:
    """``frame`` as ``model`` reads it: the columns it was fitted on, which differ from today's
    inputs when the champion was trained on other features; None and the columns ``frame``
    lacks when it cannot be scored."""
    wanted = [str(c) for c in getattr(model, "feature_names_in_", inputs.columns)]
    if wanted == list(inputs.columns):
        return inputs, []
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        return None, missing
    numeric_now, categorical_now = feature_columns(training)
    numeric = [
        c
        for c in wanted
        if c in numeric_now
        or (c not in categorical_now and pd.api.types.is_numeric_dtype(frame[c]))
    ]
    categorical = [c for c in wanted if c not in numeric]
    return model_inputs(frame, numeric, categorical)[wanted], []


def _record(verdict: str, note: str, metrics: dict[str, float]) -> dict[str, Any]:
    return {"metrics": metrics, "tags": {"gate.champion": verdict, "champion.note": note}}


def compare_with_champion(  # noqa: PLR0917  (a Kedro node: inputs come positionally)
    trained_model: Any,
    held_out_set: pd.DataFrame,
    decision: dict[str, Any],
    training: dict[str, Any],
    dataset: dict[str, Any],
    plan: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The run record (``champion.*``, tag ``gate.champion``), the comparison and the verdict."""
    import mlflow

    settings = plan["champion"]
    name, alias = plan["registered_model_name"], settings["alias"]
    problem = problem_of(dataset)
    primary = problem.PRIMARY_METRIC
    comparison: dict[str, Any] = {
        "registered_model": name,
        "alias": alias,
        "primary_metric": primary,
        "greater_is_better": problem.greater_is_better(primary),
        "margin": settings["margin"],
        "confidence": settings["confidence"],
        "bootstrap_repeats": settings["bootstrap_repeats"],
        "seed": settings["seed"],
    }
    version = _champion_version(name, alias)
    if version is None:
        note = f"no champion: no version of {name} has the alias {alias!r} yet"
        logger.info("Champion gate: pass (%s).", note)
        comparison |= {"verdict": "pass", "note": note}
        return _record("pass", note, {}), comparison, "pass"

    champion_model = mlflow.sklearn.load_model(f"models:/{name}/{version.version}")
    y = problem.target_values(held_out_set, "held_out_set")
    threshold = decision_threshold(decision)  # the run's chosen threshold, for both models
    inputs, _, _ = checked_model_inputs(held_out_set, training, "held_out_set")
    champion_inputs, missing = _inputs_of(champion_model, held_out_set, inputs, training)
    if champion_inputs is None:
        note = (
            f"champion version {version.version} reads columns the held-out rows lack "
            f"({', '.join(missing)}): it cannot be scored on the same rows, so the challenger "
            "cannot be shown not to be worse"
        )
        logger.warning("Champion gate: fail (%s).", note)
        comparison |= {"verdict": "fail", "note": note, "missing_columns": missing}
        return _record("fail", note, {"version": float(version.version)}), comparison, "fail"
    scored = {
        "challenger": problem.predict(trained_model, inputs),
        "champion": problem.predict(champion_model, champion_inputs),
    }

    def metric(labels: np.ndarray, prediction: np.ndarray) -> float:
        return problem.score([primary], labels, prediction, threshold)[primary]

    differences = paired_bootstrap(
        y,
        scored["challenger"],
        scored["champion"],
        metric,
        repeats=int(settings["bootstrap_repeats"]),
        seed=int(settings["seed"]),
    )
    verdict, low = champion_verdict(
        differences,
        problem.greater_is_better(primary),
        float(settings["margin"]),
        float(settings["confidence"]),
    )
    challenger_value, champion_value = (
        metric(y, scored["challenger"]),
        metric(y, scored["champion"]),
    )
    note = (
        f"challenger against champion version {version.version} (run {version.run_id}) on "
        f"{len(y)} held-out rows: {primary} {challenger_value:.4f} vs {champion_value:.4f}"
    )
    metrics = {
        "version": float(version.version),
        f"{primary}": champion_value,
        f"challenger_{primary}": challenger_value,
        f"{primary}_difference": challenger_value - champion_value,
        "improvement_low": low,
        "margin": float(settings["margin"]),
    }
    comparison |= {
        "verdict": verdict,
        "note": note,
        "champion_version": str(version.version),
        "champion_run_id": version.run_id,
        "rows": len(y),
        "challenger": challenger_value,
        "champion": champion_value,
        "difference": challenger_value - champion_value,
        "improvement_low": low,
        "resamples_used": int(np.sum(~np.isnan(differences))),
    }
    logger.info("Champion gate: %s (%s; improvement lower bound %.4f).", verdict, note, low)
    return _record(verdict, note, metrics), comparison, verdict


def champion_section(comparison: dict[str, Any]) -> str:
    """The model card's section on the comparison with the champion."""
    if "champion_version" not in comparison:
        return f"Verdict **{comparison['verdict']}**: {comparison['note']}."
    better = "higher" if comparison["greater_is_better"] else "lower"
    return (
        f"Verdict **{comparison['verdict']}** against champion version "
        f"{comparison['champion_version']} (`models:/{comparison['registered_model']}@"
        f"{comparison['alias']}`, run `{comparison['champion_run_id']}`), both scored on this "
        f"run's {comparison['rows']} held-out rows. {comparison['primary_metric']} ({better} is "
        f"better): challenger {comparison['challenger']:.4f}, champion "
        f"{comparison['champion']:.4f}, difference {comparison['difference']:+.4f}. Paired "
        f"bootstrap ({comparison['bootstrap_repeats']} resamples of the rows, seed "
        f"{comparison['seed']}): the improvement's one-sided {comparison['confidence']:.0%} lower "
        f"bound is {comparison['improvement_low']:+.4f}; the gate passes when it is at least "
        f"-{comparison['margin']} (promotion.champion.margin)."
    )
