#!/usr/bin/env python
"""Deterministic generator of synthetic datasets shaped unlike the bundled sample.

They check that a generated project takes any tabular dataset (binary classification,
regression or multiclass classification) through ``conf/`` files only (the fixtures in
``tools/shapes/<shape>/conf/base/``). Four shapes, two binary (``single_table``,
``three_sources``), one of each other problem type (``regression``, ``multiclass``):

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

``regression`` (property sales and their price per square metre)
    ``property_sales.csv``: one file, id ``listing_id``, a numeric target ``price_per_m2`` (euros
    per square metre, two decimals, strictly positive, nearly every value distinct), eight numeric
    and three categorical inputs; the price is a non-linear function of them (a premium decaying
    with the distance to the centre, new-build and historic-building premiums, floor level in a
    flat, a garden for houses, ...) plus noise. Sensitive: ``seller_sex`` (categorical) and
    ``seller_age`` (numeric, bins in the manifest). Planted disparity: sales by female sellers
    closed about 10% below what the inputs say and scattered more widely, which no input shows, so
    a model's mean residual and mean absolute error differ clearly between the sexes.

``multiclass`` (support tickets and their triage)
    ``support_tickets.csv``: one file, id ``ticket_id``, a text target ``priority`` with three
    classes (``low`` / ``medium`` / ``high``, about 50 / 29 / 21%), seven numeric and three
    categorical inputs; the class is drawn from multinomial logits of them (users affected, plan,
    error rate, channel, an outage threshold, ...). Sensitive: ``requester_gender`` (categorical)
    and ``requester_age`` (numeric, bins in the manifest). Planted disparity: female requesters'
    tickets were triaged lower than their content says (high about half as often), which no input
    shows: a model predicts high about as often for both groups, so the disparity shows in the
    label shares and in error rates by group (precision and false positive rate of high, how often
    the prediction is a higher class than the label), not in predicted shares.

Each shape plants an exact number of dirty rows, each of a kind a row-level expectation catches,
and writes ``manifest.json``: the shape, the main source's rows, the dirty rows (count, kinds,
0-based positions in the main source = ``source_row``, and keys for a related source), the rows
that must end up quarantined, the target (its ``problem_type``: ``binary`` with the positive value
and rate, ``regression`` with unit, mean, std and minimum, ``multiclass`` with classes and shares),
the id column, the sensitive attributes (``sensitive``: type, groups or suggested ``bins``) and the
``planted_disparity`` (``null`` for the binary shapes, which plant none). The regression and
multiclass shapes also list their model inputs (``features``); their figures about the target and
the disparity are over the clean rows.

The same shape, rows and seed give byte-identical CSV, Parquet and manifest files (for the same
numpy / pandas / pyarrow versions; ``billing.db`` also depends on the SQLite library).

Usage::

    python tools/generate_shapes.py --shape SHAPE --rows 2000 --seed 7 --out DIR

with SHAPE one of ``single_table``, ``three_sources``, ``regression``, ``multiclass``.
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

GENERATOR_VERSION = "1.1.0"
SHAPES = ("single_table", "three_sources", "regression", "multiclass")
# What each shape's target asks of the project (also in its manifest, target.problem_type).
PROBLEM_TYPES = {
    "single_table": "binary",
    "three_sources": "binary",
    "regression": "regression",
    "multiclass": "multiclass",
}
DEFAULT_ROWS = 2000
DEFAULT_SEED = 7
MANIFEST_FILE = "manifest.json"
# Rows to quarantine: 1% of the main source's rows (at least one of each kind). single_table: all
# dirty rows of the file; three_sources: half dirty subscriber rows, half subscribers with a bad payment;
# regression and multiclass: all dirty rows of the file.
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
        "id_column": None,
        "target": {
            "problem_type": "binary",
            "column": "income_bracket",
            "header": "Income Bracket",
            "positive": SURVEY_POSITIVE,
            "negative": SURVEY_NEGATIVE,
            "positive_count": int(positive.sum()),
            "positive_rate": round(float(positive.mean()), 6),
            "positive_rate_clean_rows": round(float(positive[clean].mean()), 6),
        },
        "sensitive_attributes": ["age", "sex"],
        "sensitive": {
            "age": {"type": "numeric", "range": [17, 90], "bins": [17, 25, 35, 45, 55, 65, 91]},
            "sex": {"type": "categorical", "groups": ["Female", "Male"]},
        },
        "planted_disparity": None,
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
        "id_column": "customer_id",
        "target": {
            "problem_type": "binary",
            "column": "churned",
            "positive": "True",
            "negative": "False",
            "positive_count": int(churned.sum()),
            "positive_rate": round(float(churned.mean()), 6),
            "positive_rate_clean_rows": round(float(churned[clean].mean()), 6),
        },
        "sensitive_attributes": ["age", "gender"],
        "sensitive": {
            "age": {"type": "numeric", "range": [18, 85], "bins": [18, 30, 45, 60, 86]},
            "gender": {"type": "categorical", "groups": ["female", "male"]},
        },
        "planted_disparity": None,
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


# --- regression: property sales and their price per square metre -----------------------------

SALES_FILE = "property_sales.csv"
# district -> (nearest and farthest distance to the centre in km, share of sales, price lift)
DISTRICTS = {
    "centre": (0.3, 2.5, 0.10, 0.10),
    "inner_north": (2.0, 6.0, 0.18, 0.05),
    "inner_south": (2.0, 6.0, 0.17, -0.02),
    "suburb_east": (6.0, 15.0, 0.20, -0.05),
    "suburb_west": (6.0, 15.0, 0.20, 0.03),
    "outskirts": (15.0, 35.0, 0.15, -0.08),
}
PROPERTY_TYPES = ("flat", "terraced", "detached")
HEATING = ("gas", "district_heating", "heat_pump", "oil")
SALES_NUMERIC = [
    "floor_area_m2",
    "rooms",
    "bathrooms",
    "building_age_years",
    "floor_level",
    "distance_to_centre_km",
    "energy_use_kwh_m2",
    "lot_area_m2",
]
SALES_CATEGORICAL = ["district", "property_type", "heating"]
SALES_HEADERS = [
    "listing_id",
    *SALES_NUMERIC,
    "district",
    "property_type",
    "heating",
    "seller_sex",
    "seller_age",
    "price_per_m2",
]
# The planted disparity: sales by female sellers closed below what the property says (an offset
# on the log price) and scattered more widely (extra noise), neither visible in the inputs.
SALES_BIAS_GROUP = "female"
SALES_BIAS_OFFSET = -0.10  # on log(price per m2): about -9.5%
SALES_BIAS_NOISE = 0.18  # extra standard deviation on log(price per m2)
SALES_NOISE = 0.07  # every sale's own noise on log(price per m2)
SALES_AREA_RANGE = [10, 1000]  # valid floor areas (clean ones are 18-600)
SALES_DIRT = [
    ("floor_area_not_a_number", "floor_area_m2 holds text ('n/a', 'abc', '85 m2', 'approx 80')"),
    ("floor_area_out_of_range", "floor_area_m2 is zero or negative (outside 10-1000)"),
    ("price_not_a_number", "the target price_per_m2 holds text ('unknown', 'n/a', 'on request')"),
]


def _regression(out: Path, rows: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    ids = np.char.mod("P%06d", np.arange(1, rows + 1))
    near, far, share, lift = (np.array(column) for column in zip(*DISTRICTS.values(), strict=True))
    at = rng.choice(len(DISTRICTS), rows, p=share)
    district = np.array(list(DISTRICTS))[at]
    distance = np.round(near[at] + (far[at] - near[at]) * rng.random(rows), 1)
    p_flat = np.clip(0.9 - 0.03 * distance, 0.2, 0.9)
    u = rng.random(rows)
    kind = np.where(u < p_flat, 0, np.where(u < p_flat + (1 - p_flat) * 0.45, 1, 2))
    property_type = np.array(PROPERTY_TYPES)[kind]
    flat = kind == 0
    area_mu = np.log(np.array([70.0, 110.0, 150.0]))[kind]
    area = np.round(np.clip(np.exp(area_mu + 0.3 * rng.standard_normal(rows)), 18, 600), 1)
    rooms = np.clip(np.round(area / 28 + 0.7 * rng.standard_normal(rows)), 1, 12).astype(int)
    bathrooms = (1 + (area > 90) + (area > 160) + (rng.random(rows) < 0.15)).astype(int)
    age = np.clip(np.round(rng.gamma(1.6, 28.0, rows)), 0, 150).astype(int)
    floor_level = np.where(
        flat, rng.integers(0, 9, rows) + np.where(distance < 3, rng.integers(0, 4, rows), 0), 0
    )
    heating = np.where(
        age < 15,
        rng.choice(HEATING, rows, p=[0.25, 0.2, 0.5, 0.05]),
        rng.choice(HEATING, rows, p=[0.5, 0.25, 0.15, 0.10]),
    )
    heating_use = np.select([heating == "heat_pump", heating == "oil"], [-40.0, 30.0], 0.0)
    energy = np.clip(
        np.round(60 + 1.6 * np.minimum(age, 100) + heating_use + 25 * rng.standard_normal(rows)), 25, 400
    )
    lot_mu = np.log(np.array([1.0, 150.0, 600.0]))[kind]
    lot = np.where(flat, 0, np.round(np.exp(lot_mu + 0.4 * rng.standard_normal(rows)))).astype(int)
    seller_sex = rng.choice(["female", "male"], rows, p=[0.48, 0.52])
    seller_age = np.clip(np.round(rng.normal(52, 14, rows)), 20, 95).astype(int)

    # The truth, on log(price per m2): a premium that decays fast with the distance to the centre,
    # the district, smaller homes dearer per m2, older buildings cheaper except new builds and
    # historic ones (100 years or more), energy use, floors up in a flat (the ground floor
    # cheaper), bathrooms, a garden for houses, and heat pumps in recent buildings.
    truth = (
        np.log(3400.0)
        + 0.75 * np.exp(-distance / 3.0)
        + lift[at]
        + np.array([0.0, -0.04, 0.02])[kind]
        - 0.12 * np.log(area / 80)
        - 0.0035 * np.minimum(age, 80)
        + 0.10 * (age <= 5)
        + 0.22 * (age >= 100)
        - 0.0010 * (energy - 120)
        + flat * (0.025 * np.minimum(floor_level, 8) - 0.08 * (floor_level == 0))
        + 0.03 * (bathrooms - 1)
        + ~flat * 0.06 * np.log1p(lot / 300)
        + 0.05 * ((heating == "heat_pump") & (age < 15))
    )
    noise = SALES_NOISE * rng.standard_normal(rows)
    biased = seller_sex == SALES_BIAS_GROUP
    bias = biased * (SALES_BIAS_OFFSET + SALES_BIAS_NOISE * rng.standard_normal(rows))
    price = np.round(np.exp(truth + noise + bias), 2)
    expected = np.exp(truth)  # the price the inputs say, without any noise

    frame = pd.DataFrame(
        {
            "listing_id": ids,
            "floor_area_m2": np.char.mod("%.1f", area),
            "rooms": rooms.astype(str),
            "bathrooms": bathrooms.astype(str),
            "building_age_years": age.astype(str),
            "floor_level": floor_level.astype(str),
            "distance_to_centre_km": np.char.mod("%.1f", distance),
            "energy_use_kwh_m2": energy.astype(int).astype(str),
            "lot_area_m2": lot.astype(str),
            "district": district,
            "property_type": property_type,
            "heating": heating,
            "seller_sex": seller_sex,
            "seller_age": seller_age.astype(str),
            "price_per_m2": np.char.mod("%.2f", price),
        },
        columns=SALES_HEADERS,
    )

    n_dirty = max(len(SALES_DIRT), round(rows * DIRTY_SHARE))
    parts = _pick_rows(rng, np.arange(rows), _split_counts(n_dirty, len(SALES_DIRT)))
    by_kind = dict(zip((k for k, _ in SALES_DIRT), parts, strict=True))
    rows_of = by_kind["floor_area_not_a_number"]
    frame.loc[rows_of, "floor_area_m2"] = rng.choice(["n/a", "abc", "85 m2", "approx 80", "?"], len(rows_of))
    rows_of = by_kind["floor_area_out_of_range"]
    frame.loc[rows_of, "floor_area_m2"] = np.char.mod("%.1f", -np.round(area[rows_of], 0))
    frame.loc[rows_of[:1], "floor_area_m2"] = "0.0"
    rows_of = by_kind["price_not_a_number"]
    frame.loc[rows_of, "price_per_m2"] = rng.choice(["unknown", "n/a", "on request", "tbd"], len(rows_of))

    path = out / SALES_FILE
    frame.to_csv(path, index=False, lineterminator="\n")

    dirty_rows = sorted(int(r) for r in np.concatenate(parts))
    clean = np.ones(rows, dtype=bool)
    clean[dirty_rows] = False
    target = price[clean]
    std = float(target.std())
    deviation = price - expected
    groups = {}
    for name, mask in ((SALES_BIAS_GROUP, biased & clean), ("male", ~biased & clean)):
        groups[name] = {
            "rows": int(mask.sum()),
            "mean_price": round(float(price[mask].mean()), 2),
            "mean_deviation": round(float(deviation[mask].mean()), 2),
            "mean_absolute_deviation": round(float(np.abs(deviation[mask]).mean()), 2),
        }
    gap = groups["male"]["mean_deviation"] - groups[SALES_BIAS_GROUP]["mean_deviation"]
    mad_ratio = (
        groups[SALES_BIAS_GROUP]["mean_absolute_deviation"] / groups["male"]["mean_absolute_deviation"]
    )
    return {
        "files": {SALES_FILE: _sha256(path)},
        "main_source": {"file": SALES_FILE, "catalog_entry": "raw_property_sales", "id_column": "listing_id"},
        "id_column": "listing_id",
        "target": {
            "problem_type": "regression",
            "column": "price_per_m2",
            "unit": "euros per square metre",
            "meaning": "the sale price per square metre of floor area",
            # On the clean rows (those not quarantined).
            "mean": round(float(target.mean()), 2),
            "std": round(std, 2),
            "min": round(float(target.min()), 2),
            "max": round(float(target.max()), 2),
            "distinct_values": len(np.unique(target)),
            "has_zeros": bool((target == 0).any()),
        },
        "features": {"numeric": SALES_NUMERIC, "categorical": SALES_CATEGORICAL},
        "valid_ranges": {"floor_area_m2": SALES_AREA_RANGE},
        "sensitive_attributes": ["seller_age", "seller_sex"],
        "sensitive": {
            "seller_age": {"type": "numeric", "range": [20, 95], "bins": [20, 35, 50, 65, 96]},
            "seller_sex": {"type": "categorical", "groups": ["female", "male"]},
        },
        "planted_disparity": {
            "attribute": "seller_sex",
            "group": SALES_BIAS_GROUP,
            "what": (
                "sales by female sellers closed below what the inputs say (an offset on the log "
                "price) and scattered more widely (extra noise); seller_sex and seller_age are not "
                "model inputs and no input tells the groups apart, so a model leaves the female "
                "group with a negative mean residual and a larger mean absolute error"
            ),
            "log_offset": SALES_BIAS_OFFSET,
            "extra_log_noise_sd": SALES_BIAS_NOISE,
            "base_log_noise_sd": SALES_NOISE,
            # price minus the noiseless price the inputs give, on the clean rows
            "by_group": groups,
            "mean_deviation_gap_over_target_std": round(gap / std, 4),
            "mean_absolute_deviation_ratio": round(mad_ratio, 4),
        },
        "dirty_rows": {
            "count": len(dirty_rows),
            "source_rows": dirty_rows,
            "by_kind": {
                kind: {"description": text, "count": len(part), "source_rows": [int(r) for r in part]}
                for (kind, text), part in zip(SALES_DIRT, parts, strict=True)
            },
        },
        "quarantined": {"count": len(dirty_rows), "source_rows": dirty_rows},
    }


# --- multiclass: support tickets and their priority ---------------------------------------------

TICKETS_FILE = "support_tickets.csv"
PRIORITIES = ("low", "medium", "high")
CHANNELS = ("email", "web_form", "chat", "phone")
PRODUCT_AREAS = ("billing", "login", "performance", "data_export", "integrations")
PLAN_TIERS = ("free", "pro", "enterprise")
TICKETS_NUMERIC = [
    "affected_users",
    "message_words",
    "attachments",
    "previous_tickets_90d",
    "customer_tenure_months",
    "monthly_spend_eur",
    "error_rate_pct",
]
TICKETS_CATEGORICAL = ["channel", "product_area", "plan_tier"]
TICKETS_HEADERS = [
    "ticket_id",
    "channel",
    "product_area",
    "plan_tier",
    *TICKETS_NUMERIC,
    "requester_gender",
    "requester_age",
    "priority",
]
# The planted disparity: tickets of female requesters were triaged lower than their content says
# (logits of high and medium pushed down), which no input shows.
TICKETS_BIAS_GROUP = "female"
TICKETS_BIAS_HIGH, TICKETS_BIAS_MEDIUM = -3.0, -1.5
TICKETS_TENURE_RANGE = [0, 360]  # valid tenures in months (clean ones are 0-180)
TICKETS_DIRT = [
    ("affected_users_not_a_number", "affected_users holds text ('many', '10+', 'all', 'n/a')"),
    ("tenure_out_of_range", "customer_tenure_months is negative or above 360"),
    ("priority_not_a_class", "the target priority is not low / medium / high ('unknown', 'urgent')"),
    ("priority_missing", "the target priority is empty"),
]


def _multiclass(out: Path, rows: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    ids = np.char.mod("T%06d", np.arange(1, rows + 1))
    channel = rng.choice(CHANNELS, rows, p=[0.4, 0.25, 0.2, 0.15])
    area = rng.choice(PRODUCT_AREAS, rows, p=[0.25, 0.2, 0.2, 0.15, 0.2])
    tier_at = rng.choice(len(PLAN_TIERS), rows, p=[0.5, 0.35, 0.15])
    tier = np.array(PLAN_TIERS)[tier_at]
    users_mu = np.array([0.2, 1.0, 2.2])[tier_at]
    affected = np.maximum(1, np.round(np.exp(users_mu + 1.1 * rng.standard_normal(rows)))).astype(int)
    words = np.clip(np.round(rng.lognormal(np.log(80), 0.6, rows)), 3, 2000).astype(int)
    attachments = np.minimum(rng.poisson(0.6, rows), 8)
    previous = rng.poisson(1.2, rows)
    tenure = np.minimum(rng.geometric(1 / 24, rows) - 1, 180)
    spend = np.round(np.array([0.0, 29.0, 400.0])[tier_at] * rng.lognormal(0.0, 0.3, rows), 2)
    error_mu = np.where(np.isin(area, ["login", "performance"]), 5.0, 2.5)
    error_rate = np.round(np.clip(rng.gamma(1.2, error_mu), 0, 100), 1)
    gender = rng.choice(["female", "male"], rows, p=[0.47, 0.53])
    age = np.clip(np.round(rng.normal(46, 16, rows)), 18, 85).astype(int)

    # The truth: one urgency score (users affected, the plan, the error rate, calls and chats,
    # repeat contacts) pushes tickets up; billing questions lean medium; a login or performance
    # outage (error rate above 10%) jumps to high; data exports are rarely high. Logits of
    # (low, medium, high); the class is drawn with the Gumbel-max trick (a softmax draw).
    urgency = (
        0.55 * np.log(affected)
        + 0.9 * (tier == "enterprise")
        + 0.35 * (tier == "pro")
        + 0.07 * error_rate
        + 0.5 * (channel == "phone")
        + 0.25 * (channel == "chat")
        + 0.15 * np.minimum(previous, 5)
    )
    outage = np.isin(area, ["login", "performance"]) & (error_rate > 10)
    logits = np.zeros((rows, 3))
    logits[:, 1] = -2.0 + 1.5 * urgency + 1.0 * (area == "billing") + 0.25 * np.minimum(attachments, 3)
    logits[:, 1] += 0.3 * np.log(words / 80)
    logits[:, 2] = -4.5 + 3.0 * urgency + 3.0 * outage - 1.0 * (area == "data_export")
    biased = gender == TICKETS_BIAS_GROUP
    logits[:, 2] += TICKETS_BIAS_HIGH * biased
    logits[:, 1] += TICKETS_BIAS_MEDIUM * biased
    drawn = np.argmax(logits + rng.gumbel(size=(rows, 3)), axis=1)
    priority = np.array(PRIORITIES)[drawn]

    frame = pd.DataFrame(
        {
            "ticket_id": ids,
            "channel": channel,
            "product_area": area,
            "plan_tier": tier,
            "affected_users": affected.astype(str),
            "message_words": words.astype(str),
            "attachments": attachments.astype(str),
            "previous_tickets_90d": previous.astype(str),
            "customer_tenure_months": tenure.astype(str),
            "monthly_spend_eur": np.char.mod("%.2f", spend),
            "error_rate_pct": np.char.mod("%.1f", error_rate),
            "requester_gender": gender,
            "requester_age": age.astype(str),
            "priority": priority,
        },
        columns=TICKETS_HEADERS,
    )

    n_dirty = max(len(TICKETS_DIRT), round(rows * DIRTY_SHARE))
    parts = _pick_rows(rng, np.arange(rows), _split_counts(n_dirty, len(TICKETS_DIRT)))
    by_kind = dict(zip((k for k, _ in TICKETS_DIRT), parts, strict=True))
    rows_of = by_kind["affected_users_not_a_number"]
    frame.loc[rows_of, "affected_users"] = rng.choice(["many", "10+", "all", "n/a", "~50"], len(rows_of))
    rows_of = by_kind["tenure_out_of_range"]
    frame.loc[rows_of, "customer_tenure_months"] = rng.choice(
        ["-1", "-12", "-40", "999", "1200"], len(rows_of)
    )
    rows_of = by_kind["priority_not_a_class"]
    frame.loc[rows_of, "priority"] = rng.choice(["unknown", "urgent", "n/a", "critical"], len(rows_of))
    frame.loc[by_kind["priority_missing"], "priority"] = ""

    path = out / TICKETS_FILE
    frame.to_csv(path, index=False, lineterminator="\n")

    dirty_rows = sorted(int(r) for r in np.concatenate(parts))
    clean = np.ones(rows, dtype=bool)
    clean[dirty_rows] = False
    counts = {c: int((priority[clean] == c).sum()) for c in PRIORITIES}
    shares = {c: round(n / int(clean.sum()), 6) for c, n in counts.items()}
    by_group = {}
    for name, mask in ((TICKETS_BIAS_GROUP, biased & clean), ("male", ~biased & clean)):
        by_group[name] = {
            "rows": int(mask.sum()),
            "shares": {c: round(float((priority[mask] == c).mean()), 6) for c in PRIORITIES},
        }
    high_ratio = by_group[TICKETS_BIAS_GROUP]["shares"]["high"] / by_group["male"]["shares"]["high"]
    return {
        "files": {TICKETS_FILE: _sha256(path)},
        "main_source": {
            "file": TICKETS_FILE,
            "catalog_entry": "raw_support_tickets",
            "id_column": "ticket_id",
        },
        "id_column": "ticket_id",
        "target": {
            "problem_type": "multiclass",
            "column": "priority",
            "classes": list(PRIORITIES),
            "meaning": "the priority a ticket was triaged to",
            # On the clean rows (those not quarantined).
            "counts": counts,
            "shares": shares,
        },
        "features": {"numeric": TICKETS_NUMERIC, "categorical": TICKETS_CATEGORICAL},
        "valid_ranges": {"customer_tenure_months": TICKETS_TENURE_RANGE},
        "sensitive_attributes": ["requester_age", "requester_gender"],
        "sensitive": {
            "requester_age": {"type": "numeric", "range": [18, 85], "bins": [18, 30, 45, 60, 86]},
            "requester_gender": {"type": "categorical", "groups": ["female", "male"]},
        },
        "planted_disparity": {
            "attribute": "requester_gender",
            "group": TICKETS_BIAS_GROUP,
            "class": "high",
            "shifted_towards": "low",
            "what": (
                "tickets of female requesters were triaged lower than their content says (the "
                "logits of high and medium pushed down); requester_gender and requester_age are not "
                "model inputs and no input tells the groups apart, so the group's tickets are "
                "labelled high about half as often, while a model, which cannot see the group, "
                "predicts high about as often for both groups: the disparity shows in the label "
                "shares and in error rates by group (precision, false positive rate and recall of "
                "high; how often the prediction is a higher class than the label), not in the "
                "predicted shares"
            ),
            "logit_shift": {"high": TICKETS_BIAS_HIGH, "medium": TICKETS_BIAS_MEDIUM},
            # label shares on the clean rows
            "by_group": by_group,
            "label_share_ratio_of_class": round(high_ratio, 4),
        },
        "dirty_rows": {
            "count": len(dirty_rows),
            "source_rows": dirty_rows,
            "by_kind": {
                kind: {"description": text, "count": len(part), "source_rows": [int(r) for r in part]}
                for (kind, text), part in zip(TICKETS_DIRT, parts, strict=True)
            },
        },
        "quarantined": {"count": len(dirty_rows), "source_rows": dirty_rows},
    }


def generate(shape: str, out: Path | str, rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> dict:
    """Write ``shape``'s files and ``manifest.json`` into ``out``; return the manifest."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; use one of {list(SHAPES)}")
    if rows < 200:
        raise ValueError(f"rows must be at least 200 (got {rows}): the validation suites expect it")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    build = {
        "single_table": _single_table,
        "three_sources": _three_sources,
        "regression": _regression,
        "multiclass": _multiclass,
    }[shape]
    built = build(out, rows, seed)
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
    target = manifest["target"]
    if target["problem_type"] == "binary":
        about = f"positive rate {target['positive_rate']:.3f}"
    elif target["problem_type"] == "regression":
        about = f"target mean {target['mean']:.2f} {target['unit']}"
    else:
        about = "class shares " + ", ".join(f"{c} {s:.3f}" for c, s in target["shares"].items())
    print(
        f"{manifest['shape']}: {manifest['rows']} rows, {manifest['quarantined']['count']} to quarantine "
        f"({manifest['quarantined_share']:.2%}), {about} -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
