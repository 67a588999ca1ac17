"""What a decision is worth: the threshold ``training.decision`` chooses, and its held-out value.

The threshold is chosen on the TRAINING rows from out-of-fold probabilities (each row scored by
a model fitted without it), never on the held-out rows; the held-out rows then say what deciding
at it is worth, with an interval, against the benchmark's baselines and against acting on every
case or on none. What a threshold and a value are is the problem type's (``problem/``): only a
type that decides by a threshold on a score (binary) chooses one; the others keep their
prediction as the decision and report no value.
"""

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from .errors import ConfigError, check_keys
from .modelling import (
    TRAINING_PARAMETERS,
    build_estimator,
    build_model,
    checked_model_inputs,
    seeded_sample,
    thread_limit,
)
from .problem import problem_of
from .reporting import markdown_table

logger = logging.getLogger(__name__)

RULES = ("fixed", "value", "capacity")
DECISION_KEYS = (
    "choose",
    "values",
    "unit",
    "capacity",
    "folds",
    "max_rows",
    "seed",
    "calibration",
    "bootstrap_repeats",
    "confidence",
    "max_threads",
)
OUTCOMES = ("true_positive", "false_positive", "true_negative", "false_negative")
CALIBRATIONS = (None, "sigmoid", "isotonic")


def _fail(key: str, message: str) -> ConfigError:
    return ConfigError(f"training.decision.{key} in {TRAINING_PARAMETERS} {message}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)


def _whole(value: Any, key: str, least: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise _fail(key, f"is {value!r}; give a whole number of at least {least}.")
    return value


def _checked_values(values: Any, choose: str) -> dict[str, float] | None:
    """``training.decision.values``: a number for each outcome, or null (not with ``value``)."""
    if values is None:
        if choose == "value":
            raise _fail("values", "is empty; choose: value needs the value of each outcome.")
        return None
    if not isinstance(values, dict):
        raise _fail("values", f"must be a mapping of {list(OUTCOMES)} to numbers.")
    check_keys(values, OUTCOMES, "training.decision.values", TRAINING_PARAMETERS)
    for outcome in OUTCOMES:
        if not _is_number(values[outcome]):
            raise _fail(f"values.{outcome}", f"is {values[outcome]!r}; give a number.")
    if len(set(values.values())) == 1:
        raise _fail("values", "gives every outcome the same value: nothing to choose by.")
    return {k: float(values[k]) for k in OUTCOMES}


def check_decision_config(params: dict[str, Any]) -> dict[str, Any]:
    """``training.decision`` checked, with the fixed threshold (``training.decision_threshold``).

    No ``decision`` section (a configuration from before it existed): the fixed threshold.
    """
    fixed = params["decision_threshold"]
    if not _is_number(fixed) or not 0 < fixed < 1:
        raise ConfigError(
            f"training.decision_threshold in {TRAINING_PARAMETERS} is {fixed!r}; give a "
            "probability strictly between 0 and 1 (e.g. 0.5)."
        )
    settings = params.get("decision")
    if settings is None:
        return {
            "choose": "fixed",
            "threshold": float(fixed),
            "values": None,
            "unit": "",
            "capacity": None,
            "folds": None,
            "max_rows": None,
            "seed": 0,
            "calibration": None,
            "bootstrap_repeats": 0,
            "confidence": 0.95,
            "max_threads": None,
        }
    check_keys(settings, DECISION_KEYS, "training.decision", TRAINING_PARAMETERS)
    choose = settings["choose"]
    if choose not in RULES:
        raise _fail("choose", f"is {choose!r}; use one of {list(RULES)}.")
    values = _checked_values(settings["values"], choose)
    capacity = settings["capacity"]
    if capacity is not None and (not _is_number(capacity) or not 0 < capacity < 1):
        raise _fail("capacity", f"is {capacity!r}; give a share strictly between 0 and 1.")
    if choose == "capacity" and capacity is None:
        raise _fail("capacity", "is empty; choose: capacity needs the share of cases to act on.")
    if settings["calibration"] not in CALIBRATIONS:
        raise _fail(
            "calibration", f"is {settings['calibration']!r}; use null, sigmoid or isotonic."
        )
    confidence = settings["confidence"]
    if not _is_number(confidence) or not 0 < confidence < 1:
        raise _fail("confidence", f"is {confidence!r}; give a probability, e.g. 0.95.")
    if settings["max_rows"] is not None:
        _whole(settings["max_rows"], "max_rows", 20)
    return {
        "choose": choose,
        "threshold": float(fixed),
        "values": values,
        "unit": str(settings["unit"] or ""),
        "capacity": None if capacity is None else float(capacity),
        "folds": _whole(settings["folds"], "folds", 2),
        "max_rows": settings["max_rows"],
        "seed": _whole(settings["seed"], "seed", 0),
        "calibration": settings["calibration"],
        "bootstrap_repeats": _whole(settings["bootstrap_repeats"], "bootstrap_repeats", 0),
        "confidence": float(confidence),
        "max_threads": None
        if settings["max_threads"] is None
        else _whole(settings["max_threads"], "max_threads", 1),
    }


def calibrated(estimator: Any, params: dict[str, Any], problem: Any) -> Any:
    """``estimator`` inside ``CalibratedClassifierCV`` when ``training.decision.calibration``
    asks for it (a type that decides by a threshold only), else ``estimator`` itself."""
    plan = check_decision_config(params)
    if plan["calibration"] is None or not problem.DECIDES_BY_THRESHOLD:
        return estimator
    from sklearn.calibration import CalibratedClassifierCV

    return CalibratedClassifierCV(estimator, method=plan["calibration"], cv=plan["folds"])


def calibrated_candidate(training: dict[str, Any], problem: Any) -> Any:
    """The unfitted candidate of ``training.candidate``, seeded by ``training.split.seed``,
    behind the preprocessing and calibrated as ``training.decision.calibration`` asks: what
    training fits and what the benchmark cross-validates as the candidate."""
    estimator = build_estimator(
        training["candidate"],
        "training.candidate",
        TRAINING_PARAMETERS,
        problem,
        training["split"]["seed"],
    )
    return build_model(training, calibrated(estimator, training, problem))


def _rows_for_choice(training_set: pd.DataFrame, y: np.ndarray, plan: dict[str, Any]) -> np.ndarray:
    """Positions of the training rows the threshold is chosen on: all, or a seeded sample
    (stratified by class) of ``max_rows``."""
    rows = np.arange(len(training_set))
    if plan["max_rows"] is None or len(rows) <= plan["max_rows"]:
        return rows
    from sklearn.model_selection import train_test_split

    chosen, _ = train_test_split(
        rows, train_size=plan["max_rows"], random_state=plan["seed"], stratify=y
    )
    return np.sort(chosen)


def out_of_fold_predictions(
    candidate_model: Any, X: pd.DataFrame, y: np.ndarray, plan: dict[str, Any], problem: Any
) -> np.ndarray:
    """Each row's prediction by the candidate fitted on the other folds (seeded K folds)."""
    from sklearn.base import clone

    problem.check_folds(y, plan["folds"], f"training.decision.folds in {TRAINING_PARAMETERS}")
    prediction = np.empty(len(y))
    for train, test in problem.folds(plan["folds"], 1, plan["seed"]).split(X, y):
        fitted = clone(candidate_model).fit(X.iloc[train], y[train])
        prediction[test] = problem.predict(fitted, X.iloc[test])
    return prediction


def choose_decision(
    candidate_model: Any,
    training_set: pd.DataFrame,
    params: dict[str, Any],
    dataset: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The decision rule and its threshold, chosen on the training rows (``training.decision``).

    ``fixed``: ``training.decision_threshold``. ``value``: the threshold of the highest mean value
    per case on out-of-fold probabilities; ``capacity``: the one that flags that share of them.
    Returns the decision (JSON, read by every later stage) and the run record (``decision.*``).
    """
    problem = problem_of(dataset)
    plan = check_decision_config(params)
    decision: dict[str, Any] = {
        "problem_type": problem.kind,
        "applies": problem.DECIDES_BY_THRESHOLD,
        "choose": plan["choose"] if problem.DECIDES_BY_THRESHOLD else "not applicable",
        "threshold": plan["threshold"],
        "values": plan["values"],
        "unit": plan["unit"],
        "capacity": plan["capacity"],
        "calibration": plan["calibration"],
        "folds": None,
        "rows": None,
        "seed": plan["seed"],
        "bootstrap_repeats": plan["bootstrap_repeats"],
        "confidence": plan["confidence"],
    }
    if not problem.DECIDES_BY_THRESHOLD:
        return decision, {"metrics": {}, "tags": {"decision.rule": "not applicable"}}
    metrics: dict[str, float] = {}
    if plan["choose"] != "fixed":
        start = time.perf_counter()
        y_all = problem.target_values(training_set, "training_set")
        rows = _rows_for_choice(training_set, y_all, plan)
        X, _, _ = checked_model_inputs(training_set.iloc[rows], params, "training_set")
        y = y_all[rows]
        with thread_limit(plan["max_threads"]):
            prediction = out_of_fold_predictions(candidate_model, X, y, plan, problem)
        choice = problem.choose_threshold(y, prediction, plan)
        decision |= {
            "threshold": choice["threshold"],
            "folds": plan["folds"],
            "rows": len(rows),
            "training_rows": len(training_set),
            "cross_validated": choice,
        }
        metrics = {f"cv_{k}": v for k, v in choice.items() if k != "threshold"}
        metrics |= {"cv_rows": len(rows), "cv_seconds": time.perf_counter() - start}
        logger.info(
            "Decision threshold %.3f chosen by %s on %d training rows (%d-fold out-of-fold "
            "probabilities, %.1f s).",
            choice["threshold"],
            plan["choose"],
            len(rows),
            plan["folds"],
            metrics["cv_seconds"],
        )
    record = {
        "metrics": {"threshold": decision["threshold"], **metrics},
        # With the model: inference, monitoring and the registry read it back from the run.
        "tags": {"decision.rule": plan["choose"], "decision.threshold": str(decision["threshold"])},
    }
    return decision, record


def decision_threshold(decision: dict[str, Any]) -> float:
    """The threshold every stage decides at: the one ``choose_decision`` chose."""
    return float(decision["threshold"])


def assess_decision(  # noqa: PLR0917  (a Kedro node: inputs come positionally)
    trained_model: Any,
    benchmark_models: dict[str, Any],
    training_set: pd.DataFrame,
    held_out_set: pd.DataFrame,
    decision: dict[str, Any],
    training: dict[str, Any],
    plan: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """What deciding at the chosen threshold is worth on the held-out rows, and the calibration.

    The model's mean value per case with a bootstrap interval, against each baseline of the
    benchmark that gives probabilities (fitted on the training rows, at most
    ``benchmarking.max_rows`` of them, and deciding at its own threshold chosen the same way),
    acting on every case and on none; the Brier score and the plots (value by threshold,
    reliability curve). Returns the report, the ``decision.*`` and ``calibration.*`` records and
    the figures.
    """
    from sklearn.base import clone

    problem = problem_of(plan["dataset"])
    if not decision["applies"]:
        report = {"applies": False, "problem_type": problem.kind, "threshold": None}
        return report, {"metrics": {}}, {"metrics": {}}, {}
    threshold = decision_threshold(decision)
    X, _, _ = checked_model_inputs(held_out_set, training, "held_out_set")
    y = problem.target_values(held_out_set, "held_out_set")
    with thread_limit(training["max_threads"]):
        prediction = problem.predict(trained_model, X)
    scored = {"model": (prediction, threshold)}
    fit_rows = seeded_sample(training_set, int(plan["max_rows"]), decision["seed"])
    X_fit, _, _ = checked_model_inputs(fit_rows, training, "training_set")
    y_fit = problem.target_values(fit_rows, "training_set")
    for name, model in benchmark_models.items():
        if name == plan["candidate_name"] or not hasattr(model, "predict_proba"):
            continue
        with thread_limit(training["max_threads"]):
            fitted = clone(model).fit(X_fit, y_fit)
            baseline = problem.predict(fitted, X)
            own = threshold
            if decision["choose"] != "fixed":
                own = problem.choose_threshold(y_fit, problem.predict(fitted, X_fit), decision)[
                    "threshold"
                ]
        scored[name] = (baseline, own)
    report = problem.decision_report(
        y,
        scored,
        decision,
        repeats=int(decision["bootstrap_repeats"]),
        seed=int(decision["seed"]),
        confidence=float(decision["confidence"]),
    )
    report |= {"applies": True, "choose": decision["choose"], "chosen_on": _chosen_on(decision)}
    figures = problem.decision_plots(y, prediction, decision, report)
    return report, {"metrics": report["metrics"]}, {"metrics": report["calibration"]}, figures


def _chosen_on(decision: dict[str, Any]) -> str:
    if decision["choose"] == "fixed":
        return "fixed in training.decision_threshold"
    return (
        f"{decision['folds']}-fold out-of-fold probabilities on {decision['rows']} of the "
        f"{decision['training_rows']} training rows (seed {decision['seed']})"
    )


def _money(value: float, unit: str) -> str:
    return f"{value:,.2f} {unit}".strip()


def worth_section(decision: dict[str, Any], report: dict[str, Any]) -> str:
    """The model card's section "What it is worth", from the decision and its held-out report."""
    if not decision["applies"]:
        return (
            f"Not applicable: a {decision['problem_type']} model decides by its prediction itself "
            "(the likeliest class, or the number), so no threshold is chosen and "
            "training.decision is not used."
        )
    unit, values = decision["unit"], decision["values"]
    threshold = decision_threshold(decision)
    how = {
        "fixed": "fixed in `training.decision_threshold`",
        "value": "the threshold with the highest mean value per case",
        "capacity": "the threshold that flags the share of the cases the team can act on "
        f"({decision['capacity'] or 0:.1%}, `training.decision.capacity`)",
    }[decision["choose"]]
    where = (
        "."
        if decision["choose"] == "fixed"
        else f", on {_chosen_on(decision)}; never on the held-out rows."
    )
    lines = [
        f"- Rule `{decision['choose']}` (`training.decision.choose`): a case is flagged when its "
        f"probability is at least **{threshold:.3f}**, {how}{where}"
    ]
    if values:
        named_unit = unit or "the team's unit"
        lines.append(
            f"- Value of each outcome per case ({named_unit}): "
            + ", ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in values.items())
            + " (`training.decision.values`)."
        )
    model = report["model"]
    held = (
        f"- On the {report['rows']} held-out rows it flags {model['flagged_share']:.1%} of the "
        "cases"
    )
    if values:
        interval = model.get("interval")
        held += f" and is worth **{_money(model['value_per_case'], unit)} per case**" + (
            f" ({report['bootstrap']['confidence']:.0%} bootstrap interval "
            f"{_money(interval[0], unit)} to {_money(interval[1], unit)}, "
            f"{report['bootstrap']['repeats']} resamples of the rows)"
            if interval
            else ""
        )
        held += (
            f", against {_money(report['act_on_all'], unit)} acting on every case and "
            f"{_money(report['act_on_none'], unit)} acting on none"
        )
    lines.append(held + ".")
    header = ["model", "threshold", "flagged", *(["value per case"] if values else []), "Brier"]
    rows = []
    for name, entry in [("this model", model), *report["baselines"].items()]:
        value = []
        if values:
            interval = entry.get("interval")
            value = [
                _money(entry["value_per_case"], unit)
                + (f" [{interval[0]:,.2f}, {interval[1]:,.2f}]" if interval else "")
            ]
        rows.append(
            [
                name if name == "this model" else f"`{name}`",
                f"{entry['threshold']:.3f}",
                f"{entry['flagged_share']:.1%}",
                *value,
                f"{entry['brier']:.4f}",
            ]
        )
    table = "\n".join(markdown_table(header, rows))
    calibration = decision["calibration"]
    lines.append(
        "- Baselines of the benchmark, fitted on the training rows, each deciding at its own "
        "threshold chosen by the same rule on its training rows:"
    )
    prior = report["positive_rate"]
    text = "\n".join(lines) + "\n\n" + table + "\n\n"
    text += (
        f"Calibration: Brier score {model['brier']:.4f} (lower is better; predicting the "
        f"held-out positive rate for everyone gives {prior * (1 - prior):.4f}); reliability "
        "curve and value by threshold: MLflow artifacts `decision/`. Probabilities "
        + (
            f"calibrated with CalibratedClassifierCV ({calibration}, "
            "`training.decision.calibration`)."
            if calibration
            else "as the estimator gives them (`training.decision.calibration`: null)."
        )
    )
    return text
