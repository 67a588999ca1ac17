#!/usr/bin/env python
"""Deterministic generator of synthetic datasets shaped unlike the bundled sample.

They check that a generated project takes any tabular binary-classification dataset through
``conf/`` files only (the fixtures in ``tools/shapes/<shape>/conf/base/``). Two shapes:

``single_table`` (an income survey, in the manner of the UCI "adult" file)
    ``income_survey.csv``: one file, no id column, a text target (``>50K`` / ``<=50K``),
    headers with spaces and odd characters (``Hours per week``, ``Capital-Gain``,
    ``Survey Weight (fnlwgt)``), every value after a comma padded with a space, ``?`` as the
    missing marker in ``Work Class`` and ``Occupation``, a numeric sensitive attribute (age) and
    a categorical one (sex).

``three_sources`` (a subscription service and its churn)
    ``subscribers.csv``: one row per subscriber, id ``customer_id``, boolean target
    ``churned`` (``True`` / ``False``);
    ``usage_events.parquet``: many rows per subscriber (sessions, support contacts);
    ``billing.db``: SQLite with tables ``invoices`` and ``payments``; the project reads the
    settled payments through a SQL query joining the two (voided payments are reversals with
    negative amounts: the query's WHERE leaves them out, so they are not dirt).

Each shape plants an exact number of dirty rows, each of a kind a row-level expectation catches,
and writes ``manifest.json``: the shape, the main source's rows, the dirty rows (count, kinds,
0-based positions in the main source = ``source_row``, and keys for a related source), the rows
that must end up quarantined, the target's positive value and rate, the sensitive attributes.

The same shape, rows and seed give byte-identical CSV, Parquet and manifest files (for the same
numpy / pandas / pyarrow versions; ``billing.db`` also depends on the SQLite library).

Usage::

    python tools/generate_shapes.py --shape single_table|three_sources --rows 2000 --seed 7 --out DIR
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

GENERATOR_VERSION = "1.0.0"
SHAPES = ("single_table", "three_sources")
DEFAULT_ROWS = 2000
DEFAULT_SEED = 7
MANIFEST_FILE = "manifest.json"
# Rows to quarantine: 1% of the main source's rows (at least one of each kind). single_table: all
# dirty rows of the file; three_sources: half dirty subscriber rows, half subscribers with a bad payment.
DIRTY_SHARE = 0.01


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _split_counts(total: int, kinds: int) -> list[int]:
    """``total`` split into ``kinds`` near-equal parts (the first ones get the remainder)."""
    base, extra = divmod(total, kinds)
    return [base + (1 if i < extra else 0) for i in range(kinds)]


def _pick_rows(rng: np.random.Generator, candidates: np.ndarray, counts: list[int]) -> list[np.ndarray]:
    """Disjoint sorted sets of positions drawn from ``candidates``, one per count."""
    chosen = rng.choice(candidates, size=sum(counts), replace=False)
    parts, start = [], 0
    for count in counts:
        parts.append(np.sort(chosen[start : start + count]))
        start += count
    return parts


# --- single_table: an income survey ---------------------------------------------------------

SURVEY_FILE = "income_survey.csv"
SURVEY_HEADERS = [
    "Age",
    "Work Class",
    "Survey Weight (fnlwgt)",
    "Education",
    "Education-Num",
    "Marital Status",
    "Occupation",
    "Sex",
    "Capital-Gain",
    "Capital-Loss",
    "Hours per week",
    "Income Bracket",
]
EDUCATION = {  # level -> years of education (Education-Num)
    "HS-grad": 9,
    "Some-college": 10,
    "Assoc-voc": 11,
    "Bachelors": 13,
    "Masters": 14,
    "Doctorate": 16,
    "11th": 7,
}
EDUCATION_P = [0.32, 0.22, 0.07, 0.18, 0.07, 0.02, 0.12]
WORK_CLASS = ["Private", "Self-emp", "Local-gov", "State-gov", "Federal-gov"]
WORK_CLASS_P = [0.70, 0.12, 0.08, 0.06, 0.04]
MARITAL = ["Married-civ-spouse", "Never-married", "Divorced", "Separated", "Widowed"]
OCCUPATION = ["Exec-managerial", "Prof-specialty", "Craft-repair", "Adm-clerical", "Sales", "Other-service"]
OCCUPATION_LIFT = {
    "Exec-managerial": 0.9,
    "Prof-specialty": 0.8,
    "Craft-repair": 0.0,
    "Adm-clerical": -0.3,
    "Sales": 0.1,
    "Other-service": -1.0,
}
SURVEY_POSITIVE, SURVEY_NEGATIVE = ">50K", "<=50K"
# Dirty kinds: (name, description); each dirty row carries exactly one.
SURVEY_DIRT = [
    ("hours_not_a_number", "Hours per week holds text ('forty', '40+', ...): not a whole number"),
    ("capital_gain_not_a_number", "Capital-Gain holds a currency sign or letters ('$1200', '2k')"),
    ("age_out_of_range", "Age is a number outside 17-90 (0, 150, 999, ...)"),
    ("hours_out_of_range", "Hours per week is above 168, the hours in a week"),
]


def _single_table(out: Path, rows: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    age = np.clip(np.round(rng.gamma(3.0, 7.0, rows) + 17), 17, 90).astype(int)
    sex = rng.choice(["Female", "Male"], rows, p=[0.45, 0.55])
    levels = np.array(list(EDUCATION))
    education = rng.choice(levels, rows, p=EDUCATION_P)
    education_num = np.array([EDUCATION[e] for e in education])
    married_p = np.clip((age - 17) / 40, 0.05, 0.6)
    marital = np.where(
        rng.random(rows) < married_p,
        "Married-civ-spouse",
        rng.choice(MARITAL[1:], rows, p=[0.55, 0.25, 0.08, 0.12]),
    )
    occupation_p = np.array([0.14, 0.14, 0.16, 0.14, 0.14, 0.28])
    occupation = np.where(
        education_num >= 13,
        rng.choice(OCCUPATION, rows, p=[0.3, 0.35, 0.05, 0.1, 0.12, 0.08]),
        rng.choice(OCCUPATION, rows, p=occupation_p),
    )
    work_class = rng.choice(WORK_CLASS, rows, p=WORK_CLASS_P)
    hours = np.clip(np.round(rng.normal(40, 10, rows) + np.where(sex == "Male", 3, -3)), 1, 99).astype(int)
    has_gain = rng.random(rows) < 0.09
    capital_gain = np.where(has_gain, np.round(rng.lognormal(8.3, 1.0, rows)), 0).astype(int)
    capital_loss = np.where(rng.random(rows) < 0.05, np.round(rng.normal(1900, 300, rows)), 0).astype(int)
    weight = np.round(rng.lognormal(12.0, 0.45, rows)).astype(int)

    # The truth: years of education, an inverted U in age (peak near 50), hours that count up
    # to about 50 a week (and less above), a jump for capital gains above 5,000, a band of capital
    # losses (1,700-2,300), marriage and the occupation.
    # Sex has no effect of its own (only through hours and occupation mix).
    occupation_lift = np.array([OCCUPATION_LIFT[o] for o in occupation])
    logit = (
        -2.6
        + 0.5 * (education_num - 10)
        - 0.0012 * (age - 48) ** 2
        + 0.15 * (np.minimum(hours, 50) - 40)
        - 0.15 * np.maximum(hours - 50, 0)
        + 3.0 * (capital_gain > 5000)
        + 2.0 * ((capital_loss > 1700) & (capital_loss < 2300))
        + 1.8 * (marital == "Married-civ-spouse")
        + 1.3 * occupation_lift
        + 1.0 * ((education_num >= 13) & (marital == "Married-civ-spouse"))
    )
    positive = rng.random(rows) < _sigmoid(logit)
    target = np.where(positive, SURVEY_POSITIVE, SURVEY_NEGATIVE)

    frame = pd.DataFrame(
        {
            "Age": age.astype(str),
            "Work Class": work_class,
            "Survey Weight (fnlwgt)": weight.astype(str),
            "Education": education,
            "Education-Num": education_num.astype(str),
            "Marital Status": marital,
            "Occupation": occupation,
            "Sex": sex,
            "Capital-Gain": capital_gain.astype(str),
            "Capital-Loss": capital_loss.astype(str),
            "Hours per week": hours.astype(str),
            "Income Bracket": target,
        },
        columns=SURVEY_HEADERS,
    )
    # "?" for unknown work class / occupation (the adult file's missing marker): not dirt.
    for column, share in (("Work Class", 0.05), ("Occupation", 0.05)):
        frame.loc[rng.random(rows) < share, column] = "?"

    n_dirty = max(len(SURVEY_DIRT), round(rows * DIRTY_SHARE))
    counts = _split_counts(n_dirty, len(SURVEY_DIRT))
    parts = _pick_rows(rng, np.arange(rows), counts)
    by_kind = dict(zip((k for k, _ in SURVEY_DIRT), parts, strict=True))
    texts = np.array(["forty", "40+", "approx 40", "40h", "full-time", "40 hrs"])
    frame.loc[by_kind["hours_not_a_number"], "Hours per week"] = rng.choice(
        texts, len(by_kind["hours_not_a_number"])
    )
    money = np.array(["$1200", "2k", "1200 USD", "USD 500", "3.5k", "~800"])
    frame.loc[by_kind["capital_gain_not_a_number"], "Capital-Gain"] = rng.choice(
        money, len(by_kind["capital_gain_not_a_number"])
    )
    frame.loc[by_kind["age_out_of_range"], "Age"] = rng.choice(
        ["0", "5", "150", "200", "999"], len(by_kind["age_out_of_range"])
    )
    frame.loc[by_kind["hours_out_of_range"], "Hours per week"] = rng.choice(
        ["170", "200", "400", "999"], len(by_kind["hours_out_of_range"])
    )

    path = out / SURVEY_FILE
    lines = [", ".join(SURVEY_HEADERS)]
    lines += [", ".join(values) for values in frame.itertuples(index=False, name=None)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    dirty_rows = sorted(int(r) for r in np.concatenate(parts))
    clean = np.ones(rows, dtype=bool)
    clean[dirty_rows] = False
    return {
        "files": {SURVEY_FILE: _sha256(path)},
        "main_source": {"file": SURVEY_FILE, "catalog_entry": "raw_income_survey", "id_column": None},
        "target": {
            "column": "income_bracket",
            "header": "Income Bracket",
            "positive": SURVEY_POSITIVE,
            "negative": SURVEY_NEGATIVE,
            "positive_count": int(positive.sum()),
            "positive_rate": round(float(positive.mean()), 6),
            "positive_rate_clean_rows": round(float(positive[clean].mean()), 6),
        },
        "sensitive_attributes": ["age", "sex"],
        "missing_marker": {"value": "?", "columns": ["work_class", "occupation"]},
        "dirty_rows": {
            "count": len(dirty_rows),
            "source_rows": dirty_rows,
            "by_kind": {
                kind: {"description": text, "count": len(part), "source_rows": [int(r) for r in part]}
                for (kind, text), part in zip(SURVEY_DIRT, parts, strict=True)
            },
        },
        "quarantined": {"count": len(dirty_rows), "source_rows": dirty_rows},
    }


# --- three_sources: a subscription service --------------------------------------------------

SUBSCRIBERS_FILE = "subscribers.csv"
USAGE_FILE = "usage_events.parquet"
BILLING_FILE = "billing.db"
PLANS = {"basic": 9.99, "standard": 15.99, "premium": 22.99}
MAIN_DIRT = [
    ("monthly_fee_not_a_number", "monthly_fee holds text ('free', '12,99', '9.99 EUR')"),
    ("tenure_negative", "tenure_months is negative"),
]
PAYMENT_DIRT = ("negative_settled_payment", "a settled payment with a negative amount")


def _three_sources(out: Path, rows: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    ids = np.array([f"C{i:05d}" for i in range(1, rows + 1)])
    age = np.clip(np.round(rng.normal(41, 13, rows)), 18, 85).astype(int)
    gender = rng.choice(["female", "male"], rows, p=[0.5, 0.5])
    plan = rng.choice(list(PLANS), rows, p=[0.45, 0.35, 0.20])
    contract = rng.choice(["monthly", "annual"], rows, p=[0.6, 0.4])
    discount = np.where(contract == "annual", 0.85, 1.0)
    fee = np.round(np.array([PLANS[p] for p in plan]) * discount, 2)
    tenure = np.minimum(rng.geometric(1 / 18, rows) - 1, 120)
    region = rng.choice(["north", "south", "east", "west"], rows, p=[0.3, 0.25, 0.25, 0.2])
    paperless = rng.random(rows) < 0.6
    signup = pd.Timestamp("2026-06-01") - pd.to_timedelta(tenure * 30 + rng.integers(0, 30, rows), unit="D")

    # Latent habits that drive the related tables: engagement (sessions and minutes), how often
    # someone contacts support, and how late they pay.
    engagement = rng.lognormal(0.0, 0.6, rows)
    support_rate = rng.gamma(1.2, 0.12, rows)
    lateness = rng.gamma(1.0, 4.0, rows)

    # usage_events.parquet: sessions in the last 90 days, some of them support contacts.
    n_events = rng.poisson(np.clip(10 * engagement, 0.3, 60))
    owner = np.repeat(np.arange(rows), n_events)
    total = len(owner)
    support = rng.random(total) < support_rate[owner]
    minutes = np.where(
        support, np.round(rng.gamma(2.0, 6.0, total), 1), np.round(rng.gamma(2.0, 14.0, total), 1)
    )
    usage = pd.DataFrame(
        {
            "event_id": np.arange(1, total + 1, dtype="int64"),
            "customer_id": ids[owner],
            "event_date": (pd.Timestamp("2026-06-01") - pd.to_timedelta(rng.integers(1, 91, total), unit="D"))
            .strftime("%Y-%m-%d")
            .to_numpy(),
            "event_type": np.where(support, "support_contact", rng.choice(["stream", "download"], total)),
            "support_contact": support.astype("int64"),
            "minutes": minutes,
        }
    )

    # billing.db: one invoice a month for the last min(tenure, 12) months, each paid once
    # ("settled"); some payments were voided and reversed (a negative amount), which the
    # project's SQL query leaves out.
    n_invoices = np.minimum(tenure, 12)
    inv_owner = np.repeat(np.arange(rows), n_invoices)
    n_inv = len(inv_owner)
    invoices = pd.DataFrame(
        {
            "invoice_id": np.arange(1, n_inv + 1, dtype="int64"),
            "customer_id": ids[inv_owner],
            "amount_due": fee[inv_owner],
        }
    )
    days_late = np.minimum(np.round(rng.exponential(lateness[inv_owner])), 120).astype("int64")
    settled = pd.DataFrame(
        {
            "invoice_id": invoices["invoice_id"].to_numpy(),
            "amount": fee[inv_owner],
            "days_late": days_late,
            "status": "settled",
        }
    )
    voided_at = np.flatnonzero(rng.random(n_inv) < 0.03)
    voided = pd.DataFrame(
        {
            "invoice_id": invoices["invoice_id"].to_numpy()[voided_at],
            "amount": -fee[inv_owner][voided_at],
            "days_late": 0,
            "status": "void",
        }
    )

    n_support = np.bincount(owner, weights=support, minlength=rows)
    total_minutes = np.bincount(owner, weights=minutes, minlength=rows)
    max_late = np.zeros(rows)
    np.maximum.at(max_late, inv_owner, days_late)
    # The truth: short tenure and monthly contracts churn; three or more support contacts are a
    # step up; little use and paying more than 30 days late add risk; premium plans on a
    # monthly contract churn more. Age and gender have no effect.
    logit = (
        -1.0
        - 2.5 * (1 - np.exp(-tenure / 10))
        + 1.2 * (contract == "monthly")
        + 2.0 * (n_support >= 3)
        + 1.0 * (total_minutes < 120)
        + 1.5 * (max_late > 30)
        + 1.0 * ((plan == "premium") & (contract == "monthly"))
        - 0.3 * paperless
    )
    churned = rng.random(rows) < _sigmoid(logit)

    subscribers = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": signup.strftime("%Y-%m-%d"),
            "age": age.astype(str),
            "gender": gender,
            "region": region,
            "plan": plan,
            "contract": contract,
            "monthly_fee": [f"{f:.2f}" for f in fee],
            "tenure_months": tenure.astype(str),
            "paperless_billing": np.where(paperless, "True", "False"),
            "churned": np.where(churned, "True", "False"),
        }
    )

    # Dirt in the main source (its rows) and in the payments (keys of clean rows, whose every
    # primary row must then be quarantined). A quarter of the dirty keys get two bad payments.
    n_main = max(len(MAIN_DIRT), round(rows * DIRTY_SHARE / 2))
    n_keys = max(1, round(rows * DIRTY_SHARE / 2))
    has_invoice = np.flatnonzero(n_invoices > 0)
    parts = _pick_rows(rng, has_invoice, [*_split_counts(n_main, len(MAIN_DIRT)), n_keys])
    main_parts, key_rows = parts[:-1], parts[-1]
    by_kind = dict(zip((k for k, _ in MAIN_DIRT), main_parts, strict=True))
    subscribers.loc[by_kind["monthly_fee_not_a_number"], "monthly_fee"] = rng.choice(
        ["free", "12,99", "9.99 EUR", "n/a"], len(by_kind["monthly_fee_not_a_number"])
    )
    subscribers.loc[by_kind["tenure_negative"], "tenure_months"] = [
        str(-int(rng.integers(1, 24))) for _ in by_kind["tenure_negative"]
    ]
    dirty_keys = ids[key_rows]
    twice = set(rng.choice(dirty_keys, max(0, len(dirty_keys) // 4), replace=False).tolist())
    bad_invoices = []
    for key in dirty_keys:
        mine = invoices.index[invoices["customer_id"] == key].to_numpy()
        bad_invoices.extend(rng.choice(mine, min(len(mine), 2 if key in twice else 1), replace=False))
    bad_invoices = np.sort(np.array(bad_invoices))
    settled.loc[bad_invoices, "amount"] = -settled.loc[bad_invoices, "amount"]

    payments = pd.concat([settled, voided], ignore_index=True)
    payments = payments.iloc[rng.permutation(len(payments))].reset_index(drop=True)
    payments.insert(0, "payment_id", np.arange(1, len(payments) + 1, dtype="int64"))
    bad_payment_ids = sorted(
        int(p)
        for p in payments.loc[
            payments["invoice_id"].isin(invoices.loc[bad_invoices, "invoice_id"])
            & (payments["status"] == "settled"),
            "payment_id",
        ]
    )

    subscribers_path = out / SUBSCRIBERS_FILE
    subscribers.to_csv(subscribers_path, index=False, lineterminator="\n")
    usage_path = out / USAGE_FILE
    usage.to_parquet(usage_path, index=False, compression="snappy")
    billing_path = out / BILLING_FILE
    billing_path.unlink(missing_ok=True)
    with sqlite3.connect(billing_path) as con:
        con.execute(
            "CREATE TABLE invoices (invoice_id INTEGER PRIMARY KEY, customer_id TEXT NOT NULL, "
            "amount_due REAL NOT NULL)"
        )
        con.execute(
            "CREATE TABLE payments (payment_id INTEGER PRIMARY KEY, invoice_id INTEGER NOT NULL "
            "REFERENCES invoices (invoice_id), amount REAL NOT NULL, days_late INTEGER NOT NULL, "
            "status TEXT NOT NULL)"
        )
        con.executemany("INSERT INTO invoices VALUES (?, ?, ?)", invoices.itertuples(index=False, name=None))
        con.executemany(
            "INSERT INTO payments VALUES (?, ?, ?, ?, ?)",
            [
                (int(a), int(b), float(c), int(d), str(e))
                for a, b, c, d, e in payments.itertuples(index=False, name=None)
            ],
        )
    con.close()

    main_dirty = sorted(int(r) for r in np.concatenate(main_parts))
    key_positions = sorted(int(r) for r in key_rows)
    quarantined = sorted({*main_dirty, *key_positions})
    clean = np.ones(rows, dtype=bool)
    clean[quarantined] = False
    return {
        "files": {
            SUBSCRIBERS_FILE: _sha256(subscribers_path),
            USAGE_FILE: _sha256(usage_path),
            BILLING_FILE: "(not hashed: depends on the SQLite library)",
        },
        "main_source": {
            "file": SUBSCRIBERS_FILE,
            "catalog_entry": "raw_subscribers",
            "id_column": "customer_id",
        },
        "related_sources": {
            "usage_events": {"file": USAGE_FILE, "key": "customer_id", "rows": total, "rows_read": total},
            "payments": {
                "file": BILLING_FILE,
                "key": "customer_id",
                "rows": len(payments),
                "rows_read": int((payments["status"] == "settled").sum()),  # by the catalog's SQL query
                "voided_rows_left_out_by_query": len(voided),
            },
        },
        "target": {
            "column": "churned",
            "positive": "True",
            "negative": "False",
            "positive_count": int(churned.sum()),
            "positive_rate": round(float(churned.mean()), 6),
            "positive_rate_clean_rows": round(float(churned[clean].mean()), 6),
        },
        "sensitive_attributes": ["age", "gender"],
        "dirty_rows": {
            "count": len(main_dirty),
            "source_rows": main_dirty,
            "by_kind": {
                kind: {"description": text, "count": len(part), "source_rows": [int(r) for r in part]}
                for (kind, text), part in zip(MAIN_DIRT, main_parts, strict=True)
            },
        },
        "dirty_related_rows": {
            "payments": {
                "kind": PAYMENT_DIRT[0],
                "description": PAYMENT_DIRT[1],
                "count": len(bad_payment_ids),
                "payment_ids": bad_payment_ids,
                "keys": sorted(str(k) for k in dirty_keys),
                "source_rows_of_keys": key_positions,
            }
        },
        "quarantined": {"count": len(quarantined), "source_rows": quarantined},
    }


def generate(shape: str, out: Path | str, rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> dict:
    """Write ``shape``'s files and ``manifest.json`` into ``out``; return the manifest."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; use one of {list(SHAPES)}")
    if rows < 200:
        raise ValueError(f"rows must be at least 200 (got {rows}): the validation suites expect it")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    built = _single_table(out, rows, seed) if shape == "single_table" else _three_sources(out, rows, seed)
    manifest = {
        "shape": shape,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "rows": rows,
        **built,
        "quarantined_share": round(built["quarantined"]["count"] / rows, 6),
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=SHAPES, required=True)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows of the main source")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, required=True, help="folder for the files and manifest.json")
    args = parser.parse_args(argv)
    manifest = generate(args.shape, args.out, args.rows, args.seed)
    print(
        f"{manifest['shape']}: {manifest['rows']} rows, {manifest['quarantined']['count']} to quarantine "
        f"({manifest['quarantined_share']:.2%}), positive rate {manifest['target']['positive_rate']:.3f} "
        f"-> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
