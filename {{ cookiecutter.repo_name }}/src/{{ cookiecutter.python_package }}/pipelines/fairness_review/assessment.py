"""The fairness assessment: metrics by group with bootstrap intervals, judged against thresholds.

Every figure is measured on the held-out rows (never seen in training), by group, with a
bootstrap interval; groups too small to judge are reported as such and left out of the verdict.
"""

import logging
from typing import Any

import numpy as np
import pandas as pd

from ...gates import enforce_gate, gate_tags, worst
from ...groups import attribute_columns, metric_safe, sensitive_groups
from ...modelling import check_columns, model_inputs
from ...problem import Problem, problem_of
from . import disparity
from .plan import at_decision

logger = logging.getLogger(__name__)


def _judge(value: float, low: float, high: float, rule: str, threshold: float) -> str:
    """pass: the estimate meets the threshold; fail: it breaches it and so does the whole
    interval; warn: it breaches it, but the interval reaches back over (too few rows to be sure)."""
    if np.isnan(value):
        return "pass"
    minimum = rule == "at least"
    breached = value < threshold if minimum else value > threshold
    if not breached:
        return "pass"
    certain = high < threshold if minimum else low > threshold
    return "fail" if certain or np.isnan(low) else "warn"


def held_out_predictions(
    problem: Problem, model: Any, frame: pd.DataFrame, plan: dict[str, Any], dataset: str
) -> np.ndarray:
    """The model's decisions on ``frame`` as the problem type takes them (a class, a number)."""
    check_columns(frame, plan["numeric"] + plan["categorical"], "training.features", dataset)
    inputs = model_inputs(frame, plan["numeric"], plan["categorical"])
    return problem.decide(problem.predict(model, inputs), plan["decision_threshold"])


def _review_feature(
    name: str,
    frame: Any,
    *,
    problem: Problem,
    stats: np.ndarray,
    replicates: np.ndarray | None,
    plan: dict[str, Any],
    reference: dict[str, float],
    shrink: float,
) -> dict[str, Any]:
    """By-group table with intervals, judged criteria and verdict of one sensitive feature."""
    confidence = plan["bootstrap"]["confidence"]
    labels = [str(g) for g in frame.by_group.index]
    point_rates = problem.fairness_rates(stats)
    by_group = frame.by_group.reset_index(drop=True)
    counts = point_rates["count"]
    judged = counts >= plan["min_group_size"]
    boot_rates = problem.fairness_rates(replicates) if replicates is not None else None
    groups = []
    for i, label in enumerate(labels):
        row: dict[str, Any] = {"group": label, "judged": bool(judged[i])}
        for metric in plan["columns"]:
            value = float(by_group.loc[i, metric])
            if metric != "count" and np.isnan(point_rates[metric][i]):
                value = float("nan")  # e.g. a true positive rate without positives
            row[metric] = value
            if boot_rates is not None and metric != "count":
                low, high = disparity.interval(
                    boot_rates[metric][:, i], np.array(value), confidence, shrink
                )
                row[f"{metric}_ci"] = [float(low), float(high)]
        if not judged[i]:
            row["note"] = f"too small to judge (n={int(counts[i])} < {plan['min_group_size']})"
        groups.append(row)
    result: dict[str, Any] = {
        "groups": groups,
        "too_small": [g["group"] for g in groups if not g["judged"]],
        "judged_groups": int(judged.sum()),
        "summary": {},
        "criteria": {},
    }
    if judged.sum() < 2:
        result["verdict"] = "not judged"
        result["note"] = "fewer than two groups large enough to judge"
        return result
    point = problem.fairness_summary(
        {k: v[judged] for k, v in point_rates.items()}, plan["metrics"], reference
    )
    boot = (
        problem.fairness_summary(
            {k: v[:, judged] for k, v in boot_rates.items()}, plan["metrics"], reference
        )
        if boot_rates is not None
        else None
    )
    for key, value in point.items():
        entry: dict[str, Any] = {"value": float(value)}
        if boot is not None:
            low, high = disparity.interval(boot[key], value, confidence, shrink)
            entry["ci"] = [float(low), float(high)]
        result["summary"][key] = entry
    for criterion in plan["rules"]:
        _judge_on_worst_part(result["summary"], criterion)
    thresholds = plan["feature_thresholds"].get(name, plan["thresholds"])
    if not thresholds:
        result["verdict"] = "reported only"
        return result
    for criterion, threshold in thresholds.items():
        entry = result["summary"][criterion]
        low, high = entry.get("ci", [float("nan")] * 2)
        rule = plan["rules"][criterion]
        verdict = _judge(entry["value"], low, high, rule, threshold)
        result["criteria"][criterion] = {
            **entry,
            "threshold": threshold,
            "rule": rule,
            "verdict": verdict,
        }
    result["verdict"] = worst(*(c["verdict"] for c in result["criteria"].values()))
    return result


