"""The model card's sections "What drives its predictions" and "Where it is wrong", in plain
words, from the explanation's reports."""

import math
from typing import Any

from ...reporting import fmt, markdown_table


def _percent(value: Any) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{100 * value:.1f} %"


def _names(inputs: list[str]) -> str:
    quoted = [f"`{name}`" for name in inputs]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def importance_section(report: dict[str, Any]) -> str:
    """What the model relies on: the inputs by permutation importance, with intervals."""
    metric, inputs = report["metric"], report["inputs"]
    loss = "drop" if report["greater_is_better"] else "rise"
    used = [i for i in inputs if i["ci_low"] > 0]
    unused = [i["input"] for i in inputs if i["ci_low"] <= 0]
    lines = [
        f"Each input's values were shuffled among {fmt(report['rows'], 0)} held-out rows, "
        f"{report['n_repeats']} times, and the {loss} in {metric} (from "
        f"{fmt(report['baseline_score'], 4)}) measured: the larger the {loss}, the more the "
        "model relies on the input. The interval is a 95 % interval of the mean over the "
        "shuffles.",
        "",
        (
            f"The model relies most on {_names([i['input'] for i in used[:3]])}."
            if used
            else "No input's shuffling costs the model clearly more than chance."
        ),
    ]
    if unused:
        lines += [
            "",
            f"Inputs it does not measurably use (their interval reaches 0): {_names(unused)}. "
            "The model would lose nothing clear without them, or they carry nothing the other "
            "inputs do not.",
        ]
    lines += [
        "",
        *markdown_table(
            ["rank", "input", f"{loss} in {metric}", "95 % interval"],
            [
                [
                    str(i["rank"]),
                    f"`{i['input']}`",
                    fmt(i["importance"], 4),
                    f"[{fmt(i['ci_low'], 4)}, {fmt(i['ci_high'], 4)}]",
                ]
                for i in inputs
            ],
            ["r", "l", "r", "l"],
        ),
        "",
        "Inputs that move together share their importance: shuffling one leaves the other to "
        "carry the signal, so both may look less important than they are. Importance says "
        "what the model uses, not what causes the outcome. The partial dependence of the top "
        "inputs (how the average prediction changes as one input varies) is plotted in the "
        "run's artifacts, `explanation/partial_dependence.png`.",
    ]
    return "\n".join(lines)


def errors_section(report: dict[str, Any]) -> str:
    """Where the model errs most: the cohorts of the error tree against the overall rate."""
    confidence = f"{report['confidence'] * 100:g} %"
    lines = [
        f"A held-out row counts as an error when it is {report['error_definition']}. Overall, "
        f"{_percent(report['error_rate'])} of the {fmt(report['rows'], 0)} rows are errors "
        f"({confidence} interval {_percent(report['ci_low'])} to {_percent(report['ci_high'])}).",
        "",
        f"A decision tree of depth {report['max_depth']} was fitted on the errors of half of "
        f"the rows ({fmt(report['fit_rows'], 0)}); each of its groups (a cohort, described by "
        "conditions on at most "
        f"{report['max_depth']} inputs) was then measured on the other half "
        f"({fmt(report['measured_rows'], 0)} rows, error rate "
        f"{_percent(report.get('measured_error_rate'))}), so the figures are not flattered by "
        f"the tree's choice. Cohorts with fewer than {report['min_rows']} rows are not shown.",
        "",
    ]
    cohorts = report["cohorts"][: report["max_cohorts"]]
    if not cohorts:
        lines.append("Too few rows or errors to find cohorts: no cohort is reported.")
        return "\n".join(lines)
    above = [c for c in report["cohorts"] if c["above_overall"]]
    lines.append(
        f"{len(above)} cohort(s) err clearly more often than the rows overall (the whole "
        f"interval above the overall rate); the worst: {above[0]['cohort']}."
        if above
        else "No cohort errs clearly more often than the rows overall (none has its whole "
        "interval above the overall rate)."
    )
    lines += [
        "",
        *markdown_table(
            ["cohort", "rows", "error rate", f"{confidence} interval", "vs overall"],
            [
                [
                    c["cohort"],
                    fmt(c["rows"], 0),
                    _percent(c["error_rate"]),
                    f"[{_percent(c['ci_low'])}, {_percent(c['ci_high'])}]",
                    "higher"
                    if c["above_overall"]
                    else "not clearly higher"
                    if c["error_rate"] > report.get("measured_error_rate", 0)
                    else "lower or equal",
                ]
                for c in cohorts
            ],
            ["l", "r", "r", "l", "l"],
        ),
        "",
        "A cohort is where to look first (more data, a better input, a person's review), not "
        "a cause: its conditions describe the rows, they do not explain the errors.",
    ]
    return "\n".join(lines)
