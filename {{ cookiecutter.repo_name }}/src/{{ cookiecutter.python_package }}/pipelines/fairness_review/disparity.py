"""Disaggregated metrics: fairlearn MetricFrame by group, per-group sums and bootstrap intervals.

What is measured differs by problem type (``problem/``: rates of the confusion matrix for
classes, errors and means for a number); here every type's figures are functions of per-group
sums, row by row a cell index (e.g. a confusion-matrix cell) and values to add up (e.g. a
residual). A group's sums are one ``bincount``, and so are a bootstrap resample's: thousands of
resamples take well under a second, with no Python loop over rows.
"""

from typing import Any

import numpy as np
import pandas as pd

from ...problem import Problem, quiet_numpy


def metric_frame(
    problem: Problem, y_true: np.ndarray, y_pred: np.ndarray, groups: pd.Series, columns: list
) -> Any:
    """fairlearn's MetricFrame of the per-group figures (overall and by group)."""
    import fairlearn.metrics as fm

    return fm.MetricFrame(
        metrics=problem.fairness_metric_functions(columns),
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=groups.rename("group"),
    )


def group_stats(
    cells: np.ndarray, values: np.ndarray, codes: np.ndarray, n_groups: int, n_cells: int
) -> np.ndarray:
    """Per group, the count of every cell, then the sum of every value: (n_groups, cells + k).

    Without values the counts stay integers.
    """
    counts = np.bincount(codes * n_cells + cells, minlength=n_groups * n_cells)
    counts = counts.reshape(n_groups, n_cells)
    if not values.shape[1]:
        return counts
    sums = [np.bincount(codes, weights=v, minlength=n_groups) for v in values.T]
    return np.concatenate([counts, np.stack(sums, axis=-1)], axis=-1)


def bootstrap_stats(
    cells: np.ndarray,
    values: np.ndarray,
    n_cells: int,
    codes: dict[str, np.ndarray],
    n_groups: dict[str, int],
    *,
    n_boot: int,
    seed: int,
    max_rows: int,
) -> dict[str, np.ndarray]:
    """:func:`group_stats` of every resample, (n_boot, n_groups, cells + k), for every feature.

    All features share the same resampled rows. Above ``max_rows`` rows each replicate draws
    ``max_rows`` rows (an m-out-of-n bootstrap, intervals rescaled to the full size), which
    bounds the cost at ``n_boot x max_rows``.
    """
    rng = np.random.default_rng(seed)
    n = len(cells)
    draw = min(n, max_rows)
    width = n_cells + values.shape[1]
    dtype = np.int64 if not values.shape[1] else np.float64
    out = {name: np.zeros((n_boot, k, width), dtype=dtype) for name, k in n_groups.items()}
    chunk = max(1, 4_000_000 // max(draw, 1))
    for start in range(0, n_boot, chunk):
        reps = min(chunk, n_boot - start)
        rows = rng.integers(0, n, size=(reps, draw))
        cell = cells[rows]
        offset = np.arange(reps)[:, None]
        drawn = [v[rows].ravel() for v in values.T]
        for name, k in n_groups.items():
            group = (offset * k + codes[name][rows]).ravel()
            counts = np.bincount(group * n_cells + cell.ravel(), minlength=reps * k * n_cells)
            out[name][start : start + reps, :, :n_cells] = counts.reshape(reps, k, n_cells)
            for j, weights in enumerate(drawn):
                sums = np.bincount(group, weights=weights, minlength=reps * k)
                out[name][start : start + reps, :, n_cells + j] = sums.reshape(reps, k)
    return out


def interval(
    replicates: np.ndarray, point: np.ndarray, confidence: float, shrink: float
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of the replicates (axis 0); ``shrink`` rescales an m-out-of-n spread."""
    tail = (1 - confidence) / 2
    with quiet_numpy():
        low, high = np.nanquantile(replicates, [tail, 1 - tail], axis=0)
    if shrink != 1.0:
        low, high = point - (point - low) * shrink, point + (high - point) * shrink
    return low, high