def _judge_on_worst_part(summary: dict[str, Any], criterion: str) -> None:
    """A criterion computed for every part (``<criterion>.<class>``) is its worst part's value:
    name that part, and take the part's own interval (the resamples' worst over all parts would
    be biased upward: a maximum of noisy figures)."""
    entry = summary.get(criterion)
    if entry is None:
        return
    parts = [
        key
        for key, part in summary.items()
        if key.startswith(f"{criterion}.") and part["value"] == entry["value"]
    ]
    if parts:
        entry["worst_class"] = parts[0].split(".", 1)[1]
        if "ci" in summary[parts[0]]:
            entry["ci"] = list(summary[parts[0]]["ci"])


def _reason(name: str, criterion: str, c: dict[str, Any], confidence: float) -> str:
    low, high = c.get("ci", [np.nan, np.nan])
    where = f" (worst class: {c['worst_class']})" if "worst_class" in c else ""
    return (
        f"{name}: {criterion}{where} = {c['value']:.3f} ({confidence:.0%} CI {low:.3f} to "
        f"{high:.3f}), {c['rule']} {c['threshold']} required -> {c['verdict']}"
    )


def assess_fairness(  # noqa: PLR0917  (a Kedro node: inputs come positionally)
    trained_model: Any,
    held_out_set: pd.DataFrame,
    proxy_report: dict[str, Any],
    plan: dict,
    decision: dict[str, Any],
    dataset: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Disaggregated metrics per sensitive feature and intersection, with bootstrap intervals,
    the criteria against their thresholds, and the verdict (tag ``gate.fairness``); decisions
    at the threshold chosen in training (``decision``)."""
    plan = at_decision(plan, decision)
    problem = problem_of(dataset)
    check_columns(
        held_out_set, attribute_columns(plan["features"]), "sensitive_features", "held_out_set"
    )
    y_true = problem.target_values(held_out_set, "held_out_set")
    y_pred = held_out_predictions(problem, trained_model, held_out_set, plan, "held_out_set")
    cells, n_cells, values = problem.fairness_cells(y_true, y_pred)
    reference = problem.fairness_reference(y_true)
    groups = sensitive_groups(held_out_set, plan["features"], plan["intersections"])
    frames, codes, stats = {}, {}, {}
    for name, labels in groups.items():
        frames[name] = disparity.metric_frame(problem, y_true, y_pred, labels, plan["columns"])
        order = [str(g) for g in frames[name].by_group.index]
        codes[name] = pd.Categorical(labels, categories=order).codes.astype(np.int64)
        stats[name] = disparity.group_stats(cells, values, codes[name], len(order), n_cells)
    boot = plan["bootstrap"]
    replicates: dict[str, np.ndarray] = {}
    shrink = 1.0
    if boot["n_boot"] > 0:
        replicates = disparity.bootstrap_stats(
            cells,
            values,
            n_cells,
            codes,
            {k: len(s) for k, s in stats.items()},
            n_boot=boot["n_boot"],
            seed=boot["seed"],
            max_rows=boot["max_rows"],
        )
        shrink = float(np.sqrt(min(len(y_true), boot["max_rows"]) / len(y_true)))
    features = {
        name: _review_feature(
            name,
            frames[name],
            problem=problem,
            stats=stats[name],
            replicates=replicates.get(name),
            plan=plan,
            reference=reference,
            shrink=shrink,
        )
        for name in groups
    }
    overall = next(iter(frames.values())).overall
    judged = [f["verdict"] for f in features.values() if f["verdict"] in ("pass", "warn", "fail")]
    verdict = worst(*judged) if judged else "warn"
    reasons = [
        _reason(name, criterion, c, boot["confidence"])
        for name, f in features.items()
        for criterion, c in f.get("criteria", {}).items()
        if c["verdict"] != "pass"
    ]
    if not judged:
        reasons.append("no sensitive feature has two groups large enough to judge")
    report = {
        "gate": "fairness",
        "verdict": verdict,
        "reasons": reasons,
        "rows": len(y_true),
        **problem.fairness_report_fields(plan["decision_threshold"], reference),
        "min_group_size": plan["min_group_size"],
        "sensitive_features": list(plan["features"]),
        "intersections": ["_x_".join(parts) for parts in plan["intersections"]],
        "bootstrap": boot,
        "overall": {m: float(overall[m]) for m in plan["columns"]},
        "features": features,
        "proxies": proxy_report,
        "problem_type": problem.kind,
    }
    report["summary_lines"] = [_overall_line(report), *problem.fairness_summary_lines(report)]
    record = {"metrics": _metrics(report), "tags": gate_tags("fairness", verdict)}
    record["tags"]["fairness.proxies_flagged"] = (
        ", ".join(sorted({f"{p['input']}~{p['sensitive']}" for p in proxy_report["flagged"]}))
        or "none"
    )
    logger.info("Fairness review: %s%s", verdict, "".join(f"\n  {r}" for r in reasons))
    return report, record


def _overall_line(report: dict[str, Any]) -> str:
    """``Fairness review: fail on 1960 held-out rows; foreign_worker fails, age warns, ...``."""
    words = {"pass": "passes", "warn": "warns", "fail": "fails"}
    judged = [
        f"{name} {words[f['verdict']]}"
        for name, f in report["features"].items()
        if f["verdict"] in words
    ]
    other = [name for name, f in report["features"].items() if f["verdict"] not in words]
    return (
        f"Fairness review: {report['verdict']} on {report['rows']} held-out rows"
        + (f"; {', '.join(judged)}" if judged else "")
        + (f"; reported only or too small to judge: {', '.join(other)}" if other else "")
        + "."
    )


def _metrics(report: dict[str, Any]) -> dict[str, float]:
    """``fairness.*`` metrics of a report (the dataset adds the prefix); NaN values are left out."""
    out: dict[str, float] = {f"overall.{m}": v for m, v in report["overall"].items()}
    for name, feature in report["features"].items():
        for key, entry in feature["summary"].items():
            out[f"{name}.{key}"] = entry["value"]
            if "ci" in entry:
                out[f"{name}.{key}_ci_low"], out[f"{name}.{key}_ci_high"] = entry["ci"]
        for group in feature["groups"]:
            prefix = f"{name}.group.{metric_safe(group['group'])}"
            for metric, value in group.items():
                if metric in report["overall"]:
                    out[f"{prefix}.{metric}"] = value
                elif metric.endswith("_ci"):
                    base = metric.removesuffix("_ci")
                    out[f"{prefix}.{base}_ci_low"], out[f"{prefix}.{base}_ci_high"] = value
        out[f"{name}.groups_too_small"] = len(feature["too_small"])
    out["proxies_flagged"] = len(report["proxies"]["flagged"])
    for row in report["proxies"]["associations"]:
        out[f"proxy.{row['input']}.{row['sensitive']}.cramers_v"] = row["cramers_v"]
    return {k: float(v) for k, v in out.items() if v is not None and np.isfinite(v)}


def enforce_fairness_gate(
    fairness_report: dict[str, Any], fairness_record: dict[str, Any], plan: dict[str, Any]
) -> str:
    """Apply ``on_fail`` to the fairness verdict (already tagged on the run); return it."""
    verdict = fairness_report["verdict"]
    report = f"{plan['report_folder']}/fairness_report.md"
    enforce_gate("fairness", verdict, plan["on_fail"], fairness_report["reasons"], report)
    return verdict
