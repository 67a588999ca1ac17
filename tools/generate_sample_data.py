#!/usr/bin/env python
"""Deterministic generator of a synthetic loan-applications dataset.

Writes three files into ``--out``:

* ``applications.csv`` - one row per loan application (plus planted dirty rows),
* ``bureau.db``        - SQLite database with one table ``bureau_records``,
* ``manifest.json``    - what was planted (label bias, proxy, dirty rows, hashes).

The data is fully synthetic. It is built so that a fairness / data-quality
toolkit has something concrete to find:

* the true default risk depends only on financial variables (debt-to-income,
  employment years, bureau late payments and utilisation, loan term,
  dependants, housing) plus noise; ``sex``, ``age`` (beyond its mild effect on
  income and employment) and ``foreign_worker`` have no causal effect on it;
* that risk has realistic non-linear structure (steps, interactions, a
  U-shaped loan term, see ``_latent_risk``), so a tree ensemble clearly beats a
  linear model on the same features;
* ``region_code`` is a proxy for ``foreign_worker`` (no direct effect on risk);
* historical label bias (default on): among foreign workers an extra share of
  true negatives is relabelled as defaulted;
* a small, exactly documented set of dirty rows (one kind per row).

The same ``--seed`` and options give byte-identical ``applications.csv`` and
``manifest.json`` (and, with the same SQLite library version, ``bureau.db``)
for the same numpy/pandas versions.

Usage::

    python tools/generate_sample_data.py --rows 10000 --seed 42 --out DIR \
        [--no-label-bias] [--random-label] [--dirty-fraction 0.02]
    python tools/generate_sample_data.py --batch --drift none|shift --seed 101 --out DIR
        (a 2,000-row scoring batch in the same layout, labels included; ``shift`` drifts it)
    python tools/generate_sample_data.py --batch --late-labels recorded|decayed --seed 303 --out DIR
        (a scoring batch without its target column, its labels in labels.csv keyed by id)
    python tools/generate_sample_data.py --shipped-batches
        (every shipped batch under data/01_raw/batches/: no_drift, drifted, unlabelled, decayed)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

GENERATOR_VERSION = "2.0.0"

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "{{ cookiecutter.repo_name }}" / "data" / "01_raw"

APPLICATIONS_FILE = "applications.csv"
BUREAU_FILE = "bureau.db"
MANIFEST_FILE = "manifest.json"
BUREAU_TABLE = "bureau_records"

APPLICATION_COLUMNS = [
    "applicant_id",
    "application_date",
    "age",
    "sex",
    "foreign_worker",
    "region_code",
    "annual_income",
    "loan_amount",
    "loan_term_months",
    "employment_years",
    "housing",
    "purpose",
    "num_dependents",
    "defaulted_12m",
]
BUREAU_COLUMNS = [
    "record_id",
    "applicant_id",
    "account_type",
    "credit_limit",
    "balance",
    "months_on_book",
    "late_payments_12m",
    "is_closed",
]

SEXES = np.array(["F", "M"])
REGIONS = np.array([f"R{i:02d}" for i in range(1, 13)])
NATIONAL_REGIONS = 9  # R01..R09; R10..R12 are the "foreign worker" regions
HOUSING = np.array(["own", "rent", "free"])
PURPOSES = np.array(["car", "home", "education", "business", "personal"])
PURPOSE_PROBS = np.array([0.25, 0.15, 0.12, 0.13, 0.35])
# loan amount as a multiple of annual income, per purpose (median)
PURPOSE_LOAN_MULT = np.array([0.45, 1.8, 0.35, 0.8, 0.25])
TERMS = np.array([12, 24, 36, 48, 60])
TERM_PROBS = np.array([0.15, 0.25, 0.30, 0.15, 0.15])
ACCOUNT_TYPES = np.array(["credit_card", "mortgage", "auto", "personal"])
ACCOUNT_PROBS = np.array([0.45, 0.15, 0.20, 0.20])
ACCOUNT_LIMIT_MEDIAN = np.array([3000.0, 150000.0, 20000.0, 10000.0])

DATE_START = np.datetime64("2024-01-01")
DATE_DAYS = int((np.datetime64("2025-12-31") - DATE_START).astype(int)) + 1

FOREIGN_RATE = 0.15
FOREIGN_IN_PROXY_REGIONS = 0.85  # P(region in R10..R12 | foreign worker)
NATIONAL_IN_PROXY_REGIONS = 0.05  # P(region in R10..R12 | national)
NATIONAL_REGION_WEIGHTS = np.array([0.18, 0.14, 0.12, 0.11, 0.10, 0.10, 0.09, 0.08, 0.08])
PROXY_REGION_WEIGHTS = np.array([0.45, 0.33, 0.22])

TRUE_POSITIVE_RATE = 0.18  # calibrated base rate of the unbiased label
LABEL_BIAS_FLIP_RATE = 0.35  # share of foreign-worker true negatives set to 1
RANDOM_LABEL_RATE = 0.20

DIRTY_KINDS = [
    "missing_value",
    "impossible_age",
    "duplicated_applicant_id",
    "unknown_category",
    "malformed_number",
]
DIRTY_DESCRIPTIONS = {
    "missing_value": (
        "annual_income is empty (NaN when read with pandas); every other field of the row is valid."
    ),
    "impossible_age": (
        "age is an impossible integer (< 0 or > 120, e.g. -3, 150, 999); "
        "every other field of the row is valid."
    ),
    "duplicated_applicant_id": (
        "an extra row re-uses the applicant_id of an otherwise clean row; the "
        "extra row's other fields are a fresh plausible application. Each "
        "listed applicant_id appears in exactly 2 rows (the original and the "
        "copy); count = number of CSV rows sharing a duplicated id "
        "(2 x len(applicant_ids)), and applicant_ids lists each id once. "
        "Neither row carries any other dirt."
    ),
    "unknown_category": (
        "housing or purpose holds a code outside the allowed set "
        "(e.g. 'XX', 'unknown', '?'); every other field of the row is valid."
    ),
    "malformed_number": (
        "loan_amount is a non-numeric string (e.g. '12,5OO.00', '12.500.00', "
        "'n/a-amount', '12500.00 EUR') that pandas.to_numeric cannot parse; "
        "every other field of the row is valid."
    ),
}
IMPOSSIBLE_AGES = np.array([-5, -3, -1, 121, 150, 200, 999])
UNKNOWN_CODES = np.array(["XX", "unknown", "?", "other_code"])

CSV_CHUNK = 250_000
DB_CHUNK = 200_000


# --------------------------------------------------------------------------- #
# small helpers
# --------------------------------------------------------------------------- #
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _fmt_fixed(units: np.ndarray, decimals: int) -> pd.Series:
    """Format non-negative integers ``units`` (value * 10**decimals) as strings."""
    units = np.asarray(units, dtype=np.int64)
    scale = 10**decimals
    whole = pd.Series(units // scale).astype(str)
    frac = pd.Series(units % scale).astype(str).str.zfill(decimals)
    return whole + "." + frac


def _ids(index: np.ndarray) -> pd.Series:
    """0-based applicant index -> 'A0000001' style ids."""
    return "A" + pd.Series(np.asarray(index) + 1).astype(str).str.zfill(7)


def _cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Uncorrected Cramér's V of two integer-coded categorical arrays."""
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    r, c = ai.max() + 1, bi.max() + 1
    table = np.bincount(ai * c + bi, minlength=r * c).reshape(r, c).astype(float)
    n = table.sum()
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    chi2 = ((table - expected) ** 2 / expected).sum()
    k = min(r, c) - 1
    return float(np.sqrt(chi2 / (n * k))) if k > 0 else 0.0


