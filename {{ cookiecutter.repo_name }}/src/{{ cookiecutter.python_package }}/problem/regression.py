"""Regression: a number to predict."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import DataError
from .base import (
    _SPARK_NUMERIC_TYPES,
    PREDICTION,
    Metric,
    PredictionDrift,
    Problem,
    _criteria_words,
    _extremes,
    _figure,
    _mean_prediction,
    _mean_residual,
    _not_judged,
    _share,
    fmt_number,
    group_spread,
    quiet_numpy,
)

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

    def errors_of(
        self, y: np.ndarray, prediction: np.ndarray, threshold: float, residual_quantile: float
    ) -> tuple[np.ndarray, str]:
        """A row is an error when its absolute residual is above the ``residual_quantile`` of
        the rows' absolute residuals: the largest errors, whatever the target's unit."""
        residual = np.abs(np.asarray(y, dtype="float64") - np.asarray(prediction, dtype="float64"))
        cutoff = float(np.quantile(residual, residual_quantile)) if len(residual) else math.nan
        unit = f" {self.target.get('unit')}" if self.target.get("unit") else ""
        return residual > cutoff, (
            f"off by more than {cutoff:.4g}{unit} (the largest {1 - residual_quantile:.0%} of "
            "absolute errors)"
        )

    def partial_dependence_target(
        self, y: np.ndarray, prediction: np.ndarray, threshold: float
    ) -> tuple[int | None, str]:
        return None, f"the predicted {self.quantity()}"

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

        from ..spark_engine import quoted

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
