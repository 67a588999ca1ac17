"""The model card (Mitchell et al. 2019), filled from this run's datasets and records.

The wording is the team's, in the template ``conf/base/model_card.md`` (Python
``string.Template``: ``${name}`` placeholders, ``$$`` for a dollar sign; ``<!-- notes -->`` are
left out of the card); every number comes from the run: data digests and row counts, the
validation summary, the leaderboard, the held-out metrics, the fairness tables with their
intervals, what drives the predictions and where the model is wrong (``pipelines/explanation``),
the gate verdicts and the open ethics items.
"""

import re
import string
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from ...audit import frame_digest
from ...decision import decision_threshold, worth_section
from ...errors import ConfigError
from ...modelling import feature_columns
from ...problem import problem_of
from ...reporting import fmt, markdown_table
from ..explanation.card import errors_section, importance_section
from ..fairness_review.plan import PARAMETERS
from ..fairness_review.report import group_tables, mitigation_table, proxy_table
from .champion import champion_section
from .promotion import blocking_gates

TEMPLATE = "conf/base/model_card.md"
SECTIONS = (
    "Model details",
    "Intended use",
    "Factors",
    "Metrics",
    "Evaluation data",
    "Training data",
    "Quantitative analyses",
    "What drives its predictions",
    "Where it is wrong",
    "What it is worth",
    "Ethical considerations",
    "Caveats and recommendations",
)


def _num(value: Any, digits: int = 4) -> str:
    return fmt(value, digits)


