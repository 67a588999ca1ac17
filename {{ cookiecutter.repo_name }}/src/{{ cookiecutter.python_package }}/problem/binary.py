"""Binary classification: the positive class (1) against the rest (0)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from .base import (
    DATASET_FILE,
    PREDICTION,
    PROBABILITY,
    Metric,
    PredictionDrift,
    Problem,
    _as_list,
    _criteria_words,
    _extremes,
    _figure,
    _matches,
    _not_judged,
    _share,
    _spark_matches,
    group_spread,
)

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

    # --- what a decision is worth (training.decision) ---------------------------------------
    DECIDES_BY_THRESHOLD: ClassVar[bool] = True
    # The four outcomes in the order of 2 * label + decision (as FAIRNESS_CELLS).
    OUTCOMES: ClassVar[tuple[str, ...]] = (
        "true_negative",
        "false_positive",
        "false_negative",
        "true_positive",
    )
    # The thresholds a value-based rule chooses among: 0.001 to 0.999.
    THRESHOLDS: ClassVar[np.ndarray] = np.round(np.arange(1, 1000) * 0.001, 3)

    def outcome_counts(self, y: np.ndarray, prediction: np.ndarray, threshold: float) -> np.ndarray:
        """Rows of each outcome (``OUTCOMES``) when deciding at ``threshold``."""
        cells = 2 * np.asarray(y, dtype=np.int64) + self.decide(prediction, threshold)
        return np.bincount(cells, minlength=4)

    def _value_of_outcomes(self, values: dict[str, float]) -> np.ndarray:
        return np.array([float(values[o]) for o in self.OUTCOMES])

    def _value_per_case(self, counts: np.ndarray, values: dict[str, float]) -> float:
        """The mean value per case of outcome ``counts`` (``OUTCOMES``)."""
        return float(counts @ self._value_of_outcomes(values) / max(counts.sum(), 1))

    def decision_value(
        self, y: np.ndarray, prediction: np.ndarray, threshold: float, values: dict[str, float]
    ) -> float:
        return self._value_per_case(self.outcome_counts(y, prediction, threshold), values)

    def value_curve(
        self, y: np.ndarray, prediction: np.ndarray, values: dict[str, float]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The mean value per case of deciding at each threshold of the grid."""
        thresholds = self.THRESHOLDS
        y, p = np.asarray(y, dtype=np.int64), np.asarray(prediction, dtype="float64")
        positives, negatives = np.sort(p[y == 1]), np.sort(p[y == 0])
        tp = len(positives) - np.searchsorted(positives, thresholds, side="left")
        fp = len(negatives) - np.searchsorted(negatives, thresholds, side="left")
        counts = np.stack([len(negatives) - fp, fp, len(positives) - tp, tp], axis=1)
        return thresholds, counts @ self._value_of_outcomes(values) / max(len(y), 1)

    def choose_threshold(
        self, y: np.ndarray, prediction: np.ndarray, rule: dict[str, Any]
    ) -> dict[str, Any]:
        """``value``: the middle of the grid's run of thresholds with the highest mean value
        per case; ``capacity``: the threshold that flags at most that share of the rows;
        ``fixed``: the configured one. With the share flagged (and the value) it gives."""
        p = np.asarray(prediction, dtype="float64")
        if rule["choose"] == "value":
            thresholds, curve = self.value_curve(y, p, rule["values"])
            best = np.flatnonzero(np.isclose(curve, curve.max(), rtol=0, atol=1e-12))
            run = best[: np.argmax(np.diff(np.append(best, best[-1] + 2)) > 1) + 1]
            threshold = float(thresholds[run[len(run) // 2]])
        elif rule["choose"] == "capacity":
            ordered = np.sort(p)[::-1]  # highest first; the first k rows are flagged
            k = int(np.floor(rule["capacity"] * len(p)))
            if k >= len(p):
                threshold = float(ordered[-1])
            elif k > 0 and ordered[k - 1] > ordered[k]:
                threshold = float((ordered[k - 1] + ordered[k]) / 2)
            else:  # ties at the boundary: flag fewer rather than more than the capacity
                threshold = float(np.nextafter(ordered[k], np.inf))
        else:
            threshold = float(rule["threshold"])
        choice = {
            "threshold": threshold,
            "flagged_share": float(np.mean(self.decide(p, threshold))),
        }
        if rule.get("values"):
            choice["value_per_case"] = self.decision_value(y, p, threshold, rule["values"])
        return choice

    def decision_report(
        self,
        y: np.ndarray,
        scored: dict[str, tuple[np.ndarray, float]],
        decision: dict[str, Any],
        *,
        repeats: int,
        seed: int,
        confidence: float,
    ) -> dict[str, Any]:
        """Held-out figures of deciding at each model's threshold (``scored``: name ->
        (probabilities, threshold); ``model`` first): share flagged, mean value per case with
        a bootstrap interval (rows resampled; the value depends on the four outcome counts
        only, so a resample is one multinomial draw), acting on all and on none, Brier score.
        The flat ``metrics`` and ``calibration`` are the run's ``decision.*`` and
        ``calibration.*``."""
        from sklearn.metrics import brier_score_loss

        y = np.asarray(y, dtype=np.int64)
        values = decision["values"]
        rng = np.random.default_rng(seed)
        tail = (1 - confidence) / 2
        models: dict[str, dict[str, Any]] = {}
        for name, (prediction, threshold) in scored.items():
            counts = self.outcome_counts(y, prediction, threshold)
            entry: dict[str, Any] = {
                "threshold": float(threshold),
                "flagged_share": float((counts[1] + counts[3]) / max(len(y), 1)),
                "outcomes": dict(zip(self.OUTCOMES, map(int, counts), strict=True)),
                "brier": float(brier_score_loss(y, prediction)),
            }
            if values:
                entry["value_per_case"] = self._value_per_case(counts, values)
                if repeats > 0 and len(y):
                    worth = self._value_of_outcomes(values)
                    draws = rng.multinomial(len(y), counts / len(y), size=repeats) @ worth
                    low, high = np.quantile(draws / len(y), [tail, 1 - tail])
                    entry["interval"] = [float(low), float(high)]
            models[name] = entry
        model = models.pop("model")
        report: dict[str, Any] = {
            "rows": len(y),
            "positive_rate": float(y.mean()) if len(y) else math.nan,
            "unit": decision["unit"],
            "values": values,
            "capacity": decision["capacity"],
            "bootstrap": {"repeats": repeats, "confidence": confidence, "seed": seed},
            "model": model,
            "baselines": models,
        }
        metrics = {"flagged_share": model["flagged_share"]}
        if values:
            report["act_on_all"] = self.decision_value(y, np.ones(len(y)), 0.5, values)
            report["act_on_none"] = self.decision_value(y, np.zeros(len(y)), 0.5, values)
            metrics |= {
                "value_per_case": model["value_per_case"],
                "value_act_on_all": report["act_on_all"],
                "value_act_on_none": report["act_on_none"],
            }
            if "interval" in model:
                metrics |= {
                    "value_per_case.lower": model["interval"][0],
                    "value_per_case.upper": model["interval"][1],
                }
            for name, entry in models.items():
                metrics[f"baseline.{name}.value_per_case"] = entry["value_per_case"]
        for name, entry in models.items():
            metrics[f"baseline.{name}.threshold"] = entry["threshold"]
        report["metrics"] = metrics
        report["calibration"] = {
            "brier": model["brier"],
            **{f"brier.{name}": entry["brier"] for name, entry in models.items()},
        }
        return report

    def decision_plots(
        self,
        y: np.ndarray,
        prediction: np.ndarray,
        decision: dict[str, Any],
        report: dict[str, Any],
    ) -> dict[str, Any]:
        """Value per case by threshold (or the share flagged, without values) with the chosen
        threshold, and the reliability curve of the model's probabilities."""
        from sklearn.calibration import CalibrationDisplay

        threshold = float(decision["threshold"])
        figure, ax = _figure("Value by threshold", len(y))
        if decision["values"]:
            thresholds, curve = self.value_curve(y, prediction, decision["values"])
            ax.plot(thresholds, curve, color="#4c72b0", label="model")
            for key, style in (("act_on_all", "--"), ("act_on_none", ":")):
                ax.axhline(report[key], color="grey", linestyle=style, label=key.replace("_", " "))
            ax.set_ylabel(f"mean value per case ({decision['unit'] or 'value'})")
        else:
            thresholds = self.THRESHOLDS
            ordered = np.sort(np.asarray(prediction, dtype="float64"))
            shares = 1 - np.searchsorted(ordered, thresholds, side="left") / max(len(y), 1)
            ax.plot(thresholds, shares, color="#4c72b0", label="share flagged")
            ax.set_ylabel("share of cases flagged")
        ax.axvline(threshold, color="#c44e52", label=f"chosen {threshold:.3f}")
        ax.set_xlabel("decision threshold (probability)")
        ax.legend(loc="best", fontsize="small")
        figures = {"value_by_threshold": figure}
        figure, ax = _figure("Reliability curve", len(y))
        CalibrationDisplay.from_predictions(
            y,
            prediction,
            n_bins=10,
            strategy="quantile",
            ax=ax,
            name=f"model (Brier {report['model']['brier']:.4f})",
        )
        ax.set_title(f"Reliability curve, held-out set (n={len(y)})")
        figures["reliability_curve"] = figure
        return figures

    def partial_dependence_target(
        self, y: np.ndarray, prediction: np.ndarray, threshold: float
    ) -> tuple[int | None, str]:
        return None, f"the probability that a case {self.words()['positive']}"

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

        from ..spark_engine import quoted

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