def _calibrate_intercept(lin: np.ndarray, target: float) -> float:
    """Intercept b such that mean(sigmoid(lin + b)) == target (bisection)."""
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2.0
        if _sigmoid(lin + mid).mean() < target:
            lo = mid
        else:
            hi = mid
    return round((lo + hi) / 2.0, 6)


def _split_dirty(total: int) -> dict[str, int]:
    """Split ``total`` dirty CSV rows over the five kinds (rows affected)."""
    base, rem = divmod(total, len(DIRTY_KINDS))
    counts = {k: base + (1 if i < rem else 0) for i, k in enumerate(DIRTY_KINDS)}
    # duplicates come in pairs (original + copy): an odd share moves one row
    # to missing_value so the total number of affected rows stays exact.
    if counts["duplicated_applicant_id"] % 2:
        counts["duplicated_applicant_id"] -= 1
        counts["missing_value"] += 1
    return counts


def _csv_field(value: str) -> str:
    """Quote one CSV field if needed (RFC 4180 minimal quoting)."""
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_text(columns: list, header: list[str] | None) -> str:
    """Vectorised CSV text ('\\n' line ends) from equal-length columns.

    Each column is converted to strings as-is; fields must already be quoted
    where necessary (only the few planted dirty values ever need it).
    """
    parts = [pd.Series(c).astype(str).reset_index(drop=True) for c in columns]
    lines = parts[0]
    for part in parts[1:]:
        lines = lines + "," + part
    body = "\n".join(lines.tolist())
    head = ",".join(header) + "\n" if header else ""
    return head + body + ("\n" if len(lines) else "")


def _canonical_bureau_bytes(df: pd.DataFrame, header: bool) -> bytes:
    """Canonical text of bureau rows, used for the table content hash.

    CSV, columns in schema order, '\\n' line ends, REAL columns with exactly two
    decimals (same text as pandas ``to_csv(float_format='%.2f')``; formatted
    from integer cents for speed).
    """
    cols = []
    for col in BUREAU_COLUMNS:
        if col in ("credit_limit", "balance"):
            cents = np.rint(df[col].to_numpy(dtype=float) * 100).astype(np.int64)
            cols.append(_fmt_fixed(cents, 2))
        else:
            cols.append(df[col])
    return _csv_text(cols, BUREAU_COLUMNS if header else None).encode("utf-8")


def bureau_table_sha256(db_path: str | os.PathLike) -> str:
    """sha256 of the bureau_records table contents (ordered by record_id).

    Canonical form: CSV with header, columns in schema order, '\\n' line ends,
    REAL columns formatted like '%.2f'.
    """
    h = hashlib.sha256()
    con = sqlite3.connect(str(db_path))
    try:
        cols = ", ".join(BUREAU_COLUMNS)
        query = f"SELECT {cols} FROM {BUREAU_TABLE} ORDER BY record_id"
        first = True
        for chunk in pd.read_sql_query(query, con, chunksize=DB_CHUNK):
            h.update(_canonical_bureau_bytes(chunk, header=first))
            first = False
        if first:  # empty table: hash the header only
            h.update((",".join(BUREAU_COLUMNS) + "\n").encode("utf-8"))
    finally:
        con.close()
    return h.hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------- #
