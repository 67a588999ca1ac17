"""The fairness report people read: Markdown tables and one figure per sensitive feature.

The tables are also the model card's (``release``), so both show the same groups and figures.
"""

from typing import Any

import numpy as np

from ...problem import problem_of
from ...reporting import fmt, markdown_table
from .plan import PARAMETERS


def with_interval(value: Any, ci: list[float] | None) -> str:
    """``0.812 [0.790, 0.833]``: a figure and its interval, if it has one."""
    return fmt(value) + (f" [{fmt(ci[0])}, {fmt(ci[1])}]" if ci else "")


def group_tables(report: dict[str, Any]) -> list[str]:
    """Markdown: per feature the criteria against thresholds and the by-group table."""
    metrics = [m for m in report["overall"] if m != "count"]
    lines = []
    for name, feature in report["features"].items():
        lines += [f"### {name}: {feature['verdict']}", ""]
        if feature["criteria"]:
            rows = [
                [
                    criterion
                    + (f" (worst class: {c['worst_class']})" if "worst_class" in c else ""),
                    with_interval(c["value"], c.get("ci")),
                    f"{c['rule']} {c['threshold']}",
                    f"**{c['verdict']}**",
                ]
                for criterion, c in feature["criteria"].items()
            ]
            lines += markdown_table(["criterion", "value [95 % CI]", "required", "verdict"], rows)
            lines.append("")
            lines += _per_class_lines(feature)
        rows = [
            [
                group["group"],
                int(group["count"]),
                *(with_interval(group.get(m), group.get(f"{m}_ci")) for m in metrics),
                group.get("note", ""),
            ]
            for group in feature["groups"]
        ]
        header = ["group", "n", *metrics, "note"]
        lines += markdown_table(header, rows, ["l", "r", *["l"] * (len(metrics) + 1)])
        lines.append("")
    return lines


def _per_class_lines(feature: dict[str, Any]) -> list[str]:
    """Each judged criterion's value per class, where it is judged on its worst class."""
    lines = []
    for criterion, c in feature["criteria"].items():
        if "worst_class" not in c:
            continue
        parts = [
            f"{key.split('.', 1)[1]} {with_interval(entry['value'], entry.get('ci'))}"
            for key, entry in feature["summary"].items()
            if key.startswith(f"{criterion}.")
        ]
        lines.append(f"- {criterion} per class: {'; '.join(parts)}")
    return [*lines, ""] if lines else []


def proxy_table(proxy_report: dict[str, Any], limit: int = 10) -> list[str]:
    """Markdown: the strongest associations between model inputs and sensitive attributes."""
    rows = [
        [row["input"], row["sensitive"], fmt(row["cramers_v"]), row["flag"]]
        for row in proxy_report["associations"][:limit]
    ]
    header = ["model input", "sensitive attribute", "Cramér's V", "flag"]
    return markdown_table(header, rows, ["l", "l", "r", "l"])


def _label(metric: str, by_group: tuple[str, ...]) -> str:
    """``selection rate (all)`` for a figure also shown by group, else ``accuracy``."""
    words = metric.replace("_", " ")
    return f"{words} (all)" if metric in by_group else words


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
    by_group = tuple(k for k, v in fb.items() if isinstance(v, dict))
    overall = [k for k in b if k != "features"]
    criteria = mitigation.get("criteria", ["demographic_parity_ratio", "equalized_odds_difference"])
    rows = [
        *([_label(m, by_group), fmt(b[m]), fmt(a[m])] for m in overall),
        *(
            [
                f"{metric.replace('_', ' ')}, {feature} = {group}",
                fmt(value),
                fmt(fa[metric].get(group)),
            ]
            for metric in by_group
            for group, value in fb[metric].items()
        ),
        *(
            [f"{criterion} ({feature})", fmt(fb.get(criterion)), fmt(fa.get(criterion))]
            for criterion in criteria
        ),
    ]
    return [
        f"{mitigation['method']} with constraint `{mitigation['constraint']}` on `{feature}` "
        f"(held-out rows: {mitigation['rows']}).",
        "",
        *markdown_table(["", "before", "after"], rows, ["l", "r", "r"]),
    ]


