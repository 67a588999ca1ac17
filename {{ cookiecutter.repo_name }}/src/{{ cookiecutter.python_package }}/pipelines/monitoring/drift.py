"""Drift statistics on two samples: population stability index, Kolmogorov-Smirnov, chi-squared.

PSI = sum over bins of (current share - reference share) * ln(current share / reference share).
Numeric bins are the reference's quantiles; missing values are a bin of their own; empty bins
count as a tiny share so the index stays finite. Rule of thumb: < 0.1 stable, 0.1-0.25 some
shift, > 0.25 a major shift.
"""

import numpy as np
import pandas as pd

EPSILON = 1e-4


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    shares = counts / total if total else np.zeros_like(counts, dtype=float)
    return np.clip(shares, EPSILON, None)


def _psi_from_counts(reference: np.ndarray, current: np.ndarray) -> float:
    ref, cur = _shares(reference.astype(float)), _shares(current.astype(float))
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def numeric_bin_edges(reference: np.ndarray, bins: int = 10) -> np.ndarray:
    """Inner bin edges: the distinct quantiles of the reference (missing values ignored)."""
    values = reference[~np.isnan(reference)]
    if len(values) == 0:
        return np.array([])
    return np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))


def binned_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin (``len(edges) + 1`` bins, left-closed) plus one for missing values."""
    missing = np.isnan(values)
    positions = np.searchsorted(edges, values[~missing], side="right")
    counts = np.bincount(positions, minlength=len(edges) + 1)
    return np.append(counts, missing.sum())


def psi_numeric(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """PSI of a numeric column, on the reference's quantile bins."""
    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    edges = numeric_bin_edges(reference, bins)
    return _psi_from_counts(binned_counts(reference, edges), binned_counts(current, edges))


def category_counts(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Counts of every category seen in either sample (missing values as one category)."""
    ref = reference.astype(object).where(reference.notna(), "<missing>").astype(str)
    cur = current.astype(object).where(current.notna(), "<missing>").astype(str)
    categories = sorted(set(ref) | set(cur))
    ref_counts = ref.value_counts().reindex(categories, fill_value=0).to_numpy()
    cur_counts = cur.value_counts().reindex(categories, fill_value=0).to_numpy()
    return ref_counts, cur_counts


def psi_categorical(reference: pd.Series, current: pd.Series) -> float:
    """PSI of a categorical column, one bin per category."""
    return _psi_from_counts(*category_counts(pd.Series(reference), pd.Series(current)))


def ks_test(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and p-value (missing values left out)."""
    from scipy.stats import ks_2samp

    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    reference, current = reference[~np.isnan(reference)], current[~np.isnan(current)]
    if len(reference) == 0 or len(current) == 0:
        return float("nan"), float("nan")
    result = ks_2samp(reference, current)
    return float(result.statistic), float(result.pvalue)


def chi_squared_test(reference: pd.Series, current: pd.Series) -> tuple[float, float]:
    """Chi-squared test that both samples share the category shares; statistic and p-value."""
    from scipy.stats import chi2_contingency

    ref_counts, cur_counts = category_counts(pd.Series(reference), pd.Series(current))
    table = np.vstack([ref_counts, cur_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    statistic, p_value, _, _ = chi2_contingency(table)
    return float(statistic), float(p_value)