# generation
# --------------------------------------------------------------------------- #
def _applicant_features(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Clean, plausible application features for ``n`` rows."""
    days = np.sort(rng.integers(0, DATE_DAYS, size=n))
    age = (18 + np.floor(62.999 * rng.beta(2.2, 4.0, size=n))).astype(np.int64)
    sex = (rng.random(n) >= 0.49).astype(np.int64)  # 0=F, 1=M
    foreign = rng.random(n) < FOREIGN_RATE

    # region: proxy for foreign_worker, no direct effect on risk
    in_proxy = rng.random(n) < np.where(foreign, FOREIGN_IN_PROXY_REGIONS, NATIONAL_IN_PROXY_REGIONS)
    nat_region = rng.choice(
        NATIONAL_REGIONS, size=n, p=NATIONAL_REGION_WEIGHTS / NATIONAL_REGION_WEIGHTS.sum()
    )
    proxy_region = NATIONAL_REGIONS + rng.choice(
        3, size=n, p=PROXY_REGION_WEIGHTS / PROXY_REGION_WEIGHTS.sum()
    )
    region = np.where(in_proxy, proxy_region, nat_region)

    # income: lognormal, rises mildly with age up to ~55
    log_inc = (
        10.45
        + 0.014 * (np.minimum(age, 55) - 18)
        - 0.004 * np.maximum(age - 62, 0)
        + rng.normal(0.0, 0.45, size=n)
    )
    income_cents = np.rint(np.clip(np.exp(log_inc), 6000.0, 600000.0) * 100).astype(np.int64)
    income = income_cents / 100.0

    # employment years <= age - 16, one decimal
    max_emp = (age - 16).astype(float)
    emp_tenths = np.floor(max_emp * rng.beta(1.6, 2.4, size=n) * 10).astype(np.int64)
    emp_tenths = np.minimum(emp_tenths, (age - 16) * 10)

    # housing by age
    u = rng.random(n)
    p_own = _sigmoid(-2.0 + 0.07 * (age - 18))
    p_free = np.where(age < 25, 0.15, 0.05)
    housing = np.where(u < p_own, 0, np.where(u < p_own + p_free, 2, 1))

    purpose = rng.choice(len(PURPOSES), size=n, p=PURPOSE_PROBS)
    loan = income * PURPOSE_LOAN_MULT[purpose] * rng.lognormal(0.0, 0.5, size=n)
    loan_cents = (np.clip(np.rint(loan / 100.0), 10, 7500) * 10000).astype(np.int64)
    term = TERMS[rng.choice(len(TERMS), size=n, p=TERM_PROBS)]

    lam = 0.2 + 1.5 * np.exp(-(((age - 40) / 12.0) ** 2))
    deps = np.minimum(rng.poisson(lam), 5).astype(np.int64)

    return {
        "days": days,
        "age": age,
        "sex": sex,
        "foreign": foreign,
        "region": region,
        "income_cents": income_cents,
        "emp_tenths": emp_tenths,
        "housing": housing,
        "purpose": purpose,
        "loan_cents": loan_cents,
        "term": term,
        "deps": deps,
    }


def _bureau(
    rng: np.random.Generator, age: np.ndarray, income: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Bureau records for ``len(age)`` unique applicants + per-applicant aggregates."""
    u = len(age)
    behaviour = rng.normal(0.0, 1.0, size=u)  # latent credit behaviour
    n_rec = rng.binomial(6, 0.5, size=u)
    owner = np.repeat(np.arange(u), n_rec)
    m = len(owner)

    acc = rng.choice(len(ACCOUNT_TYPES), size=m, p=ACCOUNT_PROBS)
    scale = np.sqrt(income[owner] / 50000.0)
    limit = ACCOUNT_LIMIT_MEDIAN[acc] * scale * rng.lognormal(0.0, 0.5, size=m)
    limit_cents = np.rint(np.clip(limit, 200.0, 2_000_000.0) * 100).astype(np.int64)
    is_closed = (rng.random(m) < 0.2).astype(np.int64)
    b = behaviour[owner]
    mean_util = _sigmoid(-0.6 + 1.0 * b)
    util = rng.beta(4.0 * mean_util + 0.05, 4.0 * (1 - mean_util) + 0.05)
    util = np.where(is_closed == 1, 0.0, util)
    balance_cents = np.rint(limit_cents * util).astype(np.int64)
    max_months = np.maximum((age[owner] - 18) * 12 + 6, 1)
    months = np.minimum(rng.integers(1, 241, size=m), max_months).astype(np.int64)
    late = np.minimum(rng.poisson(np.exp(-2.0 + 0.9 * b)), 12).astype(np.int64)

    # utilisation as a downstream pipeline would see it: total balance over total
    # credit limit of all the applicant's records (closed accounts have balance 0)
    total_limit = np.bincount(owner, weights=limit_cents, minlength=u)
    total_balance = np.bincount(owner, weights=balance_cents, minlength=u)
    agg = {
        "n_records": n_rec,
        "late_total": np.bincount(owner, weights=late, minlength=u),
        "utilisation": np.divide(total_balance, total_limit, out=np.zeros(u), where=total_limit > 0),
        "no_records": (n_rec == 0).astype(float),
    }
    records = {
        "owner": owner,
        "account_type": acc,
        "limit_cents": limit_cents,
        "balance_cents": balance_cents,
        "months": months,
        "late": late,
        "is_closed": is_closed,
    }
    return records, agg


# Latent risk: realistic non-linear structure that a tree ensemble can find and a
# linear model on the raw features cannot (steps, interactions, a U-shaped term).
HOME_PURPOSE = 1  # index of "home" in PURPOSES: secured, large loans are normal
LTI_STEP = 0.6  # unsecured loan above 60% of annual income: risk jumps
LTI_STEP_EFFECT = 1.3
UTIL_STEP = 0.65  # credit lines used above 65% in total: risk jumps
UTIL_STEP_EFFECT = 1.2
LATE_EFFECT = 0.1  # per late payment (capped at 8) ...
LATE_HIGH_UTIL = 0.5  # ... plus LATE_EXTRA_EFFECT per late payment above this utilisation
LATE_EXTRA_EFFECT = 0.8
SHORT_EMPLOYMENT_TENTHS = 20  # employment_years < 2.0 ...
SHORT_EMPLOYMENT_LTI = 0.5  # ... AND loan_to_income > 0.5
SHORT_EMPLOYMENT_EFFECT = 1.0
TERM_EFFECT = {12: 0.6, 24: 0.0, 36: -0.3, 48: 0.0, 60: 0.7}  # non-monotone (U-shaped)
HOUSING_EFFECT = np.array([-0.35, 0.2, 0.05])  # own, rent, free
DEPENDANT_EFFECT = 0.12
NO_RECORDS_EFFECT = 0.35
LATENT_NOISE_SD = 0.6


def _latent_risk(f: dict[str, np.ndarray], agg: dict[str, np.ndarray], row_app: np.ndarray) -> np.ndarray:
    """Latent default risk per CSV row (before noise and intercept).

    Only financial variables a model can see after ingestion enter it (never sex,
    age, foreign_worker or region_code):

    * a mild log-linear debt-to-income effect plus a step when an unsecured loan
      (purpose other than home) exceeds ``LTI_STEP`` x annual income;
    * a step when total utilisation (total balance / total limit) > ``UTIL_STEP``;
    * late payments count little at low utilisation and much more above
      ``LATE_HIGH_UTIL`` (interaction);
    * short employment (< 2 years) matters only together with loan_to_income > 0.5;
    * loan term is U-shaped (12 and 60 months riskiest, 36 safest);
    * dependants, housing and having no bureau record as before.
    """
    lti = (f["loan_cents"] / 100.0) / (f["income_cents"] / 100.0)
    util = agg["utilisation"][row_app]
    late = np.minimum(agg["late_total"][row_app], 8)
    unsecured = f["purpose"] != HOME_PURPOSE
    term_eff = np.zeros(len(lti))
    for term, effect in TERM_EFFECT.items():
        term_eff[f["term"] == term] = effect
    return (
        0.3 * np.log(lti / 0.4)
        + LTI_STEP_EFFECT * ((lti > LTI_STEP) & unsecured)
        + UTIL_STEP_EFFECT * (util > UTIL_STEP)
        + late * (LATE_EFFECT + LATE_EXTRA_EFFECT * (util > LATE_HIGH_UTIL))
        + SHORT_EMPLOYMENT_EFFECT
        * ((f["emp_tenths"] < SHORT_EMPLOYMENT_TENTHS) & (lti > SHORT_EMPLOYMENT_LTI))
        + term_eff
        + DEPENDANT_EFFECT * f["deps"]
        + HOUSING_EFFECT[f["housing"]]
        + NO_RECORDS_EFFECT * agg["no_records"][row_app]
    )


def _write_bureau_db(path: Path, rec: dict[str, np.ndarray]) -> str:
    """Write bureau.db deterministically; return sha256 of the table contents."""
    tmp = path.with_name(path.name + ".tmp")
    for p in (tmp, Path(str(tmp) + "-journal")):
        if p.exists():
            p.unlink()
    h = hashlib.sha256()
    con = sqlite3.connect(str(tmp), isolation_level=None)
    try:
        con.execute("PRAGMA page_size = 4096")
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute(
            f"CREATE TABLE {BUREAU_TABLE} ("
            "record_id INTEGER PRIMARY KEY, "
            "applicant_id TEXT NOT NULL, "
            "account_type TEXT NOT NULL, "
            "credit_limit REAL NOT NULL, "
            "balance REAL NOT NULL, "
            "months_on_book INTEGER NOT NULL, "
            "late_payments_12m INTEGER NOT NULL, "
            "is_closed INTEGER NOT NULL)"
        )
        con.execute("BEGIN")
        m = len(rec["owner"])
        insert = f"INSERT INTO {BUREAU_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        for start in range(0, max(m, 1), DB_CHUNK):
            sl = slice(start, min(start + DB_CHUNK, m))
            chunk = pd.DataFrame(
                {
                    "record_id": np.arange(sl.start, sl.stop, dtype=np.int64) + 1,
                    "applicant_id": _ids(rec["owner"][sl]),
                    "account_type": ACCOUNT_TYPES[rec["account_type"][sl]],
                    "credit_limit": rec["limit_cents"][sl] / 100.0,
                    "balance": rec["balance_cents"][sl] / 100.0,
                    "months_on_book": rec["months"][sl],
                    "late_payments_12m": rec["late"][sl],
                    "is_closed": rec["is_closed"][sl],
                },
                columns=BUREAU_COLUMNS,
            )
            h.update(_canonical_bureau_bytes(chunk, header=start == 0))
            cols = [chunk[c].tolist() for c in BUREAU_COLUMNS]
            con.executemany(insert, zip(*cols, strict=True))
        con.execute("COMMIT")
    finally:
        con.close()
    os.replace(tmp, path)
    return h.hexdigest()


def _malformed_amount(rng: np.random.Generator, cents: int) -> str:
    amount = cents / 100.0
    whole = cents // 100
    kind = int(rng.integers(0, 4))
    if kind == 0:  # thousands separator + letter O instead of zero
        return f"{amount:,.2f}".replace("0", "O")
    if kind == 1:  # european thousands separator -> two dots
        return f"{whole // 1000}.{whole % 1000:03d}.{cents % 100:02d}"
    if kind == 2:
        return "n/a-amount"
    return f"{amount:.2f} EUR"


def generate(
    rows: int = 10000,
    seed: int = 42,
    out_dir: str | os.PathLike = DEFAULT_OUT,
    label_bias: bool = True,
    random_label: bool = False,
    dirty_fraction: float = 0.02,
) -> dict:
    """Generate the dataset into ``out_dir`` and return the manifest dict."""
    rows = int(rows)
    seed = int(seed)
    if rows < 10:
        raise ValueError("rows must be >= 10")
    if not 0.0 <= dirty_fraction <= 0.5:
        raise ValueError("dirty_fraction must be within [0, 0.5]")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    # independent streams so that options never shift another stage's draws
    ss = np.random.SeedSequence(seed)
    rng_feat, rng_layout, rng_bureau, rng_label, rng_dirt = (np.random.default_rng(s) for s in ss.spawn(5))

    n = rows
    f = _applicant_features(rng_feat, n)

    # ---- dirty-row layout ------------------------------------------------- #
    n_dirty = round(n * dirty_fraction)
    kind_rows = _split_dirty(n_dirty)
    n_pairs = kind_rows["duplicated_applicant_id"] // 2
    copy_pos = np.sort(rng_layout.choice(n, size=n_pairs, replace=False))
    is_copy = np.zeros(n, dtype=bool)
    is_copy[copy_pos] = True
    unique_pos = np.flatnonzero(~is_copy)  # row position of applicant i
    n_unique = len(unique_pos)
    row_app = np.empty(n, dtype=np.int64)  # applicant index per row
    row_app[unique_pos] = np.arange(n_unique)

    # disjoint random picks among unique-id rows for originals + other kinds
    single_kinds = [k for k in DIRTY_KINDS if k != "duplicated_applicant_id"]
    n_pick = n_pairs + sum(kind_rows[k] for k in single_kinds)
    picks = rng_layout.choice(n_unique, size=n_pick, replace=False)
    originals = picks[:n_pairs]  # applicant indices that get a copy row
    row_app[copy_pos] = originals
    kind_pos: dict[str, np.ndarray] = {}
    offset = n_pairs
    for k in single_kinds:
        kind_pos[k] = np.sort(unique_pos[picks[offset : offset + kind_rows[k]]])
        offset += kind_rows[k]
    kind_pos["duplicated_applicant_id"] = np.sort(np.concatenate([unique_pos[originals], copy_pos]))

    # ---- bureau (one set of records per unique applicant id) --------------- #
    app_age = f["age"][unique_pos]
    app_income = f["income_cents"][unique_pos] / 100.0
    rec, agg = _bureau(rng_bureau, app_age, app_income)

    # ---- latent risk and labels ------------------------------------------- #
    lin = _latent_risk(f, agg, row_app)
    noise = rng_label.normal(0.0, LATENT_NOISE_SD, size=n)
    u_label = rng_label.random(n)
    u_flip = rng_label.random(n)
    u_random = rng_label.random(n)
    lin = lin + noise
    intercept = _calibrate_intercept(lin, TRUE_POSITIVE_RATE)
    y_true = (u_label < _sigmoid(lin + intercept)).astype(np.int64)

    foreign = f["foreign"]
    bias_applied = bool(label_bias and not random_label)
    flipped = foreign & (y_true == 0) & (u_flip < LABEL_BIAS_FLIP_RATE)
    if random_label:
        label = (u_random < RANDOM_LABEL_RATE).astype(np.int64)
    elif label_bias:
        label = np.where(flipped, 1, y_true)
    else:
        label = y_true
    n_flipped = int(flipped.sum()) if bias_applied else 0

    # ---- build the CSV columns (as strings), then apply the dirt ---------- #
    def put(col: pd.Series, pos: np.ndarray, values: list[str]) -> pd.Series:
        """Vectorised replacement of the few dirty cells of a string column."""
        col = col.astype("str")
        if len(pos):
            col.iloc[pos] = values
        return col

    age_out = f["age"].copy()
    age_out[kind_pos["impossible_age"]] = rng_dirt.choice(
        IMPOSSIBLE_AGES, size=len(kind_pos["impossible_age"])
    )

    pos = kind_pos["missing_value"]
    income_out = put(_fmt_fixed(f["income_cents"], 2), pos, [""] * len(pos))

    pos = kind_pos["unknown_category"]
    codes = UNKNOWN_CODES[rng_dirt.integers(0, len(UNKNOWN_CODES), size=len(pos))]
    in_housing = rng_dirt.random(len(pos)) < 0.5
    housing_out = put(pd.Series(HOUSING[f["housing"]]), pos[in_housing], codes[in_housing].tolist())
    purpose_out = put(pd.Series(PURPOSES[f["purpose"]]), pos[~in_housing], codes[~in_housing].tolist())

    pos = kind_pos["malformed_number"]
    bad = [_malformed_amount(rng_dirt, int(f["loan_cents"][p])) for p in pos]
    if bad and pd.to_numeric(pd.Series(bad), errors="coerce").notna().any():
        raise AssertionError("a malformed_number value parses as a number")
    loan_out = put(_fmt_fixed(f["loan_cents"], 2), pos, [_csv_field(v) for v in bad])

    ids_out = _ids(row_app)
    days = f["days"].astype("timedelta64[D]")
    columns = [
        ids_out,  # applicant_id
        pd.Series(np.datetime_as_string(DATE_START + days, unit="D")),
        pd.Series(age_out),
        pd.Series(SEXES[f["sex"]]),
        pd.Series(np.where(foreign, "yes", "no")),  # foreign_worker
        pd.Series(REGIONS[f["region"]]),
        income_out,  # annual_income
        loan_out,  # loan_amount
        pd.Series(f["term"]),  # loan_term_months
        _fmt_fixed(f["emp_tenths"], 1),  # employment_years
        housing_out,
        purpose_out,
        pd.Series(f["deps"]),  # num_dependents
        pd.Series(label),  # defaulted_12m
    ]
    csv_path = out / APPLICATIONS_FILE
    tmp_csv = csv_path.with_name(csv_path.name + ".tmp")
    with open(tmp_csv, "w", encoding="utf-8", newline="") as fh:
        for start in range(0, n, CSV_CHUNK):
            chunk = [c.iloc[start : start + CSV_CHUNK] for c in columns]
            fh.write(_csv_text(chunk, APPLICATION_COLUMNS if start == 0 else None))
    os.replace(tmp_csv, csv_path)
    ids_out = ids_out.to_numpy()
    del columns, income_out, loan_out, housing_out, purpose_out

    bureau_sha = _write_bureau_db(out / BUREAU_FILE, rec)

    # ---- manifest --------------------------------------------------------- #
    dirty = {}
    for k in DIRTY_KINDS:
        ids = sorted(set(ids_out[kind_pos[k]].tolist()))
        dirty[k] = {
            "count": len(kind_pos[k]),
            "applicant_ids": ids,
            "description": DIRTY_DESCRIPTIONS[k],
        }
    any_dirty = np.zeros(n, dtype=bool)
    for k in DIRTY_KINDS:
        any_dirty[kind_pos[k]] = True

    def rate(mask: np.ndarray, y: np.ndarray) -> float:
        return round(float(y[mask].mean()), 6) if mask.any() else 0.0

    all_rows = np.ones(n, dtype=bool)
    manifest = {
        "generator": "tools/generate_sample_data.py",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "rows": n,
        "options": {
            "label_bias": bool(label_bias),
            "random_label": bool(random_label),
            "dirty_fraction": float(dirty_fraction),
        },
        "files": {
            "applications": APPLICATIONS_FILE,
            "bureau": BUREAU_FILE,
            "bureau_table": BUREAU_TABLE,
        },
        "row_counts": {
            "applications": n,
            "applications_clean": int(n - any_dirty.sum()),
            "applications_dirty": int(any_dirty.sum()),
            "unique_applicant_ids": int(n_unique),
            "bureau_records": len(rec["owner"]),
            "applicants_without_bureau_records": int((agg["n_records"] == 0).sum()),
        },
        "target": {
            "column": "defaulted_12m",
            "positive_rate": rate(all_rows, label),
            "positive_rate_clean_rows": rate(~any_dirty, label),
            "unbiased_positive_rate": rate(all_rows, y_true),
            "label_source": (
                "random: Bernoulli(0.2) independent of every feature"
                if random_label
                else "Bernoulli(sigmoid(latent risk)); latent risk = debt-to-income "
                "(log-linear plus a step for unsecured loans), employment_years (only with a "
                "high debt-to-income), bureau late payments and utilisation (total balance / "
                "total limit; a step, and late payments weigh more at high utilisation), "
                "no bureau record, loan term (U-shaped), num_dependents, housing, Gaussian noise"
            ),
            "risk_structure": [
                f"step: +{LTI_STEP_EFFECT} when loan_to_income > {LTI_STEP} and purpose != home",
                f"step: +{UTIL_STEP_EFFECT} when credit_utilisation > {UTIL_STEP}",
                f"interaction: +{LATE_EFFECT} per late payment (capped at 8), "
                f"+{LATE_EXTRA_EFFECT} more when credit_utilisation > {LATE_HIGH_UTIL}",
                f"interaction: +{SHORT_EMPLOYMENT_EFFECT} when employment_years < "
                f"{SHORT_EMPLOYMENT_TENTHS / 10} and loan_to_income > {SHORT_EMPLOYMENT_LTI}",
                "non-monotone: loan_term_months effect "
                + ", ".join(f"{t}: {e:+}" for t, e in TERM_EFFECT.items()),
                "linear: +0.3 x log(loan_to_income / 0.4), "
                f"+{DEPENDANT_EFFECT} per dependant, housing "
                + ", ".join(f"{h}: {e:+}" for h, e in zip(HOUSING, HOUSING_EFFECT.tolist(), strict=True))
                + f", +{NO_RECORDS_EFFECT} without bureau records",
                f"noise: Gaussian, sd {LATENT_NOISE_SD}; intercept calibrated to a "
                f"{TRUE_POSITIVE_RATE} base rate",
            ],
            "causal_features": [
                "loan_amount/annual_income",
                "employment_years",
                "bureau.late_payments_12m (sum per applicant)",
                "bureau: sum(balance)/sum(credit_limit) per applicant",
                "loan_term_months",
                "num_dependents",
                "housing",
                "purpose (home loans are exempt from the debt-to-income step)",
                "no bureau record",
            ],
        },
        "positive_rate": rate(all_rows, label),
        "sensitive_attributes": ["sex", "age", "foreign_worker"],
        "sensitive_attributes_note": (
            "no direct causal effect on the true risk; age acts only mildly "
            "through annual_income and employment_years"
        ),
        "proxy": {
            "column": "region_code",
            "proxy_for": "foreign_worker",
            "cramers_v": round(_cramers_v(f["region"], foreign.astype(np.int64)), 4),
            "direct_effect_on_risk": False,
            "description": (
                f"{FOREIGN_IN_PROXY_REGIONS:.0%} of foreign workers live in R10-R12, "
                f"{NATIONAL_IN_PROXY_REGIONS:.0%} of nationals do"
            ),
        },
        "label_bias": {
            "enabled": bool(label_bias),
            "applied": bias_applied,
            "group": {"column": "foreign_worker", "value": "yes"},
            "mechanism": (
                "historical label bias: within the group, each true negative is "
                "relabelled defaulted_12m=1 with probability flip_probability"
            ),
            "flip_probability": LABEL_BIAS_FLIP_RATE if bias_applied else 0.0,
            "flipped_rows": n_flipped,
            "positive_rate_by_group": {
                "yes": rate(foreign, label),
                "no": rate(~foreign, label),
            },
            "unbiased_positive_rate_by_group": {
                "yes": rate(foreign, y_true),
                "no": rate(~foreign, y_true),
            },
        },
        "sha256": {
            "applications_csv": _file_sha256(csv_path),
            "bureau_records_table": bureau_sha,
            "bureau_records_table_method": (
                "sha256 of the table as CSV (header, columns in schema order, "
                "ORDER BY record_id, '\\n' line ends, REAL as '%.2f')"
            ),
        },
        "dirty_rows": dirty,
    }
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
    tmp_manifest = out / (MANIFEST_FILE + ".tmp")
    with open(tmp_manifest, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp_manifest, out / MANIFEST_FILE)
    return manifest


# ---- scoring batches (for the inference and monitoring pipelines) ------------------------ #

BATCHES = {"no_drift": ("none", 101), "drifted": ("shift", 202)}  # shipped: name -> (drift, seed)
BATCH_ROWS = 2000
DRIFT_KINDS = ("none", "shift")
DRIFT_SHIFT = {
    "annual_income": 0.7,  # incomes fall by 30%
    "loan_amount": 1.4,  # loans grow by 40%
    "age": -8,  # a younger clientele (years)
    "housing_own_to_rent": 0.4,  # share of home owners who now rent
}


def _scaled(values: pd.Series, factor: float) -> pd.Series:
    """Multiply the parseable numbers of a text column; keep other cells (dirty rows) as they are."""
    numbers = pd.to_numeric(values, errors="coerce")
    ok = numbers.notna() & values.str.fullmatch(r"-?\d+(\.\d+)?").fillna(False)
    out = values.copy()
    out[ok] = (numbers[ok] * factor).map("{:.2f}".format)
    return out


def apply_drift(applications: pd.DataFrame, drift: str, seed: int) -> pd.DataFrame:
    """The applications (as text) after a covariate shift; labels are left as generated.

    ``shift``: lower incomes, larger loans, younger applicants, fewer home owners: the model's
    inputs move while the labels stay those of the undrifted applicants, so the model's
    performance decays too. ``none``: unchanged.
    """
    if drift not in DRIFT_KINDS:
        raise ValueError(f"drift must be one of {DRIFT_KINDS}")
    frame = applications.copy()
    if drift == "none":
        return frame
    rng = np.random.default_rng(seed + 1)
    frame["annual_income"] = _scaled(frame["annual_income"], DRIFT_SHIFT["annual_income"])
    frame["loan_amount"] = _scaled(frame["loan_amount"], DRIFT_SHIFT["loan_amount"])
    age = pd.to_numeric(frame["age"], errors="coerce")
    plausible = age.between(18 - DRIFT_SHIFT["age"], 120) & frame["age"].str.isdigit()
    frame.loc[plausible, "age"] = (age[plausible] + DRIFT_SHIFT["age"]).clip(lower=18).astype(int).astype(str)
    owners = (frame["housing"] == "own").to_numpy()
    move = owners & (rng.random(len(frame)) < DRIFT_SHIFT["housing_own_to_rent"])
    frame.loc[move, "housing"] = "rent"
    return frame


def generate_batch(
    rows: int = BATCH_ROWS, seed: int = 101, out_dir: str | os.PathLike = ".", drift: str = "none"
) -> dict:
    """A scoring batch in the raw layout (applications.csv with labels, bureau.db, manifest.json).

    The batch is a fresh sample of the same population (another seed), optionally drifted; its
    ``defaulted_12m`` column holds the labels that arrive later, for performance monitoring.
    """
    if drift not in DRIFT_KINDS:
        raise ValueError(f"drift must be one of {DRIFT_KINDS}")
    out = Path(out_dir)
    manifest = generate(rows=rows, seed=seed, out_dir=out)
    csv_path = out / APPLICATIONS_FILE
    applications = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    drifted = apply_drift(applications, drift, seed)
    columns = [drifted[c].map(_csv_field) for c in drifted.columns]
    text = _csv_text(columns, list(drifted.columns))
    with open(csv_path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    manifest["batch"] = {"drift": drift, "shift": DRIFT_SHIFT if drift == "shift" else {}}
    manifest["sha256"]["applications_csv"] = _file_sha256(csv_path)
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
    with open(out / MANIFEST_FILE, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return manifest


# ---- batches whose labels arrive later (for the labels pipeline) ------------------------- #

# shipped: name -> (seed, labels); their applications.csv has no target column, labels.csv has it.
LATE_LABEL_BATCHES = {"unlabelled": (303, "recorded"), "decayed": (404, "decayed")}
LABELS_FILE = "labels.csv"
LABEL_KINDS = ("recorded", "decayed")
UNKNOWN_LABEL_IDS = 12  # labels for ids no row of the batch has
REPEATED_LABELS = 7  # a label sent twice with the same value
CONFLICTING_LABELS = 3  # a label sent twice with the other value
DECAY_SHARE = 0.5  # decayed: share of labels replaced by outcomes the inputs do not explain


def _labels_text(ids: pd.Series, values: pd.Series) -> str:
    return _csv_text([ids.map(_csv_field), values.map(_csv_field)], ["applicant_id", "defaulted_12m"])


def generate_late_labels_batch(
    rows: int = BATCH_ROWS, seed: int = 303, out_dir: str | os.PathLike = ".", labels: str = "recorded"
) -> dict:
    """A scoring batch without its target column, and its labels in ``labels.csv``, keyed by id.

    The applications are a fresh undrifted sample (as ``generate_batch``) with ``defaulted_12m``
    removed. ``labels.csv`` has one row per applicant_id of the batch (the quarantined rows' ids
    included: their labels cannot be joined), in a seeded order. ``recorded``: the labels as
    generated, plus labels for unknown ids and labels sent twice (some with the other value).
    ``decayed``: for ``DECAY_SHARE`` of the applicants the label is replaced by a draw at the
    batch's positive rate, independent of every input (a change the inputs do not show), so the
    model's ranking decays.
    """
    if labels not in LABEL_KINDS:
        raise ValueError(f"labels must be one of {LABEL_KINDS}")
    out = Path(out_dir)
    manifest = generate_batch(rows=rows, seed=seed, out_dir=out, drift="none")
    csv_path = out / APPLICATIONS_FILE
    applications = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    rng = np.random.default_rng(seed + 2)
    first = applications.drop_duplicates("applicant_id")
    ids, values = first["applicant_id"].reset_index(drop=True), first["defaulted_12m"].reset_index(drop=True)
    dirty = sorted({i for kind in manifest["dirty_rows"].values() for i in kind["applicant_ids"]})
    batch_labels: dict = {"file": LABELS_FILE, "kind": labels, "in_applications": False}
    if labels == "decayed":
        replace = rng.random(len(values)) < DECAY_SHARE
        rate = float((values == "1").mean())
        drawn = np.where(rng.random(len(values)) < rate, "1", "0")
        values = values.where(~replace, pd.Series(drawn))
        batch_labels["decay"] = {
            "share_replaced": DECAY_SHARE,
            "rows_replaced": int(replace.sum()),
            "mechanism": "the label of each replaced applicant is Bernoulli(batch positive rate), "
            "independent of every input",
        }
        extra_ids, extra_values = pd.Series([], dtype=str), pd.Series([], dtype=str)
    else:
        unknown = _ids(rows + 1 + np.arange(UNKNOWN_LABEL_IDS))
        clean = ids[~ids.isin(dirty)].to_numpy()
        picked = rng.choice(clean, size=REPEATED_LABELS + CONFLICTING_LABELS, replace=False)
        by_id = dict(zip(ids, values, strict=True))
        repeated = [by_id[i] for i in picked[:REPEATED_LABELS]]
        flipped = ["0" if by_id[i] == "1" else "1" for i in picked[REPEATED_LABELS:]]
        extra_ids = pd.Series([*unknown, *picked])
        extra_values = pd.Series([*(rng.choice(["0", "1"], size=UNKNOWN_LABEL_IDS)), *repeated, *flipped])
        batch_labels.update(
            {
                "unknown_ids": sorted(unknown),
                "repeated_ids": sorted(picked[:REPEATED_LABELS].tolist()),
                "conflicting_ids": sorted(picked[REPEATED_LABELS:].tolist()),
            }
        )
    all_ids = pd.concat([ids, extra_ids], ignore_index=True)
    all_values = pd.concat([values, extra_values], ignore_index=True)
    order = rng.permutation(len(all_ids))
    text = _labels_text(
        all_ids.iloc[order].reset_index(drop=True), all_values.iloc[order].reset_index(drop=True)
    )
    with open(out / LABELS_FILE, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    unlabelled = applications.drop(columns="defaulted_12m")
    columns = [unlabelled[c].map(_csv_field) for c in unlabelled.columns]
    with open(csv_path, "w", encoding="utf-8", newline="") as fh:
        fh.write(_csv_text(columns, list(unlabelled.columns)))
    batch_labels.update(
        {
            "rows": len(all_ids),
            "ids_in_batch": len(ids),
            "quarantined_ids": dirty,
            "positive_rate": round(float((values == "1").mean()), 6),
        }
    )
    manifest["batch"]["labels"] = batch_labels
    manifest["sha256"]["applications_csv"] = _file_sha256(csv_path)
    manifest["sha256"]["labels_csv"] = _file_sha256(out / LABELS_FILE)
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
    with open(out / MANIFEST_FILE, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return manifest


def write_shipped_batches(root: Path = DEFAULT_OUT / "batches") -> None:
    """Every shipped scoring batch under ``root``/<name>/ (``make sample-data``)."""
    for name, (drift, seed) in BATCHES.items():
        generate_batch(rows=BATCH_ROWS, seed=seed, out_dir=root / name, drift=drift)
    for name, (seed, labels) in LATE_LABEL_BATCHES.items():
        generate_late_labels_batch(rows=BATCH_ROWS, seed=seed, out_dir=root / name, labels=labels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=None, help="default 10000 (--batch: 2000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--no-label-bias",
        dest="label_bias",
        action="store_false",
        help="do not plant historical label bias against foreign workers",
    )
    parser.add_argument(
        "--random-label",
        action="store_true",
        help="label is Bernoulli(0.2) noise, independent of every feature",
    )
    parser.add_argument("--dirty-fraction", type=float, default=0.02)
    parser.add_argument(
        "--batch",
        action="store_true",
        help="write a scoring batch (default: 2,000 rows) into --out instead of the sample data",
    )
    parser.add_argument("--drift", choices=DRIFT_KINDS, default="none", help="with --batch")
    parser.add_argument(
        "--late-labels",
        choices=LABEL_KINDS,
        default=None,
        help="with --batch: no target column in applications.csv, the labels in labels.csv",
    )
    parser.add_argument(
        "--shipped-batches",
        action="store_true",
        help=f"write every shipped scoring batch into {DEFAULT_OUT.name}/batches/<name>",
    )
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    if args.shipped_batches:
        write_shipped_batches()
        names = [*BATCHES, *LATE_LABEL_BATCHES]
        print(f"wrote the scoring batches {names} in {time.perf_counter() - t0:.2f}s")
        return 0
    if args.batch and args.late_labels:
        m = generate_late_labels_batch(
            rows=args.rows or BATCH_ROWS, seed=args.seed, out_dir=args.out, labels=args.late_labels
        )
        print(
            f"wrote a scoring batch of {m['row_counts']['applications']} applications without "
            f"labels, and {m['batch']['labels']['rows']} labels ({args.late_labels}) to {args.out}"
        )
        return 0
    if args.batch:
        m = generate_batch(rows=args.rows or BATCH_ROWS, seed=args.seed, out_dir=args.out, drift=args.drift)
        print(
            f"wrote a scoring batch of {m['row_counts']['applications']} applications "
            f"(drift: {args.drift}) to {args.out} in {time.perf_counter() - t0:.2f}s"
        )
        return 0
    m = generate(
        rows=args.rows or 10000,
        seed=args.seed,
        out_dir=args.out,
        label_bias=args.label_bias,
        random_label=args.random_label,
        dirty_fraction=args.dirty_fraction,
    )
    rc = m["row_counts"]
    print(
        f"wrote {rc['applications']} applications ({rc['applications_dirty']} dirty), "
        f"{rc['bureau_records']} bureau records to {args.out} | seed={m['seed']} "
        f"positive_rate={m['positive_rate']:.3f} "
        f"cramers_v(region,foreign)={m['proxy']['cramers_v']:.3f} "
        f"label_bias={'on' if m['label_bias']['applied'] else 'off'} "
        f"random_label={m['options']['random_label']} "
        f"in {time.perf_counter() - t0:.2f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
