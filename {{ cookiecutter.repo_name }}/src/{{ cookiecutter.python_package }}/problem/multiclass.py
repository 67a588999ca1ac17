"""Multiclass classification: three or more configured classes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from ..groups import metric_safe
from .base import (
    DATASET_FILE,
    PREDICTION,
    PROBABILITY,
    Metric,
    PredictionDrift,
    Problem,
    _class_false_positive_rate,
    _class_precision,
    _class_recall,
    _class_selection_rate,
    _criteria_words,
    _extremes,
    _figure,
    _matches,
    _not_judged,
    _share,
    _spark_matches,
    _worst_part,
    group_spread,
    quiet_numpy,
)
from .binary import Binary

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

    @classmethod
    def checked_target(cls, target: dict[str, Any]) -> dict[str, Any]:
        """The target with its classes checked: three or more, each a mapping with a value."""
        classes = target["classes"]
        if not isinstance(classes, list) or len(classes) < 3:
            raise ConfigError(
                f"dataset.target.classes in {DATASET_FILE} must list at least three classes, each "
                "{value, means, favourable}; with two classes, use problem_type: binary."
            )
        checked, seen = [], set()
        for index, given in enumerate(classes):
            spec = given if isinstance(given, dict) else {"value": given}
            unknown = sorted(set(spec) - set(cls.CLASS_KEYS))
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
        return {**target, "classes": checked}

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

    def partial_dependence_target(
        self, y: np.ndarray, prediction: np.ndarray, threshold: float
    ) -> tuple[int | None, str]:
        """The class the model misses most often (lowest recall on these rows; ties: the first
        configured), so the plots show the class where the model most needs explaining."""
        y, decision = np.asarray(y), self.decide(prediction)
        recall = [
            float(np.mean(decision[y == code] == code)) if np.any(y == code) else math.inf
            for code in range(len(self.classes))
        ]
        code = int(np.argmin(recall))
        name = self.class_names[code]
        means = self.words()["classes"][name]["means"]
        return code, (
            f"the probability of class `{name}` ({means}), the class the model misses most often"
        )

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
