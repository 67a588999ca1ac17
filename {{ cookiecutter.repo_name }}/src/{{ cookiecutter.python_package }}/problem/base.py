"""What every problem type answers (:class:`Problem`), and the pieces the types share.

Each type's answers are in its own module: ``binary.py``, ``multiclass.py``, ``regression.py``."""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError

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
        from ..groups import metric_safe

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

    from ..spark_engine import quoted

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

    @classmethod
    def checked_target(cls, target: dict[str, Any]) -> dict[str, Any]:
        """The target section after the common checks; a type may check more of it."""
        return target

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

    # --- what drives the predictions, where the model is wrong (pipelines/explanation) -------

    def errors_of(
        self, y: np.ndarray, prediction: np.ndarray, threshold: float, residual_quantile: float
    ) -> tuple[np.ndarray, str]:
        """Which rows the model gets wrong (booleans), and what "wrong" means in words.

        Classes: the predicted class is not the actual one (``residual_quantile`` is unused).
        """
        wrong = self.decide(prediction, threshold) != np.asarray(y)
        return wrong, "misclassified (the predicted class is not the actual one)"

    def partial_dependence_target(
        self, y: np.ndarray, prediction: np.ndarray, threshold: float
    ) -> tuple[int | None, str]:
        """The class whose probability partial dependence plots show (None: the model's single
        output), and that output in words."""
        raise NotImplementedError

    # --- what a decision is worth (training.decision) -----------------------------------------
    # Only a type that decides by a threshold on a score (binary) chooses one; the others
    # decide by their prediction itself and report no decision value.
    DECIDES_BY_THRESHOLD: ClassVar[bool] = False

    def choose_threshold(
        self, y: np.ndarray, prediction: np.ndarray, rule: dict[str, Any]
    ) -> dict[str, Any]:
        """The threshold ``rule`` (``training.decision``) picks on out-of-fold ``prediction``."""
        raise NotImplementedError

    def decision_value(
        self, y: np.ndarray, prediction: np.ndarray, threshold: float, values: dict[str, float]
    ) -> float:
        """The mean value per case of deciding at ``threshold``, in the team's unit."""
        raise NotImplementedError

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
