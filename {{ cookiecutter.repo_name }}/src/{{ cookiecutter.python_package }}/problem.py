"""What the problem type means here: one small object per type that every stage asks.

``dataset.problem_type`` in ``conf/base/parameters_dataset.yml`` is ``binary``, ``multiclass`` or
``regression``; :func:`problem_of` turns the ``dataset`` section into a :class:`Binary`,
:class:`Multiclass` or :class:`Regression` object, refusing a bad key before any data is read.
Everything that differs by type is decided here and nowhere else:

- the target: which keys describe it, how a raw value becomes a label (a class code 0..k-1, or
  a number) and which values are unknown (validation quarantines those rows);
- the split (stratified for classes, plain for a number) and the cross-validation folds;
- the candidate's default estimator, the baselines, the metrics, their direction and the
  primary one (scikit-learn's scorer registry knows each metric's function, sign and whether it
  needs probabilities);
- what a prediction is (a probability, a row of class probabilities, a number), the decision
  taken from it, the columns a scored batch gets, and the held-out plots;
- the fairness review's per-group metrics and criteria, and the words reports use.

Stages never test the type themselves: they call the object's methods.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .errors import ConfigError, DataError

DATASET_FILE = "conf/base/parameters_dataset.yml"
PROBLEM_TYPES = ("binary", "multiclass", "regression")
DATASET_KEYS = (
    "id_column",
    "problem_type",
    "target",
    "features",
    "sensitive_attributes",
    "intersections",
    "fairness_criteria",
    "keep_with_predictions",
)
# Prediction columns of a scored batch (and of the served model's answer).
PREDICTION = "prediction"
PROBABILITY = "probability"


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _matches(values: pd.Series, wanted: list[Any]) -> pd.Series:
    """Which values equal one of ``wanted``: numbers as numbers, anything else as stripped text."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        numbers = pd.to_numeric(pd.Series(wanted, dtype="object"), errors="coerce").dropna()
        return values.astype("Float64").isin(numbers.astype(float).tolist()).fillna(False)
    text = values.astype("string").str.strip().str.lower()
    return text.isin([str(w).strip().lower() for w in wanted]).fillna(False)


@dataclass(frozen=True)
class Metric:
    """A metric as scikit-learn's scorer registry defines it (function, sign, response)."""

    name: str
    scorer: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def _scorer(self) -> Any:
        from sklearn.metrics import get_scorer

        return get_scorer(self.scorer)

    @property
    def greater_is_better(self) -> bool:
        return self._scorer()._sign > 0

    @property
    def uses_scores(self) -> bool:
        """True when the metric needs probabilities (or predicted numbers), not decisions."""
        response = self._scorer()._response_method
        return "predict_proba" in _as_list(response) or "decision_function" in _as_list(response)

    def __call__(self, y_true: np.ndarray, y_score: np.ndarray, **extra: Any) -> float:
        scorer = self._scorer()
        return float(
            scorer._score_func(y_true, y_score, **{**scorer._kwargs, **self.kwargs, **extra})
        )


# --- batch scoring, monitoring and late labels: shared pieces -------------------------------------


@dataclass(frozen=True)
class PredictionDrift:
    """What a scored batch's prediction drift compares with the training reference's.

    ``column``: the scored batch's column; ``kind``: ``numeric`` (PSI on the reference's quantile
    bins) or ``categorical`` (PSI with one bin per category of ``categories``); ``test``: the test
    reported beside the PSI (``ks``, ``chi2``) or None (the PSI alone).
    """

    column: str
    kind: str
    test: str | None = None
    categories: tuple[str, ...] = ()

    def summary(
        self, mean: float | None = None, counts: dict[str, int] | None = None
    ) -> dict[str, float]:
        """The report's figures of one sample of predictions: numbers, their ``mean``; categories,
        the share of each (``share_<category>``) from their ``counts``."""
        from .groups import metric_safe

        if self.kind == "numeric":
            return {"mean": float(mean) if mean is not None else math.nan}
        counts = counts or {}
        total = sum(counts.values())
        return {
            f"share_{metric_safe(c)}": counts.get(c, 0) / total if total else math.nan
            for c in self.categories
        }


_SPARK_NUMERIC_TYPES = (
    "byte", "short", "int", "bigint", "long", "float", "double", "decimal", "boolean",
)  # fmt: skip
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*%\s*$")


def _spark_matches(frame: Any, column: str, wanted: list[Any]) -> Any:
    """:func:`_matches` in Spark: numbers as numbers, anything else as stripped lower-case text."""
    from pyspark.sql import functions as F

    from .spark_engine import quoted

    kind = dict(frame.dtypes)[column]
    column_ = quoted(column)
    if kind.startswith(_SPARK_NUMERIC_TYPES):
        numbers = []
        for value in wanted:
            try:
                numbers.append(float(value))
            except (TypeError, ValueError):
                continue
        hit = column_.cast("double").isin(numbers) if numbers else F.lit(False)
    else:
        text = F.lower(F.trim(column_.cast("string")))
        hit = text.isin([str(w).strip().lower() for w in wanted])
    return F.coalesce(hit, F.lit(False))


