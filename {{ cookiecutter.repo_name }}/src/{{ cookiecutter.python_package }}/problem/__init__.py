"""What the problem type means here: one small object per type that every stage asks.

``dataset.problem_type`` in ``conf/base/parameters_dataset.yml`` is ``binary``, ``multiclass`` or
``regression``; :func:`problem_of` turns the ``dataset`` section into a :class:`Binary`,
:class:`Multiclass` or :class:`Regression` object, refusing a bad key before any data is read.
Everything that differs by type is decided in this package and nowhere else:

- the target: which keys describe it, how a raw value becomes a label (a class code 0..k-1, or
  a number) and which values are unknown (validation quarantines those rows);
- the split (stratified for classes, plain for a number) and the cross-validation folds;
- the candidate's default estimator, the baselines, the metrics, their direction and the
  primary one (scikit-learn's scorer registry knows each metric's function, sign and whether it
  needs probabilities);
- what a prediction is (a probability, a row of class probabilities, a number), the decision
  taken from it, the columns a scored batch gets, and the held-out plots;
- the fairness review's per-group metrics and criteria, and the words reports use.

Stages never test the type themselves: they call the object's methods. ``base.py`` says what
every type answers (the :class:`Problem` interface and what the types share); each type's answers
are in its own module, so "what a regression means here" is ``regression.py``.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from .base import (
    DATASET_FILE,
    DATASET_KEYS,
    PREDICTION,
    PROBABILITY,
    PROBLEM_TYPES,
    Metric,
    Problem,
    quiet_numpy,
)
from .binary import Binary
from .multiclass import Multiclass
from .regression import Regression

__all__ = [
    "DATASET_FILE",
    "DATASET_KEYS",
    "PREDICTION",
    "PROBABILITY",
    "PROBLEMS",
    "PROBLEM_TYPES",
    "Binary",
    "Metric",
    "Multiclass",
    "Problem",
    "Regression",
    "problem_of",
    "quiet_numpy",
]

PROBLEMS: dict[str, type[Problem]] = {cls.kind: cls for cls in (Binary, Multiclass, Regression)}


def check_dataset_keys(dataset: Any) -> None:
    """Refuse an unknown key under ``dataset:`` (a misspelt key would otherwise be ignored)."""
    if not isinstance(dataset, dict):
        raise ConfigError(f"dataset in {DATASET_FILE} must be a mapping with {list(DATASET_KEYS)}.")
    unknown = sorted(set(dataset) - set(DATASET_KEYS))
    if unknown:
        raise ConfigError(
            f"dataset.{unknown[0]} in {DATASET_FILE} is not a key; use {list(DATASET_KEYS)}."
        )


def _check_target(cls: type[Problem], target: Any) -> dict[str, Any]:
    if not isinstance(target, dict):
        raise ConfigError(
            f"dataset.target in {DATASET_FILE} must be a mapping with {list(cls.TARGET_KEYS)}."
        )
    unknown = sorted(set(target) - set(cls.TARGET_KEYS))
    if unknown:
        names = ", ".join(f"dataset.target.{key}" for key in unknown)
        verb = "is not a key" if len(unknown) == 1 else "are not keys"
        raise ConfigError(
            f"{names} in {DATASET_FILE} {verb} of a {cls.kind} target "
            f"(dataset.problem_type: {cls.kind}); use {list(cls.TARGET_KEYS)}."
        )
    for key in cls.REQUIRED_TARGET_KEYS:
        if target.get(key) is None or target.get(key) == "":
            raise ConfigError(f"dataset.target.{key} in {DATASET_FILE} is missing or empty.")
    if not isinstance(target["column"], str):
        raise ConfigError(f"dataset.target.column in {DATASET_FILE} must name the target column.")
    return cls.checked_target(dict(target))


def problem_of(dataset: Any) -> Problem:
    """The problem object of the ``dataset`` section, checked; a bad key is a ConfigError."""
    check_dataset_keys(dataset)
    kind = dataset.get("problem_type")
    if kind not in PROBLEMS:
        raise ConfigError(
            f"dataset.problem_type in {DATASET_FILE} is {kind!r}; use one of {list(PROBLEM_TYPES)}."
        )
    cls = PROBLEMS[kind]
    return cls({**dataset, "target": _check_target(cls, dataset.get("target"))})
