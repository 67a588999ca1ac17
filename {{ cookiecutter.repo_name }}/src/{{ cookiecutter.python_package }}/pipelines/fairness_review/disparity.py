"""Disaggregated metrics: groups of a sensitive feature, fairlearn MetricFrame, bootstrap intervals.

Every metric here is a rate of the confusion matrix (positive = the target's 1, its positive class),
so a bootstrap replicate costs a ``bincount``: thousands of replicates take well under a second.
"""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

# name -> (numerator cells, denominator cells) over the confusion cells tn, fp, fn, tp.
RATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "selection_rate": (("fp", "tp"), ("tn", "fp", "fn", "tp")),
    "true_positive_rate": (("tp",), ("fn", "tp")),
    "false_positive_rate": (("fp",), ("tn", "fp")),
    "false_negative_rate": (("fn",), ("fn", "tp")),
    "true_negative_rate": (("tn",), ("tn", "fp")),
    "accuracy": (("tn", "tp"), ("tn", "fp", "fn", "tp")),
}
METRICS = ("count", *RATES)
CELLS = ("tn", "fp", "fn", "tp")  # index = 2 * y_true + y_pred
# criterion -> (rates it compares, kind); ratio criteria are minimums, differences maximums
CRITERIA: dict[str, tuple[tuple[str, ...], str]] = {
    "demographic_parity_ratio": (("selection_rate",), "ratio"),
    "demographic_parity_difference": (("selection_rate",), "difference"),
    "equalized_odds_ratio": (("true_positive_rate", "false_positive_rate"), "ratio"),
    "equalized_odds_difference": (("true_positive_rate", "false_positive_rate"), "difference"),
}


def metric_frame(y_true: np.ndarray, y_pred: np.ndarray, groups: pd.Series, metrics: list[str]):
    """fairlearn's MetricFrame of the configured metrics (overall and by group)."""
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
    return fm.MetricFrame(
        metrics={m: functions[m] for m in metrics},
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=groups.rename("group"),
    )


def _rates(cells: np.ndarray) -> dict[str, np.ndarray]:
    """Rates from confusion counts (last axis: tn, fp, fn, tp); NaN where undefined."""
    index = {c: i for i, c in enumerate(CELLS)}
    out = {"count": cells.sum(axis=-1).astype(float)}
    with quiet():
        for name, (num, den) in RATES.items():
            top = cells[..., [index[c] for c in num]].sum(axis=-1)
            bottom = cells[..., [index[c] for c in den]].sum(axis=-1)
            out[name] = np.where(bottom > 0, top / np.maximum(bottom, 1), np.nan)
    return out


def _spread(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Between-group difference (max - min) and ratio (min / max) along the last axis.

    Undefined rates (NaN) are left out; with no defined rate both are NaN. Two zero rates
    have ratio 1 (no disparity).
    """
    with quiet():
        high, low = np.nanmax(values, axis=-1), np.nanmin(values, axis=-1)
        ratio = np.where(high > 0, low / np.where(high > 0, high, 1.0), 1.0)
    return high - low, np.where(np.isnan(high), np.nan, ratio)


@contextmanager
def quiet() -> Iterator[None]:
    """Silence numpy's warnings about all-NaN slices and empty divisions (NaN is the answer)."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def criteria_values(rates: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Difference and ratio of every rate, and the fairness criteria, over groups (last axis)."""
    out: dict[str, np.ndarray] = {}
    for name in RATES:
        if name in rates:
            out[f"{name}_difference"], out[f"{name}_ratio"] = _spread(rates[name])
    for criterion, (parts, kind) in CRITERIA.items():
        values = [_spread(rates[p])[0 if kind == "difference" else 1] for p in parts]
        # equalised odds: the worse of the two rates (largest difference, smallest ratio)
        out[criterion] = (
            np.maximum.reduce(values) if kind == "difference" else np.minimum.reduce(values)
        )
    return out


def confusion_cells(y_true: np.ndarray, y_pred: np.ndarray, codes: np.ndarray, n_groups: int):
    """Confusion counts per group: shape (n_groups, 4)."""
    flat = codes * 4 + 2 * y_true + y_pred
    return np.bincount(flat, minlength=n_groups * 4).reshape(n_groups, 4)


def bootstrap_cells(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    codes: dict[str, np.ndarray],
    n_groups: dict[str, int],
    *,
    n_boot: int,
    seed: int,
    max_rows: int,
) -> dict[str, np.ndarray]:
    """Confusion counts per replicate and group, (n_boot, n_groups, 4), for every feature.

    All features share the same resampled rows. Above ``max_rows`` rows each replicate draws
    ``max_rows`` rows (an m-out-of-n bootstrap, intervals rescaled to the full size), which
    bounds the cost at ``n_boot x max_rows``.
    """
    rng = np.random.default_rng(seed)
    n = len(y_true)
    draw = min(n, max_rows)
    out = {name: np.zeros((n_boot, k, 4), dtype=np.int64) for name, k in n_groups.items()}
    chunk = max(1, 4_000_000 // max(draw, 1))
    for start in range(0, n_boot, chunk):
        reps = min(chunk, n_boot - start)
        rows = rng.integers(0, n, size=(reps, draw))
        cell = 2 * y_true[rows] + y_pred[rows]
        offset = np.arange(reps)[:, None]
        for name, k in n_groups.items():
            flat = (offset * k + codes[name][rows]) * 4 + cell
            counts = np.bincount(flat.ravel(), minlength=reps * k * 4).reshape(reps, k, 4)
            out[name][start : start + reps] = counts
    return out


def interval(
    replicates: np.ndarray, point: np.ndarray, confidence: float, shrink: float
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of the replicates (axis 0); ``shrink`` rescales an m-out-of-n spread."""
    tail = (1 - confidence) / 2
    with quiet():
        low, high = np.nanquantile(replicates, [tail, 1 - tail], axis=0)
    if shrink != 1.0:
        low, high = point - (point - low) * shrink, point + (high - point) * shrink
    return low, high
