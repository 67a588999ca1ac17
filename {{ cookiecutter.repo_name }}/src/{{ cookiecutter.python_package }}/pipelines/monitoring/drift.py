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


def psi_from_counts(reference: np.ndarray, current: np.ndarray) -> float:
    """PSI of two histograms on the same bins (counts, not shares)."""
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
    return psi_from_counts(binned_counts(reference, edges), binned_counts(current, edges))


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
    return psi_from_counts(*category_counts(pd.Series(reference), pd.Series(current)))


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
    return chi_squared_from_counts(*category_counts(pd.Series(reference), pd.Series(current)))


def chi_squared_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """The chi-squared test of two samples' counts per category (the same categories in both)."""
    from scipy.stats import chi2_contingency

    table = np.vstack([ref_counts, cur_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    statistic, p_value, _, _ = chi2_contingency(table)
    return float(statistic), float(p_value)


# Above this many rows in either sample, scipy's ks_2samp (method "auto") uses the asymptotic
# distribution of the statistic instead of the exact one.
KS_EXACT_MAX_ROWS = 10000


def ks_test_from_counts(
    reference: np.ndarray, equal: np.ndarray, between: np.ndarray
) -> tuple[float, float]:
    """The two-sample KS test of ``reference`` against a sample known only by counts.

    ``reference`` holds the reference's values (missing left out); the other sample is given on
    the reference's sorted distinct values ``u_1 < ... < u_k``: ``equal[i]`` of its values equal
    ``u_{i+1}``, and ``between[i]`` lie strictly between ``u_i`` and ``u_{i+1}`` (``between[0]``
    below ``u_1``, ``between[k]`` above ``u_k``). Both empirical distribution functions are then
    known wherever their largest gap can be (at each ``u`` and just before it), so the statistic
    is exactly ``ks_2samp``'s, and so is the p-value: ``ks_2samp`` on a stand-in sample with the
    same counts (every value of a gap at its midpoint) while both samples are small enough for
    its exact distribution, else scipy's asymptotic formula for the same statistic.
    """
    from scipy.stats import kstwo

    reference = np.asarray(reference, dtype=float)
    values, ref_counts = np.unique(reference, return_counts=True)
    equal, between = np.asarray(equal, dtype=np.int64), np.asarray(between, dtype=np.int64)
    n_ref, n_cur = len(reference), int(equal.sum() + between.sum())
    if n_ref == 0 or n_cur == 0:
        return float("nan"), float("nan")
    if max(n_ref, n_cur) <= KS_EXACT_MAX_ROWS:
        low = values[0] - 1.0
        high = values[-1] + 1.0
        gaps = np.concatenate([[low], (values[:-1] + values[1:]) / 2, [high]])
        stand_in = np.concatenate([np.repeat(values, equal), np.repeat(gaps, between)])
        return ks_test(reference, stand_in)
    ref_cdf = np.cumsum(ref_counts) / n_ref
    at = np.cumsum(between[:-1] + equal) / n_cur  # F_cur(u_i)
    before = (np.cumsum(between[:-1] + equal) - equal) / n_cur  # F_cur just below u_i
    ref_before = np.concatenate([[0.0], ref_cdf[:-1]])
    statistic = float(max(np.abs(ref_cdf - at).max(), np.abs(ref_before - before).max()))
    larger, smaller = sorted([float(n_ref), float(n_cur)], reverse=True)
    size = np.round(larger * smaller / (larger + smaller))
    return statistic, float(kstwo.sf(statistic, size))