@dataclass(frozen=True)
class Problem:
    """What every problem type answers; see the three subclasses for each type's answers."""

    dataset: dict[str, Any]
    kind: ClassVar[str] = ""
    is_classification: ClassVar[bool] = True
    TARGET_KEYS: ClassVar[tuple[str, ...]] = ()
    REQUIRED_TARGET_KEYS: ClassVar[tuple[str, ...]] = ("column",)
    METRICS: ClassVar[dict[str, Metric]] = {}
    DEFAULT_METRICS: ClassVar[tuple[str, ...]] = ()
    DEFAULT_BENCHMARK_METRICS: ClassVar[tuple[str, ...]] = ()
    PRIMARY_METRIC: ClassVar[str] = ""
    DEFAULT_CANDIDATE: ClassVar[str] = ""
    BASELINES: ClassVar[dict[str, dict[str, Any]]] = {}
    # what MLflow's pyfunc flavour calls on the model
    PREDICT_METHOD: ClassVar[str] = "predict_proba"

    # --- the target -------------------------------------------------------------------------

    @property
    def target(self) -> dict[str, Any]:
        return self.dataset["target"]

    @property
    def target_column(self) -> str:
        return self.target["column"]

    def encode_target(self, values: pd.Series) -> pd.Series:
        """The raw target as labels (class codes, or numbers); an unknown value is missing."""
        raise NotImplementedError

    def encode_target_column(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with its target column encoded; refuse a column no value of which is known."""
        column = self.target_column
        encoded = self.encode_target(frame[column])
        if len(frame) and encoded.isna().all():
            seen = sorted(map(str, frame[column].dropna().unique()))[:10]
            raise ConfigError(
                f"dataset.target in {DATASET_FILE} describes the target {column!r} as "
                f"{self.describe_target()}, but none of its values matches; it holds {seen}."
            )
        return frame.assign(**{column: encoded})

    def describe_target(self) -> str:
        raise NotImplementedError

    def named_target_values(self) -> dict[str, Any]:
        """The raw target values the configuration names, by key (a value or a list of
        spellings; none for a number): each must be one the main source's suite allows."""
        return {}

    def target_values(self, frame: pd.DataFrame, dataset: str) -> np.ndarray:
        """The encoded target of a modelling table (codes as int64, numbers as float64)."""
        column = self.target_column
        if column not in frame.columns:
            raise DataError(
                f"Dataset '{dataset}' has no column {column!r} (dataset.target.column in "
                f"{DATASET_FILE}); its columns are {list(frame.columns)}."
            )
        values = frame[column]
        if values.isna().any():
            raise DataError(
                f"Dataset '{dataset}' has {int(values.isna().sum())} row(s) without a target "
                f"({column!r}); validation should have quarantined them."
            )
        return self._checked_labels(values, dataset)

    def _checked_labels(self, values: pd.Series, dataset: str) -> np.ndarray:
        raise NotImplementedError

    # --- splits and folds -------------------------------------------------------------------

    def stratify_by(self, y: np.ndarray) -> np.ndarray | None:
        """What a split keeps in proportion: the classes, or nothing for a number."""
        return y if self.is_classification else None

    def check_folds(self, y: np.ndarray, n_splits: int, where: str) -> None:
        """Refuse a table some class of which has fewer rows than ``n_splits`` folds need."""
        if not self.is_classification:
            if len(y) < 2 * n_splits:
                raise DataError(f"{len(y)} rows are too few for {n_splits} folds ({where}).")
            return
        counts = np.bincount(y.astype("int64"), minlength=len(self.class_names))
        rare = [(self.class_names[i], int(n)) for i, n in enumerate(counts) if n < n_splits]
        if rare:
            listed = ", ".join(f"{name!r}: {n} row(s)" for name, n in rare)
            raise DataError(
                f"Class {listed} of target {self.target_column!r} has fewer rows than the "
                f"{n_splits} folds need ({where}); collect more rows of it, merge it with "
                f"another class in {DATASET_FILE}, or lower the number of folds."
            )

    def folds(self, n_splits: int, n_repeats: int, seed: int) -> Any:
        """Repeated K folds, stratified for classes."""
        from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

        splitter = RepeatedStratifiedKFold if self.is_classification else RepeatedKFold
        return splitter(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)

    # --- estimators -------------------------------------------------------------------------

    def check_estimator_class(self, estimator_class: type, where: str) -> None:
        """Refuse an estimator that cannot give this type's predictions."""
        needed = ("fit", self.PREDICT_METHOD)
        if not all(callable(getattr(estimator_class, name, None)) for name in needed):
            raise ConfigError(
                f"{where} is {estimator_class.__module__}.{estimator_class.__name__}, which "
                f"has no {self.PREDICT_METHOD}(): a {self.kind} problem needs "
                f"{self._estimator_words()}."
            )

    def _estimator_words(self) -> str:
        return "a classifier with predict_proba() (probabilities are needed for its metrics)"

    def baselines(self) -> dict[str, dict[str, Any]]:
        """The simple models the candidate must beat: name -> {class, kwargs}."""
        return {name: dict(spec) for name, spec in self.BASELINES.items()}

    # --- metrics ----------------------------------------------------------------------------

    def metric(self, name: str) -> Metric:
        return self.METRICS[name]

    def check_metrics(self, names: list[str], key: str, parameters_file: str) -> list[str]:
        unknown = [name for name in names if name not in self.METRICS]
        if unknown or not names:
            raise ConfigError(
                f"{key} in {parameters_file} has unknown metric(s) {unknown} for a {self.kind} "
                f"problem (dataset.problem_type); use any of {list(self.METRICS)}."
            )
        return list(names)

    def greater_is_better(self, name: str) -> bool:
        return self.METRICS[name].greater_is_better

    def score(
        self, names: list[str], y: np.ndarray, prediction: np.ndarray, threshold: float = 0.5
    ) -> dict[str, float]:
        """The named metrics of ``prediction`` (as :meth:`predict` returns it) against ``y``."""
        decision = self.decide(prediction, threshold)
        out = {}
        for name in names:
            metric = self.METRICS[name]
            out[name] = metric(y, prediction if metric.uses_scores else decision)
        return out

    def describe_labels(self, y: np.ndarray) -> dict[str, float]:
        """Figures of a set of labels logged beside the metrics (rate, shares, mean)."""
        raise NotImplementedError

    def detail_metrics(
        self, y: np.ndarray, prediction: np.ndarray, threshold: float = 0.5
    ) -> dict[str, float]:
        """Metrics logged beside the configured ones (e.g. per class); none by default."""
        return {}

    # --- predictions ------------------------------------------------------------------------

    def predict(self, model: Any, inputs: pd.DataFrame) -> np.ndarray:
        """What metrics and decisions are taken from: see each type."""
        raise NotImplementedError

    def decide(self, prediction: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """The label the model predicts (a class code, or the number itself)."""
        raise NotImplementedError

    def predict_nothing(self) -> np.ndarray:
        """What :meth:`predict` returns for no rows."""
        return np.empty(0)

    def prediction_columns(self, prediction: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
        """The columns a scored batch (and the served model's answer) gets."""
        raise NotImplementedError

    def prediction_of_columns(self, frame: pd.DataFrame) -> np.ndarray:
        """:meth:`predict`'s result back from the columns of a scored batch."""
        raise NotImplementedError

    def decision_of_columns(self, frame: pd.DataFrame) -> np.ndarray:
        """The predicted labels (codes or numbers) back from the columns of a scored batch."""
        return self.encode_target(frame[PREDICTION]).to_numpy()

    # --- plots ------------------------------------------------------------------------------

    def plots(
        self, y: np.ndarray, prediction: np.ndarray, threshold: float = 0.5
    ) -> dict[str, Any]:
        """Held-out plots: file name (without .png) -> matplotlib Figure."""
        raise NotImplementedError

    # --- words ------------------------------------------------------------------------------

    def words(self) -> dict[str, Any]:
        """Words for reports: what the target is and what each outcome means."""
        raise NotImplementedError

    @property
    def class_names(self) -> list[str]:
        return []

    # --- the fairness review ----------------------------------------------------------------
    # What the fairness review measures by group for this type (fairness_review in
    # conf/base/parameters_fairness_review.yml; null there means these defaults):
    # - the per-group metrics it knows, shows by default, and always shows (criteria read them);
    # - its criteria: name -> (rule "at least" or "at most", lowest and highest threshold);
    # - the criteria judged by default and their thresholds;
    # - mitigation methods -> their constraints (the first is the default); none: no mitigation;
    # - the figures a mitigation's report compares before and after (overall, per group).
    FAIRNESS_METRICS: ClassVar[tuple[str, ...]] = ()
    FAIRNESS_DEFAULT_METRICS: ClassVar[tuple[str, ...]] = ()
    FAIRNESS_REQUIRED_METRICS: ClassVar[tuple[str, ...]] = ("count",)
    FAIRNESS_CRITERIA: ClassVar[dict[str, tuple[str, float, float]]] = {}
    FAIRNESS_THRESHOLDS: ClassVar[dict[str, float]] = {}
    FAIRNESS_MITIGATIONS: ClassVar[dict[str, tuple[str, ...]]] = {}
    FAIRNESS_MITIGATION_OVERALL: ClassVar[tuple[str, ...]] = ()
    FAIRNESS_MITIGATION_BY_GROUP: ClassVar[tuple[str, ...]] = ()

    def fairness_columns(self, metrics: list[str]) -> list[str]:
        """The per-group figures of the configured metrics (a class metric: one per class)."""
        return list(metrics)

    def fairness_metric_functions(self, columns: list[str]) -> dict[str, Any]:
        """fairlearn ``MetricFrame`` functions ``f(y_true, y_pred)`` of the per-group figures."""
        raise NotImplementedError

    def fairness_cells(
        self, y: np.ndarray, decision: np.ndarray
    ) -> tuple[np.ndarray, int, np.ndarray]:
        """What the per-group figures are sums of, row by row: a cell index (e.g. of the
        confusion matrix), the number of cells, and values (rows x k) added up per group."""
        raise NotImplementedError

    def fairness_rates(self, stats: np.ndarray) -> dict[str, np.ndarray]:
        """Per-group figures (``count`` among them, NaN where undefined) from the sums of
        :meth:`fairness_cells` per group (last axis: cell counts, then value sums; the axes
        before the groups, e.g. bootstrap resamples, are kept)."""
        raise NotImplementedError

    def fairness_reference(self, y: np.ndarray) -> dict[str, float]:
        """Figures of the held-out target that scale the criteria (none by default)."""
        return {}

    def fairness_summary(
        self, rates: dict[str, np.ndarray], metrics: list[str], reference: dict[str, float]
    ) -> dict[str, np.ndarray]:
        """Between-group figures over the last axis (the judged groups): every criterion, and
        the spreads of the configured metrics that the report shows."""
        raise NotImplementedError

    def fairness_report_fields(self, threshold: float, reference: dict[str, float]) -> dict:
        """What the fairness report says about the target and the predictions (its own keys)."""
        return {"words": self.words(), **reference}

    def fairness_headline(self, report: dict[str, Any]) -> str:
        """The report's first line after the verdict: rows and what a prediction is."""
        raise NotImplementedError

    def fairness_explanation(self, report: dict[str, Any]) -> str:
        """What the per-group figures and criteria mean, in the target's words."""
        raise NotImplementedError

    def fairness_summary_lines(self, report: dict[str, Any]) -> list[str]:
        """Plain-language sentences, one per sensitive feature (the model card prints them)."""
        return [
            f"{name}: {feature['verdict']}"
            + (f" ({feature['note']})." if feature.get("note") else ".")
            for name, feature in report["features"].items()
        ]

    def fairness_axis(self, column: str) -> dict[str, Any]:
        """How the plot draws a per-group figure: ``ylim`` for shares, else a ``ylabel``; a
        ``title`` other than the figure's name."""
        return {"ylim": (0, 1.05)}

    # --- the model card's words ---------------------------------------------------------------

    def card_words(self, threshold: float = 0.5) -> dict[str, str]:
        """Sentences of the model card that depend on the type (``conf/base/model_card.md``):
        ``prediction`` (what the model predicts), ``primary_use``, ``fairness_metrics`` (what
        the review measures) and ``split`` (how the held-out rows were drawn)."""
        raise NotImplementedError

    def describe_labels_text(self, y: np.ndarray) -> str:
        """A set of labels in words for the model card (rate, shares or mean)."""
        return ", ".join(
            f"{k.replace('_', ' ')} {v:.4f}" for k, v in self.describe_labels(y).items()
        )

    # --- batch scoring, monitoring and late labels --------------------------------------------
    # What the inference, monitoring and labels pipelines ask, on pandas and on Spark (pyspark
    # is imported inside the methods that build Spark columns).

    # performance_drop when the configuration says null: metric -> largest allowed drop (a
    # number in the metric's units, or "<x>%" of the training run's test value).
    DEFAULT_PERFORMANCE_DROP: ClassVar[dict[str, float | str]] = {}
    # The key of monitoring.thresholds that judges the change of a group's prediction statistic.
    GROUP_DRIFT_THRESHOLD: ClassVar[str] = "selection_rate_change"
    # The per-group error figures (group_errors) logged as <name>.<attribute>.<group>.
    GROUP_ERROR_METRICS: ClassVar[tuple[str, ...]] = ("error_rate",)
    # Why a label value is set aside, as the labels alert says it ("3 label row(s) <words>").
    INVALID_LABEL_WORDS: ClassVar[str] = "with a value that is none of the classes"

    def prediction_column_names(self) -> list[str]:
        """The prediction columns of a scored batch, in order."""
        return list(self.prediction_columns(self.predict_nothing()))

    def label_values(self, values: Any) -> np.ndarray:
        """Encoded labels with none missing (as :meth:`encode_target` makes them) as an array."""
        return np.asarray(values, dtype="int64")

    def can_score(self, y: np.ndarray) -> bool:
        """Whether the metrics of these labels can be computed (two classes or more present)."""
        return len(np.unique(y)) >= 2

    def scoring_terms(self) -> list[tuple[str, str, Any]]:
        """A scored batch's summary (``inference.*`` metrics): ``(metric, column, value)``, the
        share of rows whose ``column`` equals ``value``, or the column's mean when it is None."""
        raise NotImplementedError

    def scoring_summary(self, predictions: pd.DataFrame) -> dict[str, float]:
        """:meth:`scoring_terms` of a scored batch in pandas (0.0 for no rows)."""
        out = {}
        for name, column, value in self.scoring_terms():
            values = predictions[column].to_numpy()
            if not len(values):
                out[name] = 0.0
            elif value is None:
                out[name] = float(np.mean(values.astype("float64")))
            else:
                out[name] = float(np.mean(values == value))
        return out

    def describe_scoring(self, summary: dict[str, float]) -> str:
        """:meth:`scoring_summary` in words, for the log."""
        raise NotImplementedError

    def spark_udf_result_type(self) -> Any:
        """What ``mlflow.pyfunc.spark_udf`` gives per row: the row of probabilities."""
        from pyspark.sql import types as T

        return T.ArrayType(T.DoubleType())

    def spark_prediction_columns(self, output: Any, threshold: float = 0.5) -> list[Any]:
        """The Spark columns of :meth:`prediction_columns`, same names and order, from the model's
        output column (``spark_udf``'s)."""
        raise NotImplementedError

    def spark_decision(self, threshold: float = 0.5) -> Any:
        """The Spark column of :meth:`decide` taken from the columns of a scored batch."""
        raise NotImplementedError

    def prediction_drift(self) -> PredictionDrift:
        """What prediction drift compares (see :class:`PredictionDrift`)."""
        raise NotImplementedError

    def drift_reference_values(self, prediction: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """For :meth:`predict`'s result on the training reference: the values the scored batch's
        drift column (:meth:`prediction_drift`) would hold."""
        raise NotImplementedError

    def prediction_drift_metrics(self, line: dict[str, Any]) -> dict[str, float]:
        """MLflow metrics of the drift report's prediction line, beside ``prediction_psi``."""
        raise NotImplementedError

    def group_terms(self) -> list[tuple[dict[str, Any], str, Any]]:
        """What group drift compares per sensitive group: ``(fields, statistic, value)``, the
        share of the group's decisions equal to ``value``, or their mean when it is None;
        ``fields`` name the statistic in the report's rows (e.g. its class)."""
        raise NotImplementedError

    def group_drift_allowed(self, thresholds: dict[str, Any], reference: np.ndarray) -> float:
        """The largest change of a group statistic that passes (``reference``: the training
        reference's decisions)."""
        return float(thresholds[self.GROUP_DRIFT_THRESHOLD])

    def group_errors(self, y: np.ndarray, decision: np.ndarray) -> dict[str, float]:
        """Error figures of one group's labelled rows."""
        return {"error_rate": float(np.mean(decision != y))}

    def performance_drops(
        self, given: Any, key: str, parameters_file: str
    ) -> dict[str, float | str]:
        """The checked ``performance_drop`` (metric -> largest allowed drop: a number in the
        metric's units, or "<x>%" of the training run's value); null: the type's default."""
        if given is None:
            return dict(self.DEFAULT_PERFORMANCE_DROP)
        if not isinstance(given, dict):
            raise ConfigError(
                f"{key} in {parameters_file} must map metrics to their largest allowed drop "
                f"(or be null: {self.DEFAULT_PERFORMANCE_DROP}); it is {given!r}."
            )
        unknown = sorted(set(given) - set(self.METRICS))
        if unknown:
            raise ConfigError(
                f"{key} in {parameters_file} has unknown metric(s) {unknown} for a {self.kind} "
                f"problem (dataset.problem_type); use any of {list(self.METRICS)}, or null for "
                f"the type's default {self.DEFAULT_PERFORMANCE_DROP}."
            )
        for metric, value in given.items():
            number = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
            if not number and not (isinstance(value, str) and _PERCENT.match(value)):
                raise ConfigError(
                    f"{key}.{metric} in {parameters_file} is {value!r}; give the largest allowed "
                    "drop as a number in the metric's units (e.g. 0.05) or as a share of the "
                    "training run's value (e.g. '10%')."
                )
        return dict(given)

    @staticmethod
    def allowed_drop(value: float | str, reference: float) -> float:
        """A checked ``performance_drop`` value in the metric's units (a share of ``reference``)."""
        if isinstance(value, str):
            return abs(float(reference)) * float(value.strip().rstrip("%").strip()) / 100
        return float(value)

    def prediction_panel(self) -> dict[str, Any]:
        """The dashboard's summary of the predictions: ``title``, ``keys`` (metric names, or
        prefixes ending with a dot) and whether ``reference_<key>`` holds the training's."""
        raise NotImplementedError

    def group_panels(self) -> list[dict[str, Any]]:
        """The dashboard's per-group sections: ``prefix`` of their metrics (``<prefix><attribute>
        .<group>``), ``what`` they show, ``reference`` (``reference_<metric>`` recorded),
        ``unit_range`` (a share, 0 to 1), ``labels`` (needs labels) and, optionally,
        ``heading`` (``what`` heads the figure, the panels name their attribute alone)."""
        raise NotImplementedError

    def encode_target_spark(self, frame: Any) -> Any:
        """``frame`` (Spark) with its target column encoded as :meth:`encode_target` does."""
        raise NotImplementedError

    def target_found_spark(self, column: Any) -> Any:
        """Spark: whether an encoded target shows that the target's description fits the data
        (here any known value; see :meth:`encode_target_column`)."""
        return column.isNotNull()

    def target_not_found(self, seen: list[str]) -> ConfigError:
        """The error of a target column none of whose values fits the description."""
        return ConfigError(
            f"dataset.target in {DATASET_FILE} describes the target {self.target_column!r} as "
            f"{self.describe_target()}, but none of its values matches; it holds {seen}."
        )


def _figure(title: str, n: int) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5, 4.5), layout="constrained")
    ax = figure.subplots()
    ax.set_title(f"{title}, held-out set (n={n})")
    return figure, ax


# --- the fairness review: shared helpers ------------------------------------------------------


@contextmanager
def quiet_numpy() -> Iterator[None]:
    """Silence numpy's warnings about all-NaN slices and empty divisions (NaN is the answer)."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def group_spread(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Between-group difference (max - min) and ratio (min / max) along the last axis.

    Undefined figures (NaN) are left out; with none defined both are NaN. Two zeros have
    ratio 1 (no disparity).
    """
    with quiet_numpy():
        high, low = np.nanmax(values, axis=-1), np.nanmin(values, axis=-1)
        ratio = np.where(high > 0, low / np.where(high > 0, high, 1.0), 1.0)
    return high - low, np.where(np.isnan(high), np.nan, ratio)


def _share(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """``top / bottom`` of counts, NaN where ``bottom`` is 0."""
    with quiet_numpy():
        return np.where(bottom > 0, top / np.maximum(bottom, 1), np.nan)


def _class_selection_rate(y_true: Any, y_pred: Any, *, code: int) -> float:
    """Share of the rows predicted in class ``code``."""
    y_pred = np.asarray(y_pred)
    return float(np.mean(y_pred == code)) if len(y_pred) else math.nan


def _class_recall(y_true: Any, y_pred: Any, *, code: int) -> float:
    """Share of the rows of class ``code`` predicted in it."""
    actual = np.asarray(y_true) == code
    return float(np.mean(np.asarray(y_pred)[actual] == code)) if actual.any() else math.nan


def _class_precision(y_true: Any, y_pred: Any, *, code: int) -> float:
    """Share of the rows predicted in class ``code`` that are in it."""
    predicted = np.asarray(y_pred) == code
    return float(np.mean(np.asarray(y_true)[predicted] == code)) if predicted.any() else math.nan


def _class_false_positive_rate(y_true: Any, y_pred: Any, *, code: int) -> float:
    """Share of the rows of the other classes predicted in class ``code``."""
    others = np.asarray(y_true) != code
    return float(np.mean(np.asarray(y_pred)[others] == code)) if others.any() else math.nan


def _mean_prediction(y_true: Any, y_pred: Any) -> float:
    return float(np.mean(np.asarray(y_pred, dtype="float64")))


def _mean_residual(y_true: Any, y_pred: Any) -> float:
    """Mean of actual - predicted: positive = under-estimated on average."""
    return float(np.mean(np.asarray(y_true, dtype="float64") - np.asarray(y_pred, dtype="float64")))


def _extremes(feature: dict[str, Any], column: str) -> tuple[str, float, str, float] | None:
    """The judged groups with the lowest and the highest figure: (group, value, group, value)."""
    rows = [
        (g["group"], float(g[column]))
        for g in feature.get("groups", [])
        if g.get("judged") and g.get(column) is not None and not math.isnan(float(g[column]))
    ]
    if len(rows) < 2:
        return None
    low, high = min(rows, key=lambda r: r[1]), max(rows, key=lambda r: r[1])
    return low[0], low[1], high[0], high[1]


def _criteria_words(feature: dict[str, Any]) -> str:
    """``; demographic_parity_ratio 0.474 (at least 0.8: fail)`` for each judged criterion."""
    judged = feature.get("criteria") or {}
    if not judged:
        return ""
    return "; " + ", ".join(
        f"{name} {c['value']:.3f} ({c['rule']} {c['threshold']:g}: {c['verdict']})"
        for name, c in judged.items()
    )


def _not_judged(name: str, feature: dict[str, Any]) -> str:
    return f"{name}: not judged ({feature.get('note') or 'fewer than two groups to compare'})."


def _worst_part(summary: dict[str, Any], criterion: str, pick: Any) -> str | None:
    """The part (e.g. the class) of ``<criterion>.<part>`` entries with the worst value."""
    parts = {
        key.split(".", 1)[1]: entry["value"]
        for key, entry in summary.items()
        if key.startswith(f"{criterion}.") and not math.isnan(entry["value"])
    }
    return pick(parts, key=parts.get) if parts else None


def fmt_number(value: Any) -> str:
    """A figure in the target's unit: three significant digits at least, thousands separated."""
    if value is None or not math.isfinite(float(value)):
        return "n/a"
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


# --- binary -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Binary(Problem):
    """Two classes: the positive one (1) and the rest (0); a prediction is P(positive)."""

    kind: ClassVar[str] = "binary"
    TARGET_KEYS: ClassVar[tuple[str, ...]] = (
        "column",
        "positive",
        "negative",
        "positive_means",
        "negative_means",
        "favourable",
    )
    REQUIRED_TARGET_KEYS: ClassVar[tuple[str, ...]] = ("column", "positive")
    METRICS: ClassVar[dict[str, Metric]] = {
        "roc_auc": Metric("roc_auc", "roc_auc"),
        "average_precision": Metric("average_precision", "average_precision"),
        "accuracy": Metric("accuracy", "accuracy"),
        "balanced_accuracy": Metric("balanced_accuracy", "balanced_accuracy"),
        "f1": Metric("f1", "f1", {"zero_division": 0}),
        "precision": Metric("precision", "precision", {"zero_division": 0}),
        "recall": Metric("recall", "recall", {"zero_division": 0}),
        "log_loss": Metric("log_loss", "neg_log_loss", {"labels": [0, 1]}),
        "brier": Metric("brier", "neg_brier_score"),
    }
    DEFAULT_METRICS: ClassVar[tuple[str, ...]] = (
        "roc_auc",
        "average_precision",
        "accuracy",
        "balanced_accuracy",
        "f1",
        "log_loss",
        "brier",
    )
    DEFAULT_BENCHMARK_METRICS: ClassVar[tuple[str, ...]] = (
        "roc_auc",
        "average_precision",
        "log_loss",
        "brier",
        "balanced_accuracy",
    )
    PRIMARY_METRIC: ClassVar[str] = "roc_auc"
    DEFAULT_CANDIDATE: ClassVar[str] = "sklearn.ensemble.HistGradientBoostingClassifier"
    BASELINES: ClassVar[dict[str, dict[str, Any]]] = {
        "dummy_prior": {"class": "sklearn.dummy.DummyClassifier", "kwargs": {"strategy": "prior"}},
        "logistic_regression": {
            "class": "sklearn.linear_model.LogisticRegression",
            "kwargs": {"C": 1.0, "max_iter": 1000},
        },
    }

    def encode_target(self, values: pd.Series) -> pd.Series:
        positive = _matches(values, _as_list(self.target["positive"]))
        if self.target.get("negative") is None:
            negative = values.notna() & ~positive
        else:
            negative = _matches(values, _as_list(self.target["negative"])) & ~positive
        encoded = pd.Series(pd.NA, index=values.index, dtype="Int64")
        encoded[positive.to_numpy()] = 1
        encoded[negative.to_numpy()] = 0
        return encoded

    def encode_target_column(self, frame: pd.DataFrame) -> pd.DataFrame:
        column = self.target_column
        encoded = self.encode_target(frame[column])
        if len(frame) and not (encoded == 1).any():
            seen = sorted(map(str, frame[column].dropna().unique()))[:10]
            raise ConfigError(
                f"dataset.target.positive in {DATASET_FILE} is {self.target['positive']!r}, but "
                f"column {column!r} never takes that value; it holds {seen}."
            )
        return frame.assign(**{column: encoded})

    def describe_target(self) -> str:
        return f"positive {self.target['positive']!r}"

    def named_target_values(self) -> dict[str, Any]:
        return {"positive": self.target["positive"]}

    def _checked_labels(self, values: pd.Series, dataset: str) -> np.ndarray:
        labels = set(pd.unique(values))
        if not labels <= {0, 1} or len(labels) < 2:
            raise DataError(
                f"Target {self.target_column!r} of dataset '{dataset}' must hold both 0 and 1; "
                f"it holds {sorted(labels)}."
            )
        return values.astype("int64").to_numpy()

    @property
    def class_names(self) -> list[str]:
        words = self.words()
        return [words["negative"], words["positive"]]

    def describe_labels(self, y: np.ndarray) -> dict[str, float]:
        return {"positive_rate": float(np.mean(y)) if len(y) else math.nan}

    def predict(self, model: Any, inputs: pd.DataFrame) -> np.ndarray:
        """Probability of the positive class for every row."""
        return model.predict_proba(inputs)[:, 1]

    def decide(self, prediction: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        return (np.asarray(prediction) >= threshold).astype("int64")

    def prediction_columns(self, prediction: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
        return {
            PROBABILITY: prediction,
            PREDICTION: self.decide(prediction, threshold),
            "decision_threshold": threshold,
        }

    def prediction_of_columns(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[PROBABILITY].to_numpy(dtype="float64")

    def decision_of_columns(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[PREDICTION].to_numpy(dtype="int64")

    def plots(
        self, y: np.ndarray, prediction: np.ndarray, threshold: float = 0.5
    ) -> dict[str, Any]:
        from sklearn.calibration import CalibrationDisplay
        from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay

        decision = self.decide(prediction, threshold)
        draw = {
            "roc_curve": (
                "ROC curve",
                lambda ax: RocCurveDisplay.from_predictions(y, prediction, ax=ax),
            ),
            "precision_recall_curve": (
                "Precision-recall curve",
                lambda ax: PrecisionRecallDisplay.from_predictions(y, prediction, ax=ax),
            ),
            "confusion_matrix": (
                f"Confusion matrix (threshold {threshold})",
                lambda ax: ConfusionMatrixDisplay.from_predictions(
                    y, decision, ax=ax, colorbar=False
                ),
            ),
            "calibration": (
                "Calibration",
                lambda ax: CalibrationDisplay.from_predictions(
                    y, prediction, n_bins=10, strategy="quantile", ax=ax
                ),
            ),
        }
        figures = {}
        for name, (title, plot) in draw.items():
            figure, ax = _figure(title, len(y))
            plot(ax)
            ax.set_title(f"{title}, held-out set (n={len(y)})")
            figures[name] = figure
        return figures

    def card_words(self, threshold: float = 0.5) -> dict[str, str]:
        words = self.words()
        return {
            "prediction": (
                f"Predicts `{self.target_column}`: 1 = {words['positive']} (the "
                f"{words['positive_kind']} outcome for the person\n  scored), 0 = "
                f"{words['negative']}. A row is predicted positive at probability >= {threshold}."
            ),
            "primary_use": (
                f"estimate, for each case, the probability that it {words['positive']}, to help "
                "a\n  person prioritise their review"
            ),
            "fairness_metrics": (
                "by group, selection rate (share predicted positive), true and false positive "
                "rates and accuracy;\n  between groups, the demographic-parity ratio (lowest / "
                "highest selection rate) and the\n  equalised-odds difference (largest gap in true "
                "or false positive rate)"
            ),
            "split": "seeded, stratified",
            "positive_means": words["positive"],
            "negative_means": words["negative"],
            "positive_kind": words["positive_kind"],
            "decision_threshold": str(threshold),
        }

    def words(self) -> dict[str, Any]:
        target = self.target
        column = target.get("column", "target")
        positive = target.get("positive_means") or f"has {column} = {target.get('positive')!r}"
        negative = target.get("negative_means") or f"does not: {positive}"
        favourable = bool(target.get("favourable", False))
        return {
            "problem_type": self.kind,
            "column": column,
            "positive": str(positive),
            "negative": str(negative),
            "favourable": favourable,
            "positive_kind": "favourable" if favourable else "adverse",
        }

    # --- the fairness review ----------------------------------------------------------------
    # Rates of the confusion matrix (positive = the target's 1), each a ratio of cell counts:
    # name -> (numerator cells, denominator cells); a bootstrap resample costs one bincount.
    FAIRNESS_CELLS: ClassVar[tuple[str, ...]] = ("tn", "fp", "fn", "tp")  # 2 * label + decision
    FAIRNESS_RATES: ClassVar[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
        "selection_rate": (("fp", "tp"), ("tn", "fp", "fn", "tp")),
        "true_positive_rate": (("tp",), ("fn", "tp")),
        "false_positive_rate": (("fp",), ("tn", "fp")),
        "false_negative_rate": (("fn",), ("fn", "tp")),
        "true_negative_rate": (("tn",), ("tn", "fp")),
        "accuracy": (("tn", "tp"), ("tn", "fp", "fn", "tp")),
    }
    FAIRNESS_METRICS: ClassVar[tuple[str, ...]] = ("count", *FAIRNESS_RATES)
    FAIRNESS_DEFAULT_METRICS: ClassVar[tuple[str, ...]] = (
        "count",
        "selection_rate",
        "true_positive_rate",
        "false_positive_rate",
        "accuracy",
    )
    FAIRNESS_REQUIRED_METRICS: ClassVar[tuple[str, ...]] = (
        "count",
        "selection_rate",
        "true_positive_rate",
        "false_positive_rate",
    )
    # criterion -> (rates it compares, kind); equalised odds: the worse of its two rates
    FAIRNESS_CRITERION_PARTS: ClassVar[dict[str, tuple[tuple[str, ...], str]]] = {
        "demographic_parity_ratio": (("selection_rate",), "ratio"),
        "demographic_parity_difference": (("selection_rate",), "difference"),
        "equalized_odds_ratio": (("true_positive_rate", "false_positive_rate"), "ratio"),
        "equalized_odds_difference": (("true_positive_rate", "false_positive_rate"), "difference"),
    }
    FAIRNESS_CRITERIA: ClassVar[dict[str, tuple[str, float, float]]] = {
        "demographic_parity_ratio": ("at least", 0.0, 1.0),
        "demographic_parity_difference": ("at most", 0.0, 1.0),
        "equalized_odds_ratio": ("at least", 0.0, 1.0),
        "equalized_odds_difference": ("at most", 0.0, 1.0),
    }
    FAIRNESS_THRESHOLDS: ClassVar[dict[str, float]] = {
        "demographic_parity_ratio": 0.8,  # the four-fifths rule
        "equalized_odds_difference": 0.1,
    }
    FAIRNESS_MITIGATIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "threshold_optimizer": (
            "demographic_parity",
            "equalized_odds",
            "true_positive_rate_parity",
            "false_positive_rate_parity",
        ),
    }
    FAIRNESS_MITIGATION_OVERALL: ClassVar[tuple[str, ...]] = ("accuracy", "selection_rate")
    FAIRNESS_MITIGATION_BY_GROUP: ClassVar[tuple[str, ...]] = ("selection_rate",)

    def fairness_metric_functions(self, columns: list[str]) -> dict[str, Any]:
        import fairlearn.metrics as fm
        from sklearn.metrics import accuracy_score

        functions = {
            "count": fm.count,
            "selection_rate": fm.selection_rate,
            "true_positive_rate": fm.true_positive_rate,
            "false_positive_rate": fm.false_positive_rate,
            "false_negative_rate": fm.false_negative_rate,
            "true_negative_rate": fm.true_negative_rate,
            "accuracy": accuracy_score,
        }
        return {m: functions[m] for m in columns}

    def fairness_cells(
        self, y: np.ndarray, decision: np.ndarray
    ) -> tuple[np.ndarray, int, np.ndarray]:
        cells = 2 * np.asarray(y, dtype=np.int64) + np.asarray(decision, dtype=np.int64)
        return cells, len(self.FAIRNESS_CELLS), np.empty((len(cells), 0))

    def fairness_rates(self, stats: np.ndarray) -> dict[str, np.ndarray]:
        index = {c: i for i, c in enumerate(self.FAIRNESS_CELLS)}
        out = {"count": stats.sum(axis=-1).astype(float)}
        for name, (num, den) in self.FAIRNESS_RATES.items():
            top = stats[..., [index[c] for c in num]].sum(axis=-1)
            bottom = stats[..., [index[c] for c in den]].sum(axis=-1)
            out[name] = _share(top, bottom)
        return out

    def fairness_summary(
        self, rates: dict[str, np.ndarray], metrics: list[str], reference: dict[str, float]
    ) -> dict[str, np.ndarray]:
        """Difference and ratio of every configured rate, and the four criteria."""
        out: dict[str, np.ndarray] = {}
        for name in self.FAIRNESS_RATES:
            if name in rates:
                out[f"{name}_difference"], out[f"{name}_ratio"] = group_spread(rates[name])
        for criterion, (parts, kind) in self.FAIRNESS_CRITERION_PARTS.items():
            values = [group_spread(rates[p])[0 if kind == "difference" else 1] for p in parts]
            out[criterion] = (
                np.maximum.reduce(values) if kind == "difference" else np.minimum.reduce(values)
            )
        return {
            key: value
            for key, value in out.items()
            if key in self.FAIRNESS_CRITERIA or key.rsplit("_", 1)[0] in metrics
        }

    def fairness_report_fields(self, threshold: float, reference: dict[str, float]) -> dict:
        words = self.words()
        return {
            "positive_label": f"{self.target_column} = 1",
            "outcome": {k: v for k, v in words.items() if k != "problem_type"},
            "decision_threshold": threshold,
        }

    def fairness_headline(self, report: dict[str, Any]) -> str:
        return (
            f"held-out rows: {report['rows']}; positive = {report['positive_label']}: "
            f"{report['outcome']['positive']}; predicted at probability >= "
            f"{report['decision_threshold']}"
        )

    def fairness_explanation(self, report: dict[str, Any]) -> str:
        outcome = report["outcome"]
        return (
            f"Selection rate = share of a group predicted to {outcome['positive']} (the "
            f"{outcome['positive_kind']} outcome for the person scored)."
        )

    def fairness_summary_lines(self, report: dict[str, Any]) -> list[str]:
        outcome = report["outcome"]
        lines = []
        for name, feature in report["features"].items():
            selected = _extremes(feature, "selection_rate")
            if selected is None:
                lines.append(_not_judged(name, feature))
                continue
            low, low_rate, high, high_rate = selected
            text = (
                f"{name}: {feature['verdict']}; share predicted to {outcome['positive']} (the "
                f"{outcome['positive_kind']} outcome) from {low_rate:.1%} ({low}) to "
                f"{high_rate:.1%} ({high})"
            )
            found = _extremes(feature, "true_positive_rate")
            if found:
                text += (
                    f", true positive rate from {found[1]:.1%} ({found[0]}) to "
                    f"{found[3]:.1%} ({found[2]})"
                )
            lines.append(text + _criteria_words(feature) + ".")
        return lines

    # --- batch scoring, monitoring and late labels --------------------------------------------

    DEFAULT_PERFORMANCE_DROP: ClassVar[dict[str, float | str]] = {"roc_auc": 0.05, "brier": 0.03}
    INVALID_LABEL_WORDS: ClassVar[str] = "with a value that is neither class"

    def can_score(self, y: np.ndarray) -> bool:
        return len(np.unique(y)) == 2

    def scoring_terms(self) -> list[tuple[str, str, Any]]:
        return [
            ("predicted_positive_rate", PREDICTION, None),
            ("mean_probability", PROBABILITY, None),
        ]

    def describe_scoring(self, summary: dict[str, float]) -> str:
        return f"{100 * summary['predicted_positive_rate']:.1f}% predicted positive"

    def spark_prediction_columns(self, output: Any, threshold: float = 0.5) -> list[Any]:
        from pyspark.sql import functions as F

        probability = output[1]  # predict_proba's columns: negative, positive
        return [
            probability.alias(PROBABILITY),
            (probability >= F.lit(threshold)).cast("long").alias(PREDICTION),
            F.lit(threshold).cast("double").alias("decision_threshold"),
        ]

    def spark_decision(self, threshold: float = 0.5) -> Any:
        from pyspark.sql import functions as F

        return (F.col(PROBABILITY) >= F.lit(threshold)).cast("long")

    def prediction_drift(self) -> PredictionDrift:
        """The probability of the positive class."""
        return PredictionDrift(PROBABILITY, "numeric")

    def drift_reference_values(self, prediction: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        return np.asarray(prediction, dtype="float64")

    def prediction_drift_metrics(self, line: dict[str, Any]) -> dict[str, float]:
        return {"mean_probability": line["batch_mean"]}

    def group_terms(self) -> list[tuple[dict[str, Any], str, Any]]:
        """The selection rate: the share predicted positive."""
        return [({}, "selection_rate", None)]

    def group_errors(self, y: np.ndarray, decision: np.ndarray) -> dict[str, float]:
        """The share of wrong decisions, the false positive and false negative rates."""
        negatives, positives = (y == 0).sum(), (y == 1).sum()
        return {
            "error_rate": float((decision != y).mean()),
            "false_positive_rate": float(((decision == 1) & (y == 0)).sum() / negatives)
            if negatives
            else float("nan"),
            "false_negative_rate": float(((decision == 0) & (y == 1)).sum() / positives)
            if positives
            else float("nan"),
        }

    def prediction_panel(self) -> dict[str, Any]:
        return {
            "title": "mean predicted probability",
            "keys": ["mean_probability"],
            "reference": False,
        }

    def group_panels(self) -> list[dict[str, Any]]:
        return [
            {
                "prefix": "selection_rate.",
                "what": "selection rate",
                "reference": True,
                "unit_range": True,
                "labels": False,
            },
            {
                "prefix": "error_rate.",
                "what": "error rate",
                "reference": False,
                "unit_range": True,
                "labels": True,
            },
        ]

    def encode_target_spark(self, frame: Any) -> Any:
        """1 for ``target.positive``, 0 for ``target.negative`` (null: any other value)."""
        from pyspark.sql import functions as F

        from .spark_engine import quoted

        column = self.target_column
        positive = _spark_matches(frame, column, _as_list(self.target["positive"]))
        if self.target.get("negative") is None:
            negative = quoted(column).isNotNull() & ~positive
        else:
            negative = _spark_matches(frame, column, _as_list(self.target["negative"])) & ~positive
        encoded = F.when(positive, F.lit(1)).when(negative, F.lit(0)).cast("long")
        return frame.withColumn(column, encoded)

    def target_found_spark(self, column: Any) -> Any:
        """A positive row: a column that never takes ``target.positive`` is refused."""
        return column == 1

    def target_not_found(self, seen: list[str]) -> ConfigError:
        return ConfigError(
            f"dataset.target.positive in {DATASET_FILE} is {self.target['positive']!r}, but "
            f"column {self.target_column!r} never takes that value; it holds {seen}."
        )


# --- multiclass -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Multiclass(Problem):
    """Three or more classes, each configured with its words; a prediction is one probability
    per class (columns in the configured order), the decision the most probable class."""

    kind: ClassVar[str] = "multiclass"
    TARGET_KEYS: ClassVar[tuple[str, ...]] = ("column", "classes")
    REQUIRED_TARGET_KEYS: ClassVar[tuple[str, ...]] = ("column", "classes")
    CLASS_KEYS: ClassVar[tuple[str, ...]] = ("value", "means", "favourable")
    METRICS: ClassVar[dict[str, Metric]] = {
        "balanced_accuracy": Metric("balanced_accuracy", "balanced_accuracy"),
        "accuracy": Metric("accuracy", "accuracy"),
        "f1_macro": Metric("f1_macro", "f1_macro", {"zero_division": 0}),
        "f1_weighted": Metric("f1_weighted", "f1_weighted", {"zero_division": 0}),
        "log_loss": Metric("log_loss", "neg_log_loss"),
        "roc_auc_ovr": Metric("roc_auc_ovr", "roc_auc_ovr", {"average": "macro"}),
    }
    DEFAULT_METRICS: ClassVar[tuple[str, ...]] = tuple(METRICS)
    DEFAULT_BENCHMARK_METRICS: ClassVar[tuple[str, ...]] = (
        "balanced_accuracy",
        "f1_macro",
        "log_loss",
        "roc_auc_ovr",
    )
    PRIMARY_METRIC: ClassVar[str] = "balanced_accuracy"
    DEFAULT_CANDIDATE: ClassVar[str] = "sklearn.ensemble.HistGradientBoostingClassifier"
    BASELINES: ClassVar[dict[str, dict[str, Any]]] = {
        "dummy_prior": {"class": "sklearn.dummy.DummyClassifier", "kwargs": {"strategy": "prior"}},
        "logistic_regression": {  # multinomial (scikit-learn's default for lbfgs)
            "class": "sklearn.linear_model.LogisticRegression",
            "kwargs": {"C": 1.0, "max_iter": 1000},
        },
    }

    @property
    def classes(self) -> list[dict[str, Any]]:
        return self.target["classes"]

    @property
    def class_names(self) -> list[str]:
        return [str(c["value"]) for c in self.classes]

    def metric(self, name: str) -> Metric:
        return self.METRICS[name]

    def score(
        self, names: list[str], y: np.ndarray, prediction: np.ndarray, threshold: float = 0.5
    ) -> dict[str, float]:
        decision = self.decide(prediction)
        labels = list(range(len(self.classes)))
        out = {}
        for name in names:
            metric = self.METRICS[name]
            if not metric.uses_scores:
                out[name] = metric(y, decision)
            elif name == "roc_auc_ovr" and len(np.unique(y)) < len(labels):
                out[name] = math.nan  # a class absent from these rows: no one-vs-rest curve
            else:
                out[name] = metric(y, prediction, labels=labels)
        return out

    def detail_metrics(
        self, y: np.ndarray, prediction: np.ndarray, threshold: float = 0.5
    ) -> dict[str, float]:
        """Precision and recall of each class (``precision.<class>``, ``recall.<class>``)."""
        from sklearn.metrics import precision_recall_fscore_support

        from .groups import metric_safe

        labels = list(range(len(self.classes)))
        precision, recall, _, _ = precision_recall_fscore_support(
            y, self.decide(prediction), labels=labels, zero_division=0
        )
        out = {}
        for index, name in enumerate(self.class_names):
            out[f"precision.{metric_safe(name)}"] = float(precision[index])
            out[f"recall.{metric_safe(name)}"] = float(recall[index])
        return out

    def encode_target(self, values: pd.Series) -> pd.Series:
        encoded = pd.Series(pd.NA, index=values.index, dtype="Int64")
        for code, spec in enumerate(self.classes):
            encoded[_matches(values, [spec["value"]]).to_numpy()] = code
        return encoded

    def describe_target(self) -> str:
        return f"one of the classes {self.class_names}"

    def named_target_values(self) -> dict[str, Any]:
        return {f"classes[{index}].value": spec["value"] for index, spec in enumerate(self.classes)}

    def _checked_labels(self, values: pd.Series, dataset: str) -> np.ndarray:
        y = values.astype("int64").to_numpy()
        present = set(np.unique(y).tolist())
        if not present <= set(range(len(self.classes))) or len(present) < 2:
            raise DataError(
                f"Target {self.target_column!r} of dataset '{dataset}' must hold class codes "
                f"0..{len(self.classes) - 1} of at least two classes; it holds {sorted(present)}."
            )
        return y

    def describe_labels(self, y: np.ndarray) -> dict[str, float]:
        from .groups import metric_safe

        counts = np.bincount(np.asarray(y, dtype="int64"), minlength=len(self.classes))
        total = max(int(counts.sum()), 1)
        return {
            f"share.{metric_safe(n)}": float(c / total)
            for n, c in zip(self.class_names, counts, strict=True)
        }

    def predict(self, model: Any, inputs: pd.DataFrame) -> np.ndarray:
        """Probabilities of every configured class (rows sum to 1), in the configured order."""
        probabilities = model.predict_proba(inputs)
        seen = list(getattr(model, "classes_", range(probabilities.shape[1])))
        out = np.zeros((len(inputs), len(self.classes)))
        out[:, [int(c) for c in seen]] = probabilities
        return out

    def decide(self, prediction: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        return np.asarray(prediction).argmax(axis=1).astype("int64")

    def predict_nothing(self) -> np.ndarray:
        return np.empty((0, len(self.classes)))

    def probability_column(self, name: str) -> str:
        from .groups import metric_safe

        return f"{PROBABILITY}_{metric_safe(name)}"

    def prediction_columns(self, prediction: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
        names = np.array(self.class_names, dtype=object)
        columns: dict[str, Any] = {
            PREDICTION: names[self.decide(prediction)] if len(prediction) else []
        }
        for index, name in enumerate(self.class_names):
            columns[self.probability_column(name)] = prediction[:, index] if len(prediction) else []
        return columns

    def prediction_of_columns(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[[self.probability_column(n) for n in self.class_names]].to_numpy(
            dtype="float64"
        )

    def decision_of_columns(self, frame: pd.DataFrame) -> np.ndarray:
        return self.encode_target(frame[PREDICTION]).to_numpy(dtype="int64")

    def plots(
        self, y: np.ndarray, prediction: np.ndarray, threshold: float = 0.5
    ) -> dict[str, Any]:
        from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay

        names = self.class_names
        figure, ax = _figure("Confusion matrix, share of each true class", len(y))
        ConfusionMatrixDisplay.from_predictions(
            y,
            self.decide(prediction),
            labels=list(range(len(names))),
            display_labels=names,
            normalize="true",
            values_format=".2f",
            ax=ax,
            colorbar=False,
        )
        ax.set_title(f"Confusion matrix, held-out set (n={len(y)})")
        ax.set_ylabel("true class (each row sums to 1)")
        ax.set_xlabel("predicted class")
        curves, axes = _figure("Precision-recall per class (one against the rest)", len(y))
        for index, name in enumerate(names):
            if (y == index).any():
                PrecisionRecallDisplay.from_predictions(
                    y == index, prediction[:, index], ax=axes, name=name
                )
        axes.set_title(f"Precision-recall per class, held-out set (n={len(y)})")
        return {"confusion_matrix": figure, "precision_recall_per_class": curves}

    def card_words(self, threshold: float = 0.5) -> dict[str, str]:
        words = self.words()["classes"]
        listed = "; ".join(
            f"`{name}` = {spec['means']}"
            + {True: " (favourable)", False: " (adverse)"}.get(spec["favourable"], "")
            for name, spec in words.items()
        )
        return {
            "prediction": (
                f"Predicts `{self.target_column}`, one of {len(words)} classes: {listed}. Each "
                "row gets every class's probability; the most probable class is the prediction."
            ),
            "primary_use": (
                "estimate, for each case, how likely each class is, to help a person route or "
                "prioritise it"
            ),
            "fairness_metrics": (
                "by group and class, the share predicted in the class, recall and precision, and "
                "accuracy by group;\n  between groups, per class (one against the rest), the "
                "demographic-parity ratio and the\n  equalised-odds difference, judged on the "
                "worst class"
            ),
            "split": "seeded, stratified by class",
        }

    def words(self) -> dict[str, Any]:
        column = self.target.get("column", "target")
        classes = {
            str(c["value"]): {
                "means": str(c.get("means") or f"has {column} = {c['value']!r}"),
                "favourable": c.get("favourable"),
            }
            for c in self.classes
        }
        return {"problem_type": self.kind, "column": column, "classes": classes}

    # --- the fairness review ----------------------------------------------------------------
    # Per group: accuracy, and per class (one against the rest) the selection rate (share
    # predicted in the class), recall, precision and false positive rate, from the group's
    # confusion matrix (cell = k * label + decision). The criteria are the binary ones for each
    # class against the rest, judged on the worst class (each class's value is reported).
    FAIRNESS_CLASS_METRICS: ClassVar[dict[str, Any]] = {
        "selection_rate": _class_selection_rate,
        "recall": _class_recall,
        "precision": _class_precision,
        "false_positive_rate": _class_false_positive_rate,
    }
    FAIRNESS_METRICS: ClassVar[tuple[str, ...]] = ("count", "accuracy", *FAIRNESS_CLASS_METRICS)
    FAIRNESS_DEFAULT_METRICS: ClassVar[tuple[str, ...]] = (
        "count",
        "accuracy",
        "selection_rate",
        "recall",
        "precision",
    )
    FAIRNESS_REQUIRED_METRICS: ClassVar[tuple[str, ...]] = ("count", "selection_rate", "recall")
    FAIRNESS_CRITERIA: ClassVar[dict[str, tuple[str, float, float]]] = Binary.FAIRNESS_CRITERIA
    FAIRNESS_THRESHOLDS: ClassVar[dict[str, float]] = {
        "demographic_parity_ratio": 0.8,
        "equalized_odds_difference": 0.1,
    }
    FAIRNESS_MITIGATIONS: ClassVar[dict[str, tuple[str, ...]]] = {}  # ThresholdOptimizer: binary

    def _fairness_class_keys(self) -> list[str]:
        """The classes as they appear in figure names (``recall.<class>``)."""
        from .groups import metric_safe

        return [metric_safe(name) for name in self.class_names]

    def fairness_columns(self, metrics: list[str]) -> list[str]:
        keys = self._fairness_class_keys()
        columns = []
        for metric in metrics:
            if metric in self.FAIRNESS_CLASS_METRICS:
                columns += [f"{metric}.{key}" for key in keys]
            else:
                columns.append(metric)
        return columns

    def fairness_axis(self, column: str) -> dict[str, Any]:
        metric, _, key = column.partition(".")
        title = f"{metric.replace('_', ' ')} of {key}" if key else metric
        return {"ylim": (0, 1.05), "title": title}

    def fairness_metric_functions(self, columns: list[str]) -> dict[str, Any]:
        import fairlearn.metrics as fm
        from sklearn.metrics import accuracy_score

        keys = self._fairness_class_keys()
        functions: dict[str, Any] = {}
        for column in columns:
            metric, _, key = column.partition(".")
            if key:
                code = keys.index(key)
                functions[column] = partial(self.FAIRNESS_CLASS_METRICS[metric], code=code)
            else:
                functions[column] = {"count": fm.count, "accuracy": accuracy_score}[metric]
        return functions

    def fairness_cells(
        self, y: np.ndarray, decision: np.ndarray
    ) -> tuple[np.ndarray, int, np.ndarray]:
        k = len(self.classes)
        cells = k * np.asarray(y, dtype=np.int64) + np.asarray(decision, dtype=np.int64)
        return cells, k * k, np.empty((len(cells), 0))

    def fairness_rates(self, stats: np.ndarray) -> dict[str, np.ndarray]:
        k = len(self.classes)
        matrix = stats.reshape(*stats.shape[:-1], k, k)  # [..., label, decision]
        count = matrix.sum(axis=(-2, -1))
        predicted, actual = matrix.sum(axis=-2), matrix.sum(axis=-1)
        hits = np.diagonal(matrix, axis1=-2, axis2=-1)
        figures = {
            "selection_rate": _share(predicted, count[..., None]),
            "recall": _share(hits, actual),
            "precision": _share(hits, predicted),
            "false_positive_rate": _share(predicted - hits, count[..., None] - actual),
        }
        out = {"count": count.astype(float), "accuracy": _share(hits.sum(axis=-1), count)}
        for metric, values in figures.items():
            for index, key in enumerate(self._fairness_class_keys()):
                out[f"{metric}.{key}"] = values[..., index]
        return out

    def fairness_summary(
        self, rates: dict[str, np.ndarray], metrics: list[str], reference: dict[str, float]
    ) -> dict[str, np.ndarray]:
        """Each criterion on its worst class, then per class (``<criterion>.<class>``), then
        the differences of the configured class metrics (recall, precision, ...) per class."""
        per_class: dict[str, dict[str, np.ndarray]] = {c: {} for c in self.FAIRNESS_CRITERIA}
        for key in self._fairness_class_keys():
            dp_difference, dp_ratio = group_spread(rates[f"selection_rate.{key}"])
            tpr_difference, tpr_ratio = group_spread(rates[f"recall.{key}"])
            fpr_difference, fpr_ratio = group_spread(rates[f"false_positive_rate.{key}"])
            per_class["demographic_parity_ratio"][key] = dp_ratio
            per_class["demographic_parity_difference"][key] = dp_difference
            per_class["equalized_odds_ratio"][key] = np.minimum(tpr_ratio, fpr_ratio)
            per_class["equalized_odds_difference"][key] = np.maximum(tpr_difference, fpr_difference)
        out: dict[str, np.ndarray] = {}
        with quiet_numpy():
            for criterion, (rule, _, _) in self.FAIRNESS_CRITERIA.items():
                stacked = np.stack(list(per_class[criterion].values()), axis=-1)
                worst = np.nanmin if rule == "at least" else np.nanmax
                out[criterion] = worst(stacked, axis=-1)
        for criterion, values in per_class.items():
            out |= {f"{criterion}.{key}": value for key, value in values.items()}
        for metric in metrics:
            if metric in self.FAIRNESS_CLASS_METRICS and metric != "selection_rate":
                for key in self._fairness_class_keys():
                    out[f"{metric}_difference.{key}"] = group_spread(rates[f"{metric}.{key}"])[0]
            elif metric == "accuracy":
                out["accuracy_difference"], out["accuracy_ratio"] = group_spread(rates[metric])
        return out

    def _fairness_class_words(self) -> dict[str, str]:
        """Class key -> ``high (means ...; favourable)``."""
        out = {}
        for key, spec in zip(self._fairness_class_keys(), self.classes, strict=True):
            means = spec.get("means")
            favourable = {True: "favourable", False: "adverse"}.get(spec.get("favourable"))
            details = "; ".join(str(d) for d in (means, favourable) if d)
            out[key] = f"{spec['value']}" + (f" ({details})" if details else "")
        return out

    def fairness_headline(self, report: dict[str, Any]) -> str:
        return (
            f"held-out rows: {report['rows']}; predicted class: the most probable of "
            f"{', '.join(self._fairness_class_words().values())}"
        )

    def fairness_explanation(self, report: dict[str, Any]) -> str:
        return (
            "Per class, one against the rest: selection rate = share of a group predicted in "
            "the class; recall = share of the group's rows of the class predicted in it; "
            "precision = share of the group's rows predicted in the class that are in it; false "
            "positive rate = share of the group's rows of other classes predicted in it. "
            "Demographic parity compares selection rates between groups, equalised odds recall "
            "and false positive rates (the worse of the two); each criterion is computed for "
            "every class and judged on its worst class."
        )

    def fairness_summary_lines(self, report: dict[str, Any]) -> list[str]:
        words = self._fairness_class_words()
        lines = []
        for name, feature in report["features"].items():
            summary = feature.get("summary") or {}
            odds = _worst_part(summary, "equalized_odds_difference", max)
            parity = _worst_part(summary, "demographic_parity_ratio", min)
            if odds is None or parity is None:
                lines.append(_not_judged(name, feature))
                continue
            text = f"{name}: {feature['verdict']}; error rates differ most for class {words[odds]}"
            for metric in ("recall", "precision"):
                found = _extremes(feature, f"{metric}.{odds}")
                if found:
                    text += (
                        f", {metric} from {found[1]:.1%} ({found[0]}) to {found[3]:.1%} "
                        f"({found[2]})"
                    )
            found = _extremes(feature, f"selection_rate.{parity}")
            if found:
                text += (
                    f"; predicted shares differ most for class {words[parity]}, from "
                    f"{found[1]:.1%} ({found[0]}) to {found[3]:.1%} ({found[2]})"
                )
            lines.append(text + _criteria_words(feature) + ".")
        return lines

    # --- batch scoring, monitoring and late labels --------------------------------------------

    DEFAULT_PERFORMANCE_DROP: ClassVar[dict[str, float | str]] = {"balanced_accuracy": 0.05}

    def scoring_terms(self) -> list[tuple[str, str, Any]]:
        """The share predicted in each class (``predicted_share.<class>``)."""
        from .groups import metric_safe

        return [(f"predicted_share.{metric_safe(n)}", PREDICTION, n) for n in self.class_names]

    def describe_scoring(self, summary: dict[str, float]) -> str:
        shares = zip(self.class_names, summary.values(), strict=True)
        return "predicted " + ", ".join(f"{name} {100 * share:.1f}%" for name, share in shares)

    def spark_prediction_columns(self, output: Any, threshold: float = 0.5) -> list[Any]:
        """The class of the largest probability (the first of equal ones, as numpy's argmax) and
        each class's probability; a model that gives another number of probabilities than the
        configured classes stops the job."""
        from pyspark.sql import functions as F

        names = self.class_names
        k = len(names)
        message = F.concat(
            F.lit("The model gives "),
            F.size(output).cast("string"),
            F.lit(
                f" probabilities per row, but dataset.target.classes in {DATASET_FILE} lists {k} "
                "classes: train the model on this configuration again."
            ),
        )
        checked = F.when(F.size(output) == k, output).otherwise(F.raise_error(message))
        best = F.array_position(checked, F.array_max(checked)).cast("int")
        prediction = F.element_at(F.array(*(F.lit(n) for n in names)), best)
        return [prediction.alias(PREDICTION)] + [
            checked[i].alias(self.probability_column(n)) for i, n in enumerate(names)
        ]

    def spark_decision(self, threshold: float = 0.5) -> Any:
        from pyspark.sql import functions as F

        codes = F.create_map(*(F.lit(x) for i, n in enumerate(self.class_names) for x in (n, i)))
        return codes[F.col(PREDICTION)].cast("long")

    def prediction_drift(self) -> PredictionDrift:
        """The predicted class: its distribution over the classes (PSI, chi-squared)."""
        return PredictionDrift(PREDICTION, "categorical", "chi2", tuple(self.class_names))

    def drift_reference_values(self, prediction: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        names = np.array(self.class_names, dtype=object)
        return names[self.decide(prediction)] if len(prediction) else names[:0]

    def prediction_drift_metrics(self, line: dict[str, Any]) -> dict[str, float]:
        """``predicted_share.<class>`` and the training reference's, per class."""
        from .groups import metric_safe

        out = {}
        for name in map(metric_safe, self.class_names):
            out[f"predicted_share.{name}"] = line[f"batch_share_{name}"]
            out[f"reference_predicted_share.{name}"] = line[f"reference_share_{name}"]
        return out

    def group_terms(self) -> list[tuple[dict[str, Any], str, Any]]:
        """Per class, the share of the group predicted in it (its selection rate)."""
        return [({"class": n}, "selection_rate", i) for i, n in enumerate(self.class_names)]

    def prediction_panel(self) -> dict[str, Any]:
        return {
            "title": "share predicted in each class",
            "keys": ["predicted_share."],
            "reference": True,
        }

    def group_panels(self) -> list[dict[str, Any]]:
        from .groups import metric_safe

        panels = [
            {
                "prefix": f"selection_rate.{metric_safe(name)}.",
                "what": f"selection rate of {name}",
                "reference": True,
                "unit_range": True,
                "labels": False,
                "heading": True,
            }
            for name in self.class_names
        ]
        return [
            *panels,
            {
                "prefix": "error_rate.",
                "what": "error rate",
                "reference": False,
                "unit_range": True,
                "labels": True,
            },
        ]

    def encode_target_spark(self, frame: Any) -> Any:
        """The class code of each value (a later class wins, as in :meth:`encode_target`)."""
        from pyspark.sql import functions as F

        column = self.target_column
        encoded = F.lit(None).cast("long")
        for code, spec in enumerate(self.classes):
            encoded = F.when(_spark_matches(frame, column, [spec["value"]]), F.lit(code)).otherwise(
                encoded
            )
        return frame.withColumn(column, encoded.cast("long"))


# --- regression -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Regression(Problem):
    """A number to predict; a prediction is that number, and an error is its residual, truth
    minus prediction as scikit-learn plots it (negative = over-estimated)."""

    kind: ClassVar[str] = "regression"
    is_classification: ClassVar[bool] = False
    TARGET_KEYS: ClassVar[tuple[str, ...]] = ("column", "means", "unit", "higher_is_favourable")
    METRICS: ClassVar[dict[str, Metric]] = {
        "rmse": Metric("rmse", "neg_root_mean_squared_error"),
        "mae": Metric("mae", "neg_mean_absolute_error"),
        "r2": Metric("r2", "r2"),
        "median_absolute_error": Metric("median_absolute_error", "neg_median_absolute_error"),
        "mape": Metric("mape", "neg_mean_absolute_percentage_error"),
    }
    DEFAULT_METRICS: ClassVar[tuple[str, ...]] = tuple(METRICS)
    DEFAULT_BENCHMARK_METRICS: ClassVar[tuple[str, ...]] = ("rmse", "mae", "r2")
    PRIMARY_METRIC: ClassVar[str] = "rmse"
    DEFAULT_CANDIDATE: ClassVar[str] = "sklearn.ensemble.HistGradientBoostingRegressor"
    BASELINES: ClassVar[dict[str, dict[str, Any]]] = {
        "dummy_mean": {"class": "sklearn.dummy.DummyRegressor", "kwargs": {"strategy": "mean"}},
        "dummy_median": {"class": "sklearn.dummy.DummyRegressor", "kwargs": {"strategy": "median"}},
        "ridge": {"class": "sklearn.linear_model.Ridge", "kwargs": {"alpha": 1.0}},
    }
    PREDICT_METHOD: ClassVar[str] = "predict"

    def _estimator_words(self) -> str:
        return "a regressor with predict()"

    def score(
        self, names: list[str], y: np.ndarray, prediction: np.ndarray, threshold: float = 0.5
    ) -> dict[str, float]:
        out = {}
        for name in names:
            if name == "mape" and not np.all(np.asarray(y) != 0):
                continue  # undefined where the target is 0: not logged
            out[name] = self.METRICS[name](y, prediction)
        return out

    def encode_target(self, values: pd.Series) -> pd.Series:
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            numbers = values.astype("float64")
        else:
            numbers = pd.to_numeric(values.astype("string").str.strip(), errors="coerce").astype(
                "float64"
            )
        return numbers.where(np.isfinite(numbers))

    def describe_target(self) -> str:
        return "a number"

    def _checked_labels(self, values: pd.Series, dataset: str) -> np.ndarray:
        y = values.astype("float64").to_numpy()
        if not np.isfinite(y).all():
            raise DataError(
                f"Target {self.target_column!r} of dataset '{dataset}' holds values that are "
                "not finite numbers; validation should have quarantined them."
            )
        return y

    def describe_labels(self, y: np.ndarray) -> dict[str, float]:
        y = np.asarray(y, dtype="float64")
        if not len(y):
            return {"target_mean": math.nan}
        return {
            "target_mean": float(y.mean()),
            "target_std": float(y.std(ddof=1)) if len(y) > 1 else 0.0,
        }

    def predict(self, model: Any, inputs: pd.DataFrame) -> np.ndarray:
        return np.asarray(model.predict(inputs), dtype="float64")

    def decide(self, prediction: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        return np.asarray(prediction, dtype="float64")

    def prediction_columns(self, prediction: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
        return {PREDICTION: np.asarray(prediction, dtype="float64")}

    def prediction_of_columns(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[PREDICTION].to_numpy(dtype="float64")

    def decision_of_columns(self, frame: pd.DataFrame) -> np.ndarray:
        return self.prediction_of_columns(frame)

    def plots(
        self, y: np.ndarray, prediction: np.ndarray, threshold: float = 0.5
    ) -> dict[str, Any]:
        from sklearn.metrics import PredictionErrorDisplay

        quantity = self.quantity()
        figures = {}
        figure, ax = _figure("Predicted against actual", len(y))
        PredictionErrorDisplay.from_predictions(y, prediction, kind="actual_vs_predicted", ax=ax)
        ax.set_xlabel(f"predicted {quantity}")
        ax.set_ylabel(f"actual {quantity}")
        ax.set_title(f"Predicted against actual, held-out set (n={len(y)})")
        figures["predicted_vs_actual"] = figure
        figure, ax = _figure("Residuals against predicted", len(y))
        PredictionErrorDisplay.from_predictions(y, prediction, kind="residual_vs_predicted", ax=ax)
        ax.set_xlabel(f"predicted {quantity}")
        ax.set_ylabel("actual - predicted")
        ax.set_title(f"Residuals against predicted, held-out set (n={len(y)})")
        figures["residuals_vs_predicted"] = figure
        figure, ax = _figure("Residual distribution", len(y))
        ax.hist(np.asarray(y) - np.asarray(prediction), bins=40, color="tab:blue", alpha=0.8)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(f"actual - predicted ({self.target.get('unit') or 'target units'})")
        ax.set_ylabel("rows")
        ax.set_title(f"Residual distribution, held-out set (n={len(y)})")
        figures["residual_distribution"] = figure
        return figures

    def quantity(self) -> str:
        return str(self.target.get("means") or self.target.get("column", "target"))

    def card_words(self, threshold: float = 0.5) -> dict[str, str]:
        words = self.words()
        unit = f" in {words['unit']}" if words["unit"] else ""
        direction = {
            True: "higher values are favourable for the person or thing scored",
            False: "higher values are adverse for the person or thing scored",
        }.get(words["higher_is_favourable"], "neither higher nor lower values are favourable")
        return {
            "prediction": (
                f"Predicts `{self.target_column}`: the {words['quantity']}{unit} ({direction})."
            ),
            "primary_use": (
                f"estimate, for each case, the {words['quantity']}, to help a person plan or "
                "review it"
            ),
            "fairness_metrics": (
                "by group, mean absolute error, root mean squared error, mean prediction and "
                "mean residual\n  (truth minus prediction: negative = over-estimated); "
                "between groups, the ratio of the\n  worst to the best mean absolute error and "
                "the gap in mean residual"
            ),
            "split": "seeded, random",
        }

    def describe_labels_text(self, y: np.ndarray) -> str:
        y = np.asarray(y, dtype="float64")
        unit = f" {self.target.get('unit')}" if self.target.get("unit") else ""
        return f"mean {y.mean():.4g}{unit} (standard deviation {y.std(ddof=1):.4g})"

    def words(self) -> dict[str, Any]:
        higher = self.target.get("higher_is_favourable")
        return {
            "problem_type": self.kind,
            "column": self.target.get("column", "target"),
            "quantity": self.quantity(),
            "unit": str(self.target.get("unit") or ""),
            "higher_is_favourable": higher,
        }

    # --- the fairness review ----------------------------------------------------------------
    # Per group: mean absolute error, root mean squared error, mean prediction and mean
    # residual (actual - predicted: positive = under-estimated), from per-group sums of
    # |residual|, residual², prediction and residual. Criteria are scale-free: MAE and RMSE as
    # the worst group's over the best group's; gaps between groups' means in standard
    # deviations of the held-out target (``<metric>_gap``: the same gaps in the target's unit).
    FAIRNESS_METRICS: ClassVar[tuple[str, ...]] = (
        "count",
        "mae",
        "rmse",
        "mean_prediction",
        "mean_residual",
    )
    FAIRNESS_DEFAULT_METRICS: ClassVar[tuple[str, ...]] = FAIRNESS_METRICS
    FAIRNESS_REQUIRED_METRICS: ClassVar[tuple[str, ...]] = ("count", "mae", "mean_residual")
    FAIRNESS_CRITERIA: ClassVar[dict[str, tuple[str, float, float]]] = {
        "mae_ratio": ("at most", 1.0, math.inf),
        "rmse_ratio": ("at most", 1.0, math.inf),
        "mean_residual_difference": ("at most", 0.0, math.inf),
        "mean_prediction_difference": ("at most", 0.0, math.inf),
    }
    # worst group's MAE at most 1.25x the best's; mean residuals at most 0.1 target std apart
    FAIRNESS_THRESHOLDS: ClassVar[dict[str, float]] = {
        "mae_ratio": 1.25,
        "mean_residual_difference": 0.1,
    }
    FAIRNESS_MITIGATIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        "exponentiated_gradient": ("bounded_group_loss",),
    }
    FAIRNESS_MITIGATION_OVERALL: ClassVar[tuple[str, ...]] = ("mae", "rmse", "mean_residual")
    FAIRNESS_MITIGATION_BY_GROUP: ClassVar[tuple[str, ...]] = ("mae", "mean_residual")

    def fairness_metric_functions(self, columns: list[str]) -> dict[str, Any]:
        import fairlearn.metrics as fm
        from sklearn.metrics import mean_absolute_error, root_mean_squared_error

        functions = {
            "count": fm.count,
            "mae": mean_absolute_error,
            "rmse": root_mean_squared_error,
            "mean_prediction": _mean_prediction,
            "mean_residual": _mean_residual,
        }
        return {m: functions[m] for m in columns}

    def fairness_cells(
        self, y: np.ndarray, decision: np.ndarray
    ) -> tuple[np.ndarray, int, np.ndarray]:
        prediction = np.asarray(decision, dtype="float64")
        residual = np.asarray(y, dtype="float64") - prediction
        values = np.column_stack([np.abs(residual), residual**2, prediction, residual])
        return np.zeros(len(residual), dtype=np.int64), 1, values

    def fairness_rates(self, stats: np.ndarray) -> dict[str, np.ndarray]:
        count = stats[..., 0]
        with quiet_numpy():
            return {
                "count": count.astype(float),
                "mae": _share(stats[..., 1], count),
                "rmse": np.sqrt(_share(stats[..., 2], count)),
                "mean_prediction": _share(stats[..., 3], count),
                "mean_residual": _share(stats[..., 4], count),
            }

    def fairness_reference(self, y: np.ndarray) -> dict[str, float]:
        """The held-out target's standard deviation: the unit of the ``_difference`` criteria."""
        y = np.asarray(y, dtype="float64")
        return {"target_std": float(np.std(y, ddof=1)) if len(y) > 1 else math.nan}

    def fairness_summary(
        self, rates: dict[str, np.ndarray], metrics: list[str], reference: dict[str, float]
    ) -> dict[str, np.ndarray]:
        std = reference["target_std"]
        out: dict[str, np.ndarray] = {}
        with quiet_numpy():
            for metric in ("mae", "rmse"):
                high = np.nanmax(rates[metric], axis=-1)
                low = np.nanmin(rates[metric], axis=-1)
                ratio = np.where(low > 0, high / np.where(low > 0, low, 1.0), np.inf)
                out[f"{metric}_ratio"] = np.where(high > 0, ratio, np.where(high == 0, 1.0, np.nan))
            for metric in ("mean_residual", "mean_prediction"):
                gap = group_spread(rates[metric])[0]
                out[f"{metric}_difference"] = gap / std if std > 0 else gap * np.nan
        for metric in metrics:
            if metric != "count":
                out[f"{metric}_gap"] = group_spread(rates[metric])[0]
        return out

    def fairness_report_fields(self, threshold: float, reference: dict[str, float]) -> dict:
        return {"words": self.words(), **reference, "residual": "actual - predicted"}

    def _fairness_unit(self) -> str:
        unit = self.target.get("unit")
        return f" {unit}" if unit else ""

    def fairness_headline(self, report: dict[str, Any]) -> str:
        unit = self.target.get("unit")
        quantity = f"{self.quantity()} ({unit})" if unit else self.quantity()
        return (
            f"held-out rows: {report['rows']}; predicted: {quantity}; residual = actual - predicted"
        )

    def _fairness_favour(self) -> tuple[str, str]:
        """What over- and under-estimation mean for the person scored."""
        higher = self.target.get("higher_is_favourable")
        if higher is None:
            return "", ""
        return ("favourable", "adverse") if higher else ("adverse", "favourable")

    def fairness_explanation(self, report: dict[str, Any]) -> str:
        quantity, unit = self.quantity(), self._fairness_unit()
        over, under = self._fairness_favour()
        favour = (
            f"A higher {quantity} is {'favourable' if over == 'favourable' else 'adverse'} for "
            f"the person scored, so over-estimation is {over} for a group and "
            f"under-estimation {under}."
            if over
            else "Neither a higher nor a lower prediction is configured as favourable for the "
            "person scored (dataset.target.higher_is_favourable)."
        )
        return (
            f"Residual = actual - predicted {quantity}: a group with a positive mean residual "
            f"is under-estimated on average, one with a negative mean residual over-estimated. "
            f"{favour} mae_ratio and rmse_ratio = the largest group error over the smallest; "
            "mean_residual_difference and mean_prediction_difference = the largest gap between "
            "groups' means in standard deviations of the held-out target "
            f"({fmt_number(report.get('target_std'))}{unit}); _gap = the same gaps in the "
            "target's unit."
        )

    def fairness_summary_lines(self, report: dict[str, Any]) -> list[str]:
        quantity, unit = self.quantity(), self._fairness_unit()
        over, under = self._fairness_favour()
        lines = []
        for name, feature in report["features"].items():
            errors = _extremes(feature, "mae")
            residuals = _extremes(feature, "mean_residual")
            if errors is None or residuals is None:
                lines.append(_not_judged(name, feature))
                continue
            text = (
                f"{name}: {feature['verdict']}; mean absolute error from "
                f"{fmt_number(errors[1])}{unit} ({errors[0]}) to {fmt_number(errors[3])}{unit} "
                f"({errors[2]})"
            )
            for group, residual in ((residuals[0], residuals[1]), (residuals[2], residuals[3])):
                way, kind = ("over", over) if residual < 0 else ("under", under)
                text += (
                    f"; {quantity} of {group} is {way}-estimated by {fmt_number(abs(residual))}"
                    f"{unit} on average" + (f" ({kind} for the person scored)" if kind else "")
                )
            lines.append(text + _criteria_words(feature) + ".")
        return lines

    def fairness_axis(self, column: str) -> dict[str, Any]:
        axis = {"ylabel": self.target.get("unit") or self.quantity()}
        if column == "mean_residual":
            axis["title"] = "mean residual (actual - predicted)"
        return axis

    # --- batch scoring, monitoring and late labels --------------------------------------------

    DEFAULT_PERFORMANCE_DROP: ClassVar[dict[str, float | str]] = {"rmse": "10%"}
    GROUP_DRIFT_THRESHOLD: ClassVar[str] = "mean_prediction_change"
    GROUP_ERROR_METRICS: ClassVar[tuple[str, ...]] = ("mae", "mean_residual")
    INVALID_LABEL_WORDS: ClassVar[str] = "with a value that is not a number"

    def label_values(self, values: Any) -> np.ndarray:
        return np.asarray(values, dtype="float64")

    def can_score(self, y: np.ndarray) -> bool:
        return len(y) >= 2

    def scoring_terms(self) -> list[tuple[str, str, Any]]:
        return [("mean_prediction", PREDICTION, None)]

    def describe_scoring(self, summary: dict[str, float]) -> str:
        unit = self.target.get("unit")
        return f"mean prediction {summary['mean_prediction']:.4g}" + (f" {unit}" if unit else "")

    def spark_udf_result_type(self) -> Any:
        from pyspark.sql import types as T

        return T.DoubleType()

    def spark_prediction_columns(self, output: Any, threshold: float = 0.5) -> list[Any]:
        return [output.cast("double").alias(PREDICTION)]

    def spark_decision(self, threshold: float = 0.5) -> Any:
        from pyspark.sql import functions as F

        return F.col(PREDICTION).cast("double")

    def prediction_drift(self) -> PredictionDrift:
        """The predicted number (PSI on the reference's quantile bins, Kolmogorov-Smirnov)."""
        return PredictionDrift(PREDICTION, "numeric", "ks")

    def drift_reference_values(self, prediction: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        return np.asarray(prediction, dtype="float64")

    def prediction_drift_metrics(self, line: dict[str, Any]) -> dict[str, float]:
        return {
            "mean_prediction": line["batch_mean"],
            "reference_mean_prediction": line["reference_mean"],
        }

    def group_terms(self) -> list[tuple[dict[str, Any], str, Any]]:
        """The group's mean prediction."""
        return [({}, "mean_prediction", None)]

    def group_drift_allowed(self, thresholds: dict[str, Any], reference: np.ndarray) -> float:
        """``mean_prediction_change`` standard deviations of the training reference's
        predictions."""
        spread = float(np.std(reference, ddof=1)) if len(reference) > 1 else 0.0
        return float(thresholds[self.GROUP_DRIFT_THRESHOLD]) * spread

    def group_errors(self, y: np.ndarray, decision: np.ndarray) -> dict[str, float]:
        """Mean absolute error and mean residual (truth minus prediction: < 0, over-estimated)."""
        residual = np.asarray(y, dtype="float64") - np.asarray(decision, dtype="float64")
        return {"mae": float(np.mean(np.abs(residual))), "mean_residual": float(np.mean(residual))}

    def prediction_panel(self) -> dict[str, Any]:
        return {
            "title": f"mean predicted {self.quantity()}",
            "keys": ["mean_prediction"],
            "reference": True,
        }

    def group_panels(self) -> list[dict[str, Any]]:
        return [
            {
                "prefix": "mean_prediction.",
                "what": "mean prediction",
                "reference": True,
                "unit_range": False,
                "labels": False,
            },
            {
                "prefix": "mae.",
                "what": "mean absolute error",
                "reference": False,
                "unit_range": False,
                "labels": True,
            },
            {
                "prefix": "mean_residual.",
                "what": "mean residual (actual - predicted)",
                "reference": False,
                "unit_range": False,
                "labels": True,
            },
        ]

    def encode_target_spark(self, frame: Any) -> Any:
        """The number (text parsed as one); missing where it is not a finite number."""
        from pyspark.sql import functions as F

        from .spark_engine import quoted

        column = self.target_column
        kind = dict(frame.dtypes)[column]
        value = quoted(column)
        if kind.startswith(_SPARK_NUMERIC_TYPES) and kind != "boolean":
            number = value.cast("double")
        elif kind == "boolean":
            number = F.lit(None).cast("double")  # as pandas: True / False are not numbers
        else:
            number = F.trim(value.cast("string")).try_cast("double")
        finite = ~F.isnan(number) & (F.abs(number) != F.lit(float("inf")))
        return frame.withColumn(column, F.when(finite, number))


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
        raise ConfigError(
            f"dataset.target.{unknown[0]} in {DATASET_FILE} is not a key of a {cls.kind} target "
            f"(dataset.problem_type: {cls.kind}); use {list(cls.TARGET_KEYS)}."
        )
    for key in cls.REQUIRED_TARGET_KEYS:
        if target.get(key) is None or target.get(key) == "":
            raise ConfigError(f"dataset.target.{key} in {DATASET_FILE} is missing or empty.")
    if not isinstance(target["column"], str):
        raise ConfigError(f"dataset.target.column in {DATASET_FILE} must name the target column.")
    if cls is Multiclass:
        classes = target["classes"]
        if not isinstance(classes, list) or len(classes) < 3:
            raise ConfigError(
                f"dataset.target.classes in {DATASET_FILE} must list at least three classes, each "
                "{value, means, favourable}; with two classes, use problem_type: binary."
            )
        checked, seen = [], set()
        for index, given in enumerate(classes):
            spec = given if isinstance(given, dict) else {"value": given}
            unknown = sorted(set(spec) - set(Multiclass.CLASS_KEYS))
            if unknown or spec.get("value") is None:
                raise ConfigError(
                    f"dataset.target.classes[{index}] in {DATASET_FILE} must be a mapping of "
                    f"value, means and favourable, with a value; it is {spec!r}."
                )
            key = str(spec["value"]).strip().lower()
            if key in seen:
                raise ConfigError(
                    f"dataset.target.classes in {DATASET_FILE} lists {spec['value']!r} twice."
                )
            seen.add(key)
            checked.append(dict(spec))
        target = {**target, "classes": checked}
    return dict(target)


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