def write_fairness_report(
    fairness_report: dict[str, Any],
    mitigation: dict[str, Any],
    plan: dict[str, Any],
    dataset: dict[str, Any],
) -> str:
    """The Markdown fairness report: verdict, reasons, tables, proxies, mitigation."""
    problem = problem_of(dataset)
    report = fairness_report
    lines = [
        "# Fairness review",
        "",
        f"Verdict: **{report['verdict']}** ({problem.fairness_headline(report)}).",
        "",
        *(f"- {reason}" for reason in report["reasons"]),
        "",
        f"{problem.fairness_explanation(report)} Intervals: "
        f"{report['bootstrap']['confidence']:.0%} bootstrap percentile intervals "
        f"({report['bootstrap']['n_boot']} resamples of the held-out rows). Groups with fewer "
        f"than {report['min_group_size']} rows are too small to judge and left out of the "
        "verdict. A criterion fails when its estimate and its whole interval breach the "
        "threshold, and warns when the estimate breaches it but the interval does not.",
        "",
        "## In short",
        "",
        *(f"- {line}" for line in report.get("summary_lines", [])),
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


def _panel_rows(metrics: list[str]) -> list[list[str]]:
    """Panels in rows: one row of every figure, or, with figures per class (``recall.<class>``),
    a row per such metric and one of the others (at most four panels a row)."""
    per_class: dict[str, list[str]] = {}
    for metric in metrics:
        if "." in metric:
            per_class.setdefault(metric.split(".", 1)[0], []).append(metric)
    if not per_class:
        return [metrics]
    width = min(4, max(len(panels) for panels in per_class.values()))
    groups = [*per_class.values(), [m for m in metrics if "." not in m]]
    return [panels[i : i + width] for panels in groups for i in range(0, len(panels), width)]


def plot_fairness(fairness_report: dict[str, Any], dataset: dict[str, Any]) -> dict[str, Any]:
    """Per feature, one panel per figure: a bar per group with its interval and the overall
    line (shares on a 0-1 axis, figures in the target's unit on their own).

    Groups too small to judge are drawn hatched and grey.
    """
    from matplotlib.figure import Figure

    problem = problem_of(dataset)
    metrics = [m for m in fairness_report["overall"] if m != "count"]
    grid = _panel_rows(metrics)
    columns = max(len(row) for row in grid)
    figures = {}
    for name, feature in fairness_report["features"].items():
        groups = feature["groups"]
        width = max(4.0, 0.7 * len(groups) + 1.5)
        size = (width * columns / 1.6, 4.2)  # one row; several rows: smaller, wide enough
        if len(grid) > 1:  # for the title
            size = (max(size[0], 10.0), 3.2 * len(grid))
        figure = Figure(figsize=size, layout="constrained")
        axes = figure.subplots(len(grid), columns, squeeze=False)
        positions = np.arange(len(groups))
        for line, row in zip(axes, grid, strict=True):
            for ax in line[len(row) :]:
                ax.set_visible(False)
            for ax, metric in zip(line, row, strict=False):
                _panel(ax, metric, groups, positions, fairness_report, problem)
        confidence = fairness_report["bootstrap"]["confidence"]
        figure.suptitle(
            f"{name}: {feature['verdict']} (bars: {confidence:.0%} interval; dashed: overall; "
            "grey, hatched: too small to judge)"
        )
        figures[f"{name}.png"] = figure
    return figures


def _panel(  # noqa: PLR0917  (one panel: its axes, figure, groups and words)
    ax: Any,
    metric: str,
    groups: list[dict[str, Any]],
    positions: np.ndarray,
    fairness_report: dict[str, Any],
    problem: Any,
) -> None:
    """One figure's bars by group, with intervals and the overall line."""
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
    axis = problem.fairness_axis(metric)
    ax.set_title(axis.get("title") or metric.replace("_", " "))
    if "ylim" in axis:
        ax.set_ylim(*axis["ylim"])
    if axis.get("ylabel"):
        ax.set_ylabel(axis["ylabel"])