def _joined_table(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(markdown_table(header, rows))


def _run_context() -> dict[str, str]:
    """Run id, git commit, logged dataset digests and raw data versions of the active run."""
    import mlflow

    run = mlflow.active_run()
    if run is None:
        return {"run_id": "none (tracking disabled)", "git_commit": "unknown", "inputs": ""}
    full = mlflow.get_run(run.info.run_id)
    tags = full.data.tags
    inputs = []
    for logged in full.inputs.dataset_inputs if full.inputs else []:
        input_tags = {t.key: t.value for t in logged.tags}
        text = (
            f"`{logged.dataset.name}` (sha256 `{input_tags.get('sha256', logged.dataset.digest)}`"
        )
        if "data_version" in input_tags:  # a raw file: DVC's hash, to fetch it from the store
            text += f", data version `{input_tags['data_version']}`"
        inputs.append(text + ")")
    return {
        "run_id": run.info.run_id,
        "git_commit": tags.get("mlflow.source.git.commit", "unknown (not a git repository)"),
        "inputs": ", ".join(inputs),
    }


def modelling_sample_text(record: dict[str, Any]) -> str:
    """Which rows the model was fitted on: all validated rows, or a sample of N out of M."""
    rows, total = record["metrics"]["modelling_rows"], record["metrics"]["validated_rows"]
    if rows >= total:
        return f"all {_num(total, 0)} validated rows"
    tags = record["tags"]
    return (
        f"a sample of {_num(rows, 0)} rows out of {_num(total, 0)} validated rows (seeded with "
        f"{tags['training.modelling_sample_seed']}, stratified by class for classes; content "
        "digest "
        f"`{tags['training.modelling_sample_sha256']}`)"
    )


def build_model_card(
    *,
    template: str,
    fairness_report: dict[str, Any],
    mitigation: dict[str, Any],
    validation_summary: dict[str, Any],
    validation_record: dict[str, Any],
    leaderboard: pd.DataFrame,
    benchmark_comparison: dict[str, Any],
    benchmark_record: dict[str, Any],
    test_metrics_record: dict[str, Any],
    fairness_record: dict[str, Any],
    training_set: pd.DataFrame,
    held_out_set: pd.DataFrame,
    modelling_sample_record: dict[str, Any],
    feature_importance: dict[str, Any],
    error_cohorts: dict[str, Any],
    decision: dict[str, Any],
    decision_report: dict[str, Any],
    training: dict[str, Any],
    plan: dict[str, Any],
    dataset: dict[str, Any],
    champion_comparison: dict[str, Any],
) -> str:
    """Fill the team's model card template with this run's figures, in the problem type's words
    (``problem.card_words``)."""
    context = _run_context()
    items = plan["ethics_items"]
    target = training["target"]
    problem = problem_of(dataset)

    numeric, categorical = feature_columns(training)
    tags = {
        **validation_record.get("tags", {}),
        **benchmark_record.get("tags", {}),
        **fairness_record.get("tags", {}),
        "gate.champion": champion_comparison["verdict"],
    }
    v = validation_record["metrics"]
    test = test_metrics_record["metrics"]
    board_metrics = [c.removesuffix("_mean") for c in leaderboard.columns if c.endswith("_mean")]
    board_metrics = [m for m in board_metrics if not m.endswith("seconds")]
    board = _joined_table(
        ["rank", "model", "role", *board_metrics],
        [
            [str(r["rank"]), f"`{r['model']}`", r["role"]]
            + [
                f"{_num(r[f'{m}_mean'])} [{_num(r[f'{m}_ci_low'])}, {_num(r[f'{m}_ci_high'])}]"
                for m in board_metrics
            ]
            for r in leaderboard.to_dict("records")
        ],
    )
    improvement = benchmark_comparison["improvement"]
    gates = plan["required_gates"]
    blocked = blocking_gates(tags, gates, plan["allow_warn"])
    open_items = sorted(
        (i for i in items if i["status"] == "open"),
        key=lambda i: ("high", "medium", "low").index(i["risk"]),
    )
    holds = [i for i in open_items if i["id"] in plan["ethics_holds"]]
    fields = {
        "model_name": plan["registered_model_name"],
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "run_id": context["run_id"],
        "git_commit": context["git_commit"],
        **problem.card_words(round(decision_threshold(decision), 3)),
        "estimator": training["candidate"]["class"] or problem.DEFAULT_CANDIDATE,
        "estimator_kwargs": ", ".join(
            f"{k}={v!r}" for k, v in training["candidate"].get("kwargs", {}).items()
        )
        or "defaults",
        "target": target,
        "numeric_features": ", ".join(f"`{c}`" for c in numeric),
        "categorical_features": ", ".join(f"`{c}`" for c in categorical),
        "sensitive_features": ", ".join(f"`{c}`" for c in fairness_report["sensitive_features"]),
        "intersections": ", ".join(f"`{c}`" for c in fairness_report["intersections"]) or "none",
        "uses_sensitive_features": "yes" if training["use_sensitive_features"] else "no",
        "test_metrics": _joined_table(
            ["metric (held-out set)", "value"],
            [[k, _num(val)] for k, val in test.items() if k not in ("rows",)],
        ),
        "primary_metric": benchmark_comparison["primary_metric"],
        "leaderboard": board,
        "benchmark_verdict": benchmark_comparison["verdict"],
        "benchmark_improvement": (
            f"{_num(improvement['mean'])} (95 % CI {_num(improvement['ci_low'])} to "
            f"{_num(improvement['ci_high'])}, one-sided p = {improvement['p_value']:.3g}) over "
            f"`{benchmark_comparison['best_baseline']}`"
        ),
        "held_out_rows": _num(len(held_out_set), 0),
        "held_out_digest": frame_digest(held_out_set),
        "held_out_labels": problem.describe_labels_text(
            problem.target_values(held_out_set, "held_out_set")
        ),
        "training_rows": _num(len(training_set), 0),
        "modelling_sample": modelling_sample_text(modelling_sample_record),
        "training_digest": frame_digest(training_set),
        "training_labels": problem.describe_labels_text(
            problem.target_values(training_set, "training_set")
        ),
        "logged_inputs": context["inputs"] or "see the run's inputs in MLflow",
        "rows_in": _num(v.get("rows_in"), 0),
        "rows_passed": _num(v.get("rows_passed"), 0),
        "rows_quarantined": _num(v.get("rows_quarantined"), 0),
        "quarantined_share": _num(v.get("quarantined_share")),
        "quarantine_reasons": "\n".join(
            f"- `{reason}`: {count} rows"
            for reason, count in validation_summary.get("quarantined_by_reason", {}).items()
        )
        or "- none",
        "validation_verdict": tags.get("gate.validation", "missing"),
        "fairness_verdict": fairness_report["verdict"],
        "fairness_reasons": "\n".join(f"- {r}" for r in fairness_report["reasons"]) or "- none",
        "fairness_tables": "\n".join(group_tables(fairness_report)),
        "bootstrap": (
            f"{fairness_report['bootstrap']['confidence']:.0%} bootstrap percentile intervals, "
            f"{fairness_report['bootstrap']['n_boot']} resamples (seed "
            f"{fairness_report['bootstrap']['seed']})"
        ),
        "min_group_size": str(fairness_report["min_group_size"]),
        "proxy_table": "\n".join(proxy_table(fairness_report["proxies"])),
        "proxies_flagged": ", ".join(
            f"`{p['input']}` ~ `{p['sensitive']}` (V = {p['cramers_v']:.3f})"
            for p in fairness_report["proxies"]["flagged"]
        )
        or "none",
        "mitigation": "\n".join(mitigation_table(mitigation)),
        "gates": _joined_table(
            ["gate", "verdict"], [[f"`gate.{g}`", tags.get(f"gate.{g}", "missing")] for g in gates]
        ),
        "promotion": (
            f"eligible: every gate passed; registered with alias `{plan['alias']}`"
            if not blocked
            else "kept back by " + ", ".join(f"`{b}`" for b in blocked)
        ),
        "ethics_holds": (
            "**Held back by the ethics checklist: "
            + "; ".join(f"`{i['id']}` ({i['question']} Owner: {i['owner']})" for i in holds)
            + " is open and of high risk. No version of this model may be approved until it is "
            "answered in conf/base/parameters_ethics.yml.**"
            if holds
            else "No open ethics item of high risk holds this model back."
        ),
        "open_ethics_items": _joined_table(
            ["item", "risk", "question", "owner"],
            [[i["id"], i["risk"], i["question"], i["owner"]] for i in open_items],
        )
        if open_items
        else "None: every item is answered or not applicable.",
        "answered_ethics_items": "\n".join(
            f"- **{i['question']}** ({i['owner']}, {i['risk']} risk, "
            f"{i['status'].replace('_', ' ')}): "
            f"{str(i.get('answer') or '').strip()}"
            for i in items
            if i["status"] != "open"
        )
        or "- none yet",
        "fairness_parameters": PARAMETERS,
        "what_drives_predictions": importance_section(feature_importance),
        "where_it_is_wrong": errors_section(error_cohorts),
        "what_it_is_worth": worth_section(decision, decision_report),
        "champion_comparison": champion_section(champion_comparison),
    }
    try:
        notes_removed = re.sub(r"<!--.*?-->\s*", "", template, flags=re.DOTALL)
        card = string.Template(notes_removed).substitute(fields)
    except KeyError as error:
        placeholder = "${" + str(error.args[0]) + "}"
        raise ConfigError(
            f"{TEMPLATE} uses {placeholder}, which the model card does not fill; "
            f"available: {sorted(fields)}."
        ) from None
    except ValueError as error:
        raise ConfigError(f"{TEMPLATE}: {error} (write $$ for a dollar sign).") from None
    missing = [s for s in SECTIONS if f"## {s}" not in card]
    if missing:
        raise ConfigError(f"{TEMPLATE} lacks the model card section(s) {missing}.")
    return card
