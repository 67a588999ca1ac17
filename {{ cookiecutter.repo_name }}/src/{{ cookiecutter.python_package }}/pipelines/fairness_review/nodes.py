"""Fairness review nodes: is the model fair across sensitive groups, and can we tell?

Every figure is measured on the held-out rows (never seen in training), by group, with a
bootstrap interval; groups too small to judge are reported as such and left out of the verdict.
"""

import logging
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ConfigError
from ...gates import check_on_fail, enforce_gate, gate_tags, worst
from ...modelling import check_columns, feature_columns, model_inputs, target_values
from ...wording import outcome_words
from . import disparity, proxies

logger = logging.getLogger(__name__)

PARAMETERS = "conf/base/parameters_fairness_review.yml"
MITIGATION_METHODS = ("threshold_optimizer",)
MITIGATION_CONSTRAINTS = (
    "demographic_parity",
    "equalized_odds",
    "true_positive_rate_parity",
    "false_positive_rate_parity",
)
_KEYS = {
    "sensitive_features",
    "intersections",
    "metrics",
    "min_group_size",
    "thresholds",
    "feature_thresholds",
    "bootstrap",
    "proxies",
    "mitigation",
    "on_fail",
    "report_folder",
    "target",
}


def _fail(key: str, problem: str) -> ConfigError:
    return ConfigError(f"fairness_review.{key} in {PARAMETERS} {problem}")


def _check_thresholds(thresholds: Any, key: str) -> dict[str, float]:
    if not isinstance(thresholds, dict):
        raise _fail(key, f"must map criteria to thresholds; it is {thresholds!r}.")
    for name, value in thresholds.items():
        if name not in disparity.CRITERIA:
            raise _fail(f"{key}.{name}", f"is not a criterion; use {sorted(disparity.CRITERIA)}.")
        if not isinstance(value, int | float) or not 0 <= value <= 1:
            raise _fail(f"{key}.{name}", f"is {value!r}; give a number between 0 and 1.")
    return {name: float(value) for name, value in thresholds.items()}


def check_fairness_config(  # noqa: PLR0912  (one check per key, each naming it)
    params: dict[str, Any], training: dict[str, Any], ethics_checklist: dict[str, Any]
) -> dict[str, Any]:
    """Check the fairness configuration and the ethics checklist before any data is read;
    return the review plan."""
    from .model_card import check_ethics_checklist  # noqa: PLC0415  (model_card imports this)

    check_ethics_checklist(ethics_checklist)
    unknown = set(params) - _KEYS
    if unknown:
        raise _fail(str(sorted(unknown)[0]), f"is not a key; use {sorted(_KEYS)}.")
    check_on_fail("fairness_review", params.get("on_fail"), PARAMETERS)
    features = params.get("sensitive_features") or {}
    if not isinstance(features, dict) or not features:
        raise _fail("sensitive_features", "must name at least one column (name: {bins: ...}).")
    for name, spec in features.items():
        bins = (spec or {}).get("bins")
        if bins is not None and (len(bins) < 2 or any(a >= b for a, b in pairwise(bins))):
            raise _fail(f"sensitive_features.{name}.bins", f"must be increasing; it is {bins}.")
    intersections = [list(parts) for parts in params.get("intersections") or []]
    for parts in intersections:
        if len(parts) < 2 or any(p not in features for p in parts):
            raise _fail("intersections", f"entry {parts} must list 2+ of {sorted(features)}.")
    metrics = list(params.get("metrics") or [])
    bad = [m for m in metrics if m not in disparity.METRICS]
    if bad or not metrics:
        raise _fail("metrics", f"has unknown metric(s) {bad}; use any of {disparity.METRICS}.")
    needed = ["count", "selection_rate", "true_positive_rate", "false_positive_rate"]
    metrics = [*dict.fromkeys([*needed, *metrics])]  # the criteria need these four
    thresholds = _check_thresholds(params.get("thresholds") or {}, "thresholds")
    feature_thresholds = {}
    for name, override in (params.get("feature_thresholds") or {}).items():
        if name not in features and name not in {"_x_".join(p) for p in intersections}:
            raise _fail(f"feature_thresholds.{name}", "is not a sensitive feature or intersection.")
        feature_thresholds[name] = _check_thresholds(override or {}, f"feature_thresholds.{name}")
    boot = params.get("bootstrap") or {}
    if int(boot.get("n_boot", 0)) < 0 or not 0 < float(boot.get("confidence", 0.95)) < 1:
        raise _fail("bootstrap", "needs n_boot >= 0 and 0 < confidence < 1.")
    mitigation = params.get("mitigation") or {"enabled": False}
    if mitigation.get("enabled"):
        if mitigation.get("method") not in MITIGATION_METHODS:
            raise _fail("mitigation.method", f"must be one of {list(MITIGATION_METHODS)}.")
        if mitigation.get("constraint") not in MITIGATION_CONSTRAINTS:
            raise _fail("mitigation.constraint", f"must be one of {list(MITIGATION_CONSTRAINTS)}.")
        if mitigation.get("sensitive_feature") not in features:
            raise _fail("mitigation.sensitive_feature", f"must be one of {sorted(features)}.")
    numeric, categorical = feature_columns(training)
    return {
        "features": {name: dict(spec or {}) for name, spec in features.items()},
        "intersections": intersections,
        "metrics": metrics,
        "min_group_size": int(params.get("min_group_size", 30)),
        "thresholds": thresholds,
        "feature_thresholds": feature_thresholds,
        "bootstrap": {
            "n_boot": int(boot.get("n_boot", 500)),
            "confidence": float(boot.get("confidence", 0.95)),
            "seed": int(boot.get("seed", 0)),
            "max_rows": int(boot.get("max_rows", 100_000)),
        },
        "proxies": {
            "threshold": float((params.get("proxies") or {}).get("threshold", 0.3)),
            "numeric_bins": int((params.get("proxies") or {}).get("numeric_bins", 5)),
            "max_rows": int((params.get("proxies") or {}).get("max_rows", 100_000)),
        },
        "mitigation": dict(mitigation),
        "on_fail": params["on_fail"],
        "report_folder": params.get("report_folder", "data/08_reporting/fairness"),
        "target": training["target"],
        "outcome": outcome_words(params.get("target") or {"column": training["target"]}),
        "decision_threshold": float(training.get("decision_threshold", 0.5)),
        "numeric": numeric,
        "categorical": categorical,
    }


