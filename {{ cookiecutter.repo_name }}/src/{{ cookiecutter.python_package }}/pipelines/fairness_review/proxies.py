"""Proxy detection: how strongly each model input is associated with each sensitive attribute.

A model that never sees a sensitive attribute can still treat its groups differently through
an input that stands in for it (a region, a postcode). Association is Cramér's V (bias-corrected,
0 = none, 1 = one determines the other) on the contingency table of the two columns; numeric
inputs are cut into quantile bins first, missing values are a category of their own.
"""

import logging
from typing import Any

import numpy as np
import pandas as pd

from ...groups import attribute_columns, sensitive_groups
from ...modelling import check_columns, seeded_sample

logger = logging.getLogger(__name__)


def as_categories(values: pd.Series, numeric: bool, n_bins: int) -> np.ndarray:
    """Integer codes of a column: categories as they are, numbers in quantile bins."""
    if numeric:
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        binned = pd.qcut(numbers, q=n_bins, duplicates="drop")
        codes = binned.cat.codes.to_numpy() if hasattr(binned, "cat") else np.zeros(len(values))
        return np.asarray(codes, dtype=np.int64) + 1  # -1 (missing) becomes 0
    text = values.astype(object).where(values.notna(), "\0missing").astype(str)
    return pd.factorize(text)[0].astype(np.int64)


def cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Bias-corrected Cramér's V (Bergsma 2013) of two integer-coded columns."""
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    r, k = int(a.max()) + 1, int(b.max()) + 1
    n = len(a)
    if r < 2 or k < 2 or n < 2:
        return 0.0
    table = np.bincount(a * k + b, minlength=r * k).reshape(r, k).astype(float)
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        chi2 = np.nansum((table - expected) ** 2 / expected)
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    r_c, k_c = r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)
    denominator = min(r_c - 1, k_c - 1)
    return float(np.sqrt(phi2 / denominator)) if denominator > 0 else 0.0


def associations(  # noqa: PLR0917
    frame: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    sensitive: dict[str, np.ndarray],
    threshold: float,
    n_bins: int,
) -> list[dict[str, Any]]:
    """Cramér's V of every model input with every sensitive attribute, strongest first.

    A sensitive attribute that is itself a model input is reported as ``direct`` use.
    """
    rows = []
    for column in numeric + categorical:
        codes = as_categories(frame[column], column in numeric, n_bins)
        for attribute, groups in sensitive.items():
            if column == attribute:
                rows.append(
                    {"input": column, "sensitive": attribute, "cramers_v": 1.0, "flag": "direct"}
                )
                continue
            value = cramers_v(codes, groups)
            rows.append(
                {
                    "input": column,
                    "sensitive": attribute,
                    "cramers_v": round(value, 6),
                    "flag": "possible proxy" if value >= threshold else "",
                }
            )
    return sorted(rows, key=lambda row: -row["cramers_v"])


def detect_proxies(training_set: pd.DataFrame, plan: dict[str, Any]) -> dict[str, Any]:
    """Association of every model input with every sensitive attribute, on the training rows."""
    check_columns(
        training_set, attribute_columns(plan["features"]), "sensitive_features", "training_set"
    )
    settings = plan["proxies"]
    frame = seeded_sample(training_set, settings["max_rows"], plan["bootstrap"]["seed"])
    groups = sensitive_groups(frame, plan["features"], [])
    sensitive = {name: pd.factorize(values)[0] for name, values in groups.items()}
    rows = associations(
        frame.reset_index(drop=True),
        plan["numeric"],
        plan["categorical"],
        sensitive,
        settings["threshold"],
        settings["numeric_bins"],
    )
    flagged = [row for row in rows if row["flag"]]
    for row in flagged:
        logger.warning(
            "Model input %r is associated with sensitive attribute %r (Cramér's V %.2f): %s.",
            row["input"],
            row["sensitive"],
            row["cramers_v"],
            row["flag"],
        )
    return {
        "measure": "Cramér's V (bias-corrected); numeric inputs in quantile bins",
        "threshold": settings["threshold"],
        "rows": len(frame),
        "associations": rows,
        "flagged": flagged,
    }