def _sensitive_columns(plan: dict[str, Any]) -> list[str]:
    return [(spec or {}).get("column", name) for name, spec in plan["features"].items()]


def _predict(model: Any, frame: pd.DataFrame, plan: dict[str, Any]) -> np.ndarray:
    inputs = model_inputs(frame, plan["numeric"], plan["categorical"])
    probability = model.predict_proba(inputs)[:, 1]
    return (probability >= plan["decision_threshold"]).astype(np.int64)


def _sample(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    return frame if len(frame) <= max_rows else frame.sample(max_rows, random_state=seed)


def detect_proxies(training_set: pd.DataFrame, plan: dict[str, Any]) -> dict[str, Any]:
    """Association of every model input with every sensitive attribute, on the training rows."""
    check_columns(training_set, _sensitive_columns(plan), "sensitive_features", "training_set")
    settings = plan["proxies"]
    frame = _sample(training_set, settings["max_rows"], plan["bootstrap"]["seed"])
    groups = disparity.sensitive_groups(frame, plan["features"], [])
    sensitive = {name: pd.factorize(values)[0] for name, values in groups.items()}
    rows = proxies.associations(
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


def _judge(value: float, low: float, high: float, criterion: str, threshold: float) -> str:
    """pass: the estimate meets the threshold; fail: it breaches it and so does the whole
    interval; warn: it breaches it, but the interval reaches back over (too few rows to be sure)."""
    if np.isnan(value):
        return "pass"
    minimum = criterion.endswith("_ratio")
    breached = value < threshold if minimum else value > threshold
    if not breached:
        return "pass"
    certain = high < threshold if minimum else low > threshold
    return "fail" if certain or np.isnan(low) else "warn"


def _review_feature(
    name: str,
    frame: Any,
    *,
    cells: np.ndarray,
    replicates: np.ndarray | None,
    plan: dict[str, Any],
    shrink: float,
) -> dict[str, Any]:
    """By-group table with intervals, judged criteria and verdict of one sensitive feature."""
    confidence = plan["bootstrap"]["confidence"]
    labels = [str(g) for g in frame.by_group.index]
    point_rates = disparity._rates(cells)
    by_group = frame.by_group.reset_index(drop=True)
    counts = point_rates["count"]
    judged = counts >= plan["min_group_size"]
    boot_rates = disparity._rates(replicates) if replicates is not None else None
    groups = []
    for i, label in enumerate(labels):
        row: dict[str, Any] = {"group": label, "judged": bool(judged[i])}
        for metric in plan["metrics"]:
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
    point = disparity.criteria_values({k: v[judged] for k, v in point_rates.items()})
    boot = (
        disparity.criteria_values({k: v[:, judged] for k, v in boot_rates.items()})
        if boot_rates is not None
        else None
    )
    for key, value in point.items():
        entry: dict[str, Any] = {"value": float(value)}
        if boot is not None:
            low, high = disparity.interval(boot[key], value, confidence, shrink)
            entry["ci"] = [float(low), float(high)]
        base = key.rsplit("_", 1)[0]
        if key in disparity.CRITERIA or base in plan["metrics"]:
            result["summary"][key] = entry
    thresholds = plan["feature_thresholds"].get(name, plan["thresholds"])
    if not thresholds:
        result["verdict"] = "reported only"
        return result
    for criterion, threshold in thresholds.items():
        entry = result["summary"][criterion]
        low, high = entry.get("ci", [float("nan")] * 2)
        verdict = _judge(entry["value"], low, high, criterion, threshold)
        result["criteria"][criterion] = {
            **entry,
            "threshold": threshold,
            "rule": "at least" if criterion.endswith("_ratio") else "at most",
            "verdict": verdict,
        }
    result["verdict"] = worst(*(c["verdict"] for c in result["criteria"].values()))
    return result


def assess_fairness(
    trained_model: Any, held_out_set: pd.DataFrame, proxy_report: dict[str, Any], plan: dict
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Disaggregated metrics per sensitive feature and intersection, with bootstrap intervals,
    the criteria against their thresholds, and the verdict (tag ``gate.fairness``)."""
    check_columns(held_out_set, _sensitive_columns(plan), "sensitive_features", "held_out_set")
    y_true = target_values(held_out_set, plan["target"], "held_out_set")
    y_pred = _predict(trained_model, held_out_set, plan)
    groups = disparity.sensitive_groups(held_out_set, plan["features"], plan["intersections"])
    frames, codes, cells = {}, {}, {}
    for name, labels in groups.items():
        frames[name] = disparity.metric_frame(y_true, y_pred, labels, plan["metrics"])
        order = [str(g) for g in frames[name].by_group.index]
        codes[name] = pd.Categorical(labels, categories=order).codes.astype(np.int64)
        cells[name] = disparity.confusion_cells(y_true, y_pred, codes[name], len(order))
    boot = plan["bootstrap"]
    replicates: dict[str, np.ndarray] = {}
    shrink = 1.0
    if boot["n_boot"] > 0:
        replicates = disparity.bootstrap_cells(
            y_true,
            y_pred,
            codes,
            {k: len(c) for k, c in cells.items()},
            n_boot=boot["n_boot"],
            seed=boot["seed"],
            max_rows=boot["max_rows"],
        )
        shrink = float(np.sqrt(min(len(y_true), boot["max_rows"]) / len(y_true)))
    features = {
        name: _review_feature(
            name,
            frames[name],
            cells=cells[name],
            replicates=replicates.get(name),
            plan=plan,
            shrink=shrink,
        )
        for name in groups
    }
    overall = next(iter(frames.values())).overall
    judged = [f["verdict"] for f in features.values() if f["verdict"] in ("pass", "warn", "fail")]
    verdict = worst(*judged) if judged else "warn"
    reasons = [
        f"{name}: {criterion} = {c['value']:.3f} "
        f"(95% CI {c.get('ci', [np.nan, np.nan])[0]:.3f} to {c.get('ci', [np.nan, np.nan])[1]:.3f})"
        f", {c['rule']} {c['threshold']} required -> {c['verdict']}"
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
        "positive_label": f"{plan['target']} = 1",
        "outcome": plan["outcome"],
        "decision_threshold": plan["decision_threshold"],
        "min_group_size": plan["min_group_size"],
        "sensitive_features": list(plan["features"]),
        "intersections": ["_x_".join(parts) for parts in plan["intersections"]],
        "bootstrap": boot,
        "overall": {m: float(overall[m]) for m in plan["metrics"]},
        "features": features,
        "proxies": proxy_report,
    }
    record = {"metrics": _metrics(report), "tags": gate_tags("fairness", verdict)}
    record["tags"]["fairness.proxies_flagged"] = (
        ", ".join(sorted({f"{p['input']}~{p['sensitive']}" for p in proxy_report["flagged"]}))
        or "none"
    )
    logger.info("Fairness review: %s%s", verdict, "".join(f"\n  {r}" for r in reasons))
    return report, record


def _metrics(report: dict[str, Any]) -> dict[str, float]:
    """``fairness.*`` metrics of a report (the dataset adds the prefix); NaN values are left out."""
    out: dict[str, float] = {f"overall.{m}": v for m, v in report["overall"].items()}
    for name, feature in report["features"].items():
        for key, entry in feature["summary"].items():
            out[f"{name}.{key}"] = entry["value"]
            if "ci" in entry:
                out[f"{name}.{key}_ci_low"], out[f"{name}.{key}_ci_high"] = entry["ci"]
        for group in feature["groups"]:
            prefix = f"{name}.group.{disparity.metric_safe(group['group'])}"
            for metric, value in group.items():
                if metric in disparity.METRICS:
                    out[f"{prefix}.{metric}"] = value
                elif metric.endswith("_ci"):
                    base = metric.removesuffix("_ci")
                    out[f"{prefix}.{base}_ci_low"], out[f"{prefix}.{base}_ci_high"] = value
        out[f"{name}.groups_too_small"] = len(feature["too_small"])
    out["proxies_flagged"] = len(report["proxies"]["flagged"])
    for row in report["proxies"]["associations"]:
        out[f"proxy.{row['input']}.{row['sensitive']}.cramers_v"] = row["cramers_v"]
    return {k: float(v) for k, v in out.items() if v is not None and not np.isnan(v)}


def enforce_fairness_gate(
    fairness_report: dict[str, Any], fairness_record: dict[str, Any], plan: dict[str, Any]
) -> str:
    """Apply ``on_fail`` to the fairness verdict (already tagged on the run); return it."""
    verdict = fairness_report["verdict"]
    report = f"{plan['report_folder']}/fairness_report.md"
    enforce_gate("fairness", verdict, plan["on_fail"], fairness_report["reasons"], report)
    return verdict


def _criteria_snapshot(
    y_true: np.ndarray, y_pred: np.ndarray, groups: dict[str, pd.Series], plan: dict[str, Any]
) -> dict[str, Any]:
    """Accuracy, selection rates by group and the criteria of every feature (point estimates)."""
    out: dict[str, Any] = {
        "accuracy": float((y_true == y_pred).mean()),
        "selection_rate": float(y_pred.mean()),
        "features": {},
    }
    for name, labels in groups.items():
        order = sorted(set(labels))
        codes = pd.Categorical(labels, categories=order).codes.astype(np.int64)
        rates = disparity._rates(disparity.confusion_cells(y_true, y_pred, codes, len(order)))
        judged = rates["count"] >= plan["min_group_size"]
        entry: dict[str, Any] = {
            "selection_rate": {
                g: float(rates["selection_rate"][i]) for i, g in enumerate(order) if judged[i]
            }
        }
        if judged.sum() >= 2:
            values = disparity.criteria_values({k: v[judged] for k, v in rates.items()})
            entry |= {c: float(values[c]) for c in disparity.CRITERIA}
        out["features"][name] = entry
    return out


def mitigate(
    trained_model: Any,
    training_set: pd.DataFrame,
    held_out_set: pd.DataFrame,
    plan: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Optionally wrap the model with fairlearn's ThresholdOptimizer and report before / after.

    The optimizer picks group-specific decision thresholds on the training rows (the model is
    already fitted: ``prefit``) so that the chosen constraint holds; the held-out rows show
    what that costs in accuracy and buys in disparity. It needs the sensitive attribute at
    prediction time: whether that is lawful is a question for the ethics checklist.
    """
    settings = plan["mitigation"]
    if not settings.get("enabled"):
        return {"enabled": False}, {"metrics": {}}
    from fairlearn.postprocessing import ThresholdOptimizer  # noqa: PLC0415

    feature = settings["sensitive_feature"]
    seed = int(settings.get("seed", plan["bootstrap"]["seed"]))
    train_groups = disparity.sensitive_groups(training_set, plan["features"], [])[feature]
    optimizer = ThresholdOptimizer(
        estimator=trained_model,
        constraints=settings["constraint"],
        objective=settings.get("objective", "accuracy_score"),
        prefit=True,
        predict_method="predict_proba",
    )
    optimizer.fit(
        model_inputs(training_set, plan["numeric"], plan["categorical"]),
        target_values(training_set, plan["target"], "training_set"),
        sensitive_features=train_groups.to_numpy(),
    )
    groups = disparity.sensitive_groups(held_out_set, plan["features"], plan["intersections"])
    y_true = target_values(held_out_set, plan["target"], "held_out_set")
    before = _predict(trained_model, held_out_set, plan)
    after = np.asarray(
        optimizer.predict(
            model_inputs(held_out_set, plan["numeric"], plan["categorical"]),
            sensitive_features=groups[feature].to_numpy(),
            random_state=seed,
        ),
        dtype=np.int64,
    )
    report = {
        "enabled": True,
        "method": settings["method"],
        "constraint": settings["constraint"],
        "sensitive_feature": feature,
        "rows": len(y_true),
        "before": _criteria_snapshot(y_true, before, groups, plan),
        "after": _criteria_snapshot(y_true, after, groups, plan),
    }
    metrics: dict[str, float] = {}
    for when in ("before", "after"):
        snapshot = report[when]
        metrics[f"mitigation.{when}.accuracy"] = snapshot["accuracy"]
        metrics[f"mitigation.{when}.selection_rate"] = snapshot["selection_rate"]
        for name, entry in snapshot["features"].items():
            for criterion in ("demographic_parity_ratio", "equalized_odds_difference"):
                if criterion in entry:
                    metrics[f"mitigation.{when}.{name}.{criterion}"] = entry[criterion]
    b, a = report["before"]["features"][feature], report["after"]["features"][feature]
    logger.info(
        "Mitigation (%s, %s on %s): accuracy %.4f -> %.4f; DP ratio %.3f -> %.3f; "
        "EO difference %.3f -> %.3f",
        settings["method"],
        settings["constraint"],
        feature,
        report["before"]["accuracy"],
        report["after"]["accuracy"],
        b.get("demographic_parity_ratio", np.nan),
        a.get("demographic_parity_ratio", np.nan),
        b.get("equalized_odds_difference", np.nan),
        a.get("equalized_odds_difference", np.nan),
    )
    return report, {"metrics": metrics}


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _ci(entry: dict[str, Any], key: str) -> str:
    value, ci = entry.get(key), entry.get(f"{key}_ci")
    return _fmt(value) + (f" [{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci else "")


def group_tables(report: dict[str, Any]) -> list[str]:
    """Markdown: per feature the criteria against thresholds and the by-group table."""
    metrics = [m for m in report["overall"] if m != "count"]
    lines = []
    for name, feature in report["features"].items():
        lines += [f"### {name}: {feature['verdict']}", ""]
        if feature["criteria"]:
            lines += ["| criterion | value [95 % CI] | required | verdict |", "|---|---|---|---|"]
            for criterion, c in feature["criteria"].items():
                ci = c.get("ci")
                interval = f" [{_fmt(ci[0])}, {_fmt(ci[1])}]" if ci else ""
                lines.append(
                    f"| {criterion} | {_fmt(c['value'])}{interval} | {c['rule']} "
                    f"{c['threshold']} | **{c['verdict']}** |"
                )
            lines.append("")
        lines += [
            "| group | n | " + " | ".join(metrics) + " | note |",
            "|---|---:|" + "---|" * len(metrics) + "---|",
        ]
        for group in feature["groups"]:
            cells = [_ci(group, m) for m in metrics]
            lines.append(
                f"| {group['group']} | {int(group['count'])} | "
                + " | ".join(cells)
                + f" | {group.get('note', '')} |"
            )
        lines.append("")
    return lines


def proxy_table(proxy_report: dict[str, Any], limit: int = 10) -> list[str]:
    """Markdown: the strongest associations between model inputs and sensitive attributes."""
    lines = ["| model input | sensitive attribute | Cramér's V | flag |", "|---|---|---:|---|"]
    for row in proxy_report["associations"][:limit]:
        lines.append(
            f"| {row['input']} | {row['sensitive']} | {row['cramers_v']:.3f} | {row['flag']} |"
        )
    return lines


def mitigation_table(mitigation: dict[str, Any]) -> list[str]:
    """Markdown: before / after of the mitigation, or how to switch it on."""
    if not mitigation.get("enabled"):
        return [
            "Mitigation is off (`fairness_review.mitigation.enabled` in "
            f"{PARAMETERS}). Switch it on to see what fairness costs in accuracy."
        ]
    feature = mitigation["sensitive_feature"]
    b, a = mitigation["before"], mitigation["after"]
    fb, fa = b["features"][feature], a["features"][feature]
    lines = [
        f"{mitigation['method']} with constraint `{mitigation['constraint']}` on `{feature}` "
        f"(held-out rows: {mitigation['rows']}).",
        "",
        "| | before | after |",
        "|---|---:|---:|",
        f"| accuracy | {_fmt(b['accuracy'])} | {_fmt(a['accuracy'])} |",
        f"| selection rate (all) | {_fmt(b['selection_rate'])} | {_fmt(a['selection_rate'])} |",
    ]
    for group in fb["selection_rate"]:
        lines.append(
            f"| selection rate, {feature} = {group} | {_fmt(fb['selection_rate'][group])} | "
            f"{_fmt(fa['selection_rate'].get(group))} |"
        )
    for criterion in ("demographic_parity_ratio", "equalized_odds_difference"):
        lines.append(
            f"| {criterion} ({feature}) | {_fmt(fb.get(criterion))} | {_fmt(fa.get(criterion))} |"
        )
    return lines


def write_fairness_report(
    fairness_report: dict[str, Any], mitigation: dict[str, Any], plan: dict[str, Any]
) -> str:
    """The Markdown fairness report: verdict, reasons, tables, proxies, mitigation."""
    report = fairness_report
    lines = [
        "# Fairness review",
        "",
        f"Verdict: **{report['verdict']}** (held-out rows: {report['rows']}; positive = "
        f"{report['positive_label']}: {report['outcome']['positive']}; predicted at probability "
        f">= {report['decision_threshold']}).",
        "",
        *(f"- {reason}" for reason in report["reasons"]),
        "",
        f"Selection rate = share of a group predicted to {report['outcome']['positive']} (the "
        f"{report['outcome']['positive_kind']} outcome for the person scored). Intervals: "
        f"{report['bootstrap']['confidence']:.0%} bootstrap percentile intervals "
        f"({report['bootstrap']['n_boot']} resamples of the held-out rows). Groups with fewer "
        f"than {report['min_group_size']} rows are too small to judge and left out of the "
        "verdict. A criterion fails when its estimate and its whole interval breach the "
        "threshold, and warns when the estimate breaches it but the interval does not.",
        "",
        "## By sensitive feature",
        "",
        *group_tables(report),
        "## Possible proxies",
        "",
        f"Inputs with Cramér's V of at least {report['proxies']['threshold']} with a sensitive "
        "attribute are flagged: the model can learn the attribute through them.",
        "",
        *proxy_table(report["proxies"]),
        "",
        "## Mitigation",
        "",
        *mitigation_table(mitigation),
        "",
    ]
    return "\n".join(lines)


def plot_fairness(fairness_report: dict[str, Any]) -> dict[str, Any]:
    """Per feature, one panel per metric: a bar per group with its interval and the overall line.

    Groups too small to judge are drawn hatched and grey.
    """
    from matplotlib.figure import Figure  # noqa: PLC0415

    metrics = [m for m in fairness_report["overall"] if m != "count"]
    figures = {}
    for name, feature in fairness_report["features"].items():
        groups = feature["groups"]
        width = max(4.0, 0.7 * len(groups) + 1.5)
        figure = Figure(figsize=(width * len(metrics) / 1.6, 4.2), layout="constrained")
        axes = figure.subplots(1, len(metrics), squeeze=False)[0]
        positions = np.arange(len(groups))
        for ax, metric in zip(axes, metrics, strict=True):
            values = np.array([g[metric] for g in groups], dtype=float)
            cis = np.array([g.get(f"{metric}_ci", [np.nan, np.nan]) for g in groups], dtype=float)
            errors = np.abs(np.vstack([values - cis[:, 0], cis[:, 1] - values]))
            colours = ["tab:blue" if g["judged"] else "lightgrey" for g in groups]
            bars = ax.bar(positions, np.nan_to_num(values), color=colours, edgecolor="black")
            for bar, group in zip(bars, groups, strict=True):
                if not group["judged"]:
                    bar.set_hatch("//")
            ax.errorbar(positions, values, yerr=np.nan_to_num(errors), fmt="none", color="black")
            ax.axhline(fairness_report["overall"][metric], color="tab:red", linestyle="--")
            ax.set_xticks(positions, [g["group"] for g in groups], rotation=30, ha="right")
            ax.set_title(metric.replace("_", " "))
            ax.set_ylim(0, 1.05)
        confidence = fairness_report["bootstrap"]["confidence"]
        figure.suptitle(
            f"{name}: {feature['verdict']} (bars: {confidence:.0%} interval; dashed: overall; "
            "grey, hatched: too small to judge)"
        )
        figures[f"{name}.png"] = figure
    return figures
