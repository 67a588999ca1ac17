"""The monitoring dashboard: one self-contained HTML page of every batch monitored so far.

The page is built from the monitoring experiment (one MLflow run per batch, tag
``monitoring.step`` = batch number): prediction drift, the most drifted model inputs,
performance decay once labels exist, the predictions and the errors by group (what the problem
type compares: ``problem.prediction_panel`` and ``problem.group_panels``), and the alerts.
Figures are matplotlib, inlined as SVG, so the page needs no server and no network.
Any pipeline that adds to the experiment can end with :func:`build_dashboard`.
"""

import logging
import math
from html import escape
from typing import Any

import numpy as np
from kedro.io import AbstractDataset, DatasetError

from ...problem import Problem, problem_of

logger = logging.getLogger(__name__)

PARAMETERS = "conf/base/parameters_monitoring.yml"
ARTIFACT_FOLDER = "monitoring"  # where a run's alert records are (alert.json, <check>_report.json)
NO_LABELS = "No labels yet: {what} appears here once the outcomes of a batch are known."


def _alert_record(name: str, content: Any) -> dict[str, Any] | None:
    """The alert record in a JSON artifact (``alert.json``, or the ``alert`` of a report)."""
    if isinstance(content, dict) and isinstance(content.get("alert"), dict):
        content = content["alert"]
    if not isinstance(content, dict) or not {"verdict", "reasons"} <= set(content):
        return None
    stem = name.rsplit("/", 1)[-1].removesuffix(".json").removesuffix("_report")
    return {
        "check": ARTIFACT_FOLDER if stem == "alert" else stem,
        "verdict": str(content["verdict"]),
        "alert": bool(content.get("alert")),
        "reasons": [str(r) for r in content.get("reasons") or []],
        "warnings": [str(w) for w in content.get("warnings") or []],
    }


def read_history(experiment: str) -> list[dict[str, Any]]:
    """Every finished run of ``experiment``: batch, step, metrics, tags and alert records.

    A metric logged at several steps (labels that arrive later are logged to the batch's run at
    a new step) counts with its last value, for the run's batch.
    """
    import mlflow

    client = mlflow.MlflowClient()
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return []
    runs = client.search_runs(
        [found.experiment_id],
        filter_string="attributes.status = 'FINISHED'",
        order_by=["attributes.start_time ASC"],
        max_results=50000,
    )
    history = []
    for run in runs:
        run_id, tags = run.info.run_id, run.data.tags
        metrics = {}
        for key in run.data.metrics:
            points = client.get_metric_history(run_id, key)
            metrics[key] = max(points, key=lambda p: (p.step, p.timestamp)).value
        alerts = []
        for artifact in client.list_artifacts(run_id, ARTIFACT_FOLDER):
            if artifact.is_dir or not artifact.path.endswith(".json"):
                continue
            record = _alert_record(
                artifact.path, mlflow.artifacts.load_dict(f"runs:/{run_id}/{artifact.path}")
            )
            if record is not None:
                alerts.append(record)
        history.append(
            {
                "run_id": run_id,
                "batch": tags.get("monitoring.batch", run.info.run_name),
                "step": int(tags.get("monitoring.step", len(history) + 1)),
                "start_time": run.info.start_time,
                "metrics": metrics,
                "tags": dict(tags),
                "alerts": alerts,
            }
        )
    return history


class MonitoringHistoryDataset(AbstractDataset[None, list[dict[str, Any]]]):
    """Load every finished run of an MLflow experiment as :func:`read_history` does (read-only)."""

    def __init__(self, experiment: str, metadata: dict[str, Any] | None = None) -> None:
        self._experiment = experiment
        self.metadata = metadata

    def _load(self) -> list[dict[str, Any]]:
        return read_history(self._experiment)

    def _save(self, data: None) -> None:
        raise DatasetError("The monitoring history is read from MLflow; it is not saved.")

    def _describe(self) -> dict[str, Any]:
        return {"experiment": self._experiment}


def latest_per_step(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One run per batch step (the latest started, when a step was monitored again), by step."""
    chosen: dict[int, dict[str, Any]] = {}
    for run in sorted(history, key=lambda r: r.get("start_time") or 0):
        chosen[int(run["step"])] = run
    return [chosen[step] for step in sorted(chosen)]


def _series(batches: list[dict[str, Any]], key: str) -> list[float]:
    return [float(b["metrics"].get(key, float("nan"))) for b in batches]


def _keys(batches: list[dict[str, Any]], prefix: str) -> list[str]:
    return sorted({k for b in batches for k in b["metrics"] if k.startswith(prefix)})


def _batch_axis(ax: Any, batches: list[dict[str, Any]]) -> None:
    """x: the batch step, labelled with the batch's name."""
    ax.set_xticks([b["step"] for b in batches])
    ax.set_xticklabels([f"{b['batch']}\n#{b['step']}" for b in batches], fontsize=8)
    ax.set_xlabel("batch (step)")
    ax.grid(alpha=0.3)
    if len(batches) == 1:
        ax.set_xlim(batches[0]["step"] - 1, batches[0]["step"] + 1)


def _levels(ax: Any, levels: dict[str, float] | None) -> None:
    colours = {"warn": "tab:orange", "fail": "tab:red"}
    for name, value in (levels or {}).items():
        ax.axhline(float(value), linestyle="--", linewidth=1, color=colours.get(name, "grey"))
        ax.annotate(
            f"{name} {value:g}",
            (1, float(value)),
            xycoords=("axes fraction", "data"),
            ha="right",
            va="bottom",
            fontsize=8,
            color=colours.get(name, "grey"),
        )


def _unlabelled(ax: Any, batches: list[dict[str, Any]], prefix: str) -> None:
    """Mark the batches that have no metric starting with ``prefix``."""
    for b in batches:
        if not any(k.startswith(prefix) for k in b["metrics"]):
            ax.axvspan(b["step"] - 0.3, b["step"] + 0.3, color="grey", alpha=0.12)
            ax.text(
                b["step"],
                0.5,
                "no labels yet",
                transform=ax.get_xaxis_transform(),
                rotation=90,
                ha="center",
                va="center",
                fontsize=8,
                color="grey",
            )


def _svg(figure: Any) -> str:
    """The figure as an inline ``<svg>`` element (text kept as text, reproducible ids)."""
    import io

    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "monitoring-dashboard"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _figure(ncols: int, width: float = 5.0, height: float = 3.2) -> tuple[Any, list[Any]]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width * ncols, height), layout="constrained")
    axes = figure.subplots(1, ncols, squeeze=False)[0]
    return figure, list(axes)


def _panel_keys(batches: list[dict[str, Any]], keys: list[str]) -> list[str]:
    """The metrics a panel draws: each key, or every metric under a prefix ending in a dot."""
    found: list[str] = []
    for key in keys:
        found += _keys(batches, key) if key.endswith(".") else [key]
    return found


def prediction_figure(
    batches: list[dict[str, Any]], thresholds: dict[str, Any], panel: dict[str, Any]
) -> Any:
    """Prediction PSI (with its warn / fail levels) and the problem type's figures of the
    predictions (``problem.prediction_panel``: the mean probability, the share predicted in each
    class, the mean prediction), with the training reference's dashed where recorded."""
    figure, (psi, mean) = _figure(2)
    steps = [b["step"] for b in batches]
    psi.plot(steps, _series(batches, "prediction_psi"), marker="o", color="tab:blue")
    _levels(psi, thresholds.get("prediction_psi"))
    psi.set_title("prediction PSI vs training")
    psi.set_ylim(bottom=0)
    keys = _panel_keys(batches, panel["keys"])
    prefix = panel["keys"][0] if panel["keys"][0].endswith(".") else ""
    for key in keys:
        label = key.removeprefix(prefix) if prefix else None
        colour = "tab:purple" if len(keys) == 1 else None
        (line,) = mean.plot(steps, _series(batches, key), marker="o", color=colour, label=label)
        reference = _series(batches, f"reference_{key}")[-1] if panel["reference"] else math.nan
        if not math.isnan(reference):  # the latest batch recorded it
            mean.axhline(reference, linestyle="--", linewidth=0.8, color=line.get_color())
    mean.set_title(panel["title"] + (" (dashed: training)" if panel["reference"] else ""))
    if prefix:
        mean.legend(fontsize=8)
    for ax in (psi, mean):
        _batch_axis(ax, batches)
    return figure


def feature_figure(batches: list[dict[str, Any]], thresholds: dict[str, Any], top: int) -> Any:
    """PSI of the ``top`` most drifted model inputs (largest PSI over all batches)."""
    import math

    keys = _keys(batches, "psi.")
    peak = {
        k: max((v for v in _series(batches, k) if not math.isnan(v)), default=0.0) for k in keys
    }
    chosen = sorted(keys, key=lambda k: -peak[k])[:top]
    figure, (ax,) = _figure(1, width=10, height=3.8)
    steps = [b["step"] for b in batches]
    for key in chosen:
        ax.plot(steps, _series(batches, key), marker="o", label=key.removeprefix("psi."))
    _levels(ax, thresholds.get("feature_psi"))
    ax.set_ylim(bottom=0)
    ax.set_ylabel("PSI vs training")
    ax.set_title(f"the {len(chosen)} most drifted of {len(keys)} inputs (largest PSI)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    _batch_axis(ax, batches)
    return figure


def performance_figure(
    batches: list[dict[str, Any]], thresholds: dict[str, Any], problem: Problem
) -> Any:
    """Each metric on the labelled batches, and its drop vs training with the allowed drop
    (dashed, where it is a number; a share of the training value varies with the model)."""
    names = [k.removeprefix("performance.") for k in _keys(batches, "performance.")]
    metrics = [n for n in names if not n.endswith("_drop")]
    allowed = problem.performance_drops(
        thresholds.get("performance_drop"), "monitoring.thresholds.performance_drop", PARAMETERS
    )
    figure, (value, drop) = _figure(2)
    steps = [b["step"] for b in batches]
    for metric in metrics:
        value.plot(steps, _series(batches, f"performance.{metric}"), marker="o", label=metric)
        line = drop.plot(
            steps, _series(batches, f"performance.{metric}_drop"), marker="o", label=metric
        )[0]
        if metric in allowed and not isinstance(allowed[metric], str):
            drop.axhline(
                float(allowed[metric]), linestyle="--", linewidth=1, color=line.get_color()
            )
        elif metric in allowed:  # a share of the training value: each batch's own line
            now = np.array(_series(batches, f"performance.{metric}"))
            fell = np.array(_series(batches, f"performance.{metric}_drop"))
            before = now + fell if problem.greater_is_better(metric) else now - fell
            limits = [problem.allowed_drop(allowed[metric], value) for value in before]
            drop.plot(steps, limits, linestyle="--", linewidth=1, color=line.get_color())
    value.set_title("metric on the batch")
    drop.set_title("drop vs training (dashed: largest allowed)")
    drop.axhline(0, color="black", linewidth=0.8)
    for ax in (value, drop):
        _batch_axis(ax, batches)
        _unlabelled(ax, batches, "performance.")
        ax.legend(fontsize=8)
    return figure


def group_figure(
    batches: list[dict[str, Any]],
    prefix: str,
    what: str,
    reference_prefix: str | None = None,
    *,
    unit_range: bool = True,
    heading: bool = False,
) -> Any:
    """One panel per feature: ``<prefix><feature>.<group>`` of each group, batch after batch.

    With ``reference_prefix``, each group's reference value (the latest batch's
    ``<reference_prefix><feature>.<group>``) is a dashed line in the group's colour. With
    ``unit_range``, the y axis runs from 0 to 1 (a share). With ``heading``, ``what`` heads the
    figure and each panel is titled by its feature alone (long names, e.g. a class's).
    """
    by_feature: dict[str, list[str]] = {}
    for key in _keys(batches, prefix):
        by_feature.setdefault(key.removeprefix(prefix).split(".", 1)[0], []).append(key)
    figure, axes = _figure(len(by_feature), width=4.2, height=3.2)
    steps = [b["step"] for b in batches]
    for ax, (feature, keys) in zip(axes, by_feature.items(), strict=True):
        drawn = False
        for key in keys:
            label = key.removeprefix(f"{prefix}{feature}.")
            (line,) = ax.plot(steps, _series(batches, key), marker="o", label=label)
            if reference_prefix:
                reference = _series(batches, reference_prefix + key.removeprefix(prefix))[-1]
                if not math.isnan(reference):  # the latest batch recorded it
                    ax.axhline(reference, linestyle="--", linewidth=0.8, color=line.get_color())
                    drawn = True
        title = f"by {feature}" if heading else f"{what} by {feature}"
        ax.set_title(title + (" (dashed: training)" if drawn else ""))
        if unit_range:
            ax.set_ylim(0, 1)
        ax.legend(fontsize=7)
        _batch_axis(ax, batches)
    if heading:
        figure.suptitle(what)
    return figure


def _alert_rows(batches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for b in reversed(batches):  # the latest batch first
        records = b["alerts"] or [
            {
                "check": ARTIFACT_FOLDER,
                "verdict": b["tags"].get(f"gate.{ARTIFACT_FOLDER}", "n/a"),
                "alert": b["tags"].get(f"{ARTIFACT_FOLDER}.alert") == "True",
                "reasons": [],
                "warnings": [],
            }
        ]
        rows += [{"batch": b["batch"], "step": b["step"], **r} for r in records]
    return rows


def alerts_table(batches: list[dict[str, Any]]) -> str:
    """The alerts as an HTML table: batch, check, verdict, alert, reasons and warnings."""
    body = []
    for row in _alert_rows(batches):
        notes = [f"<li>{escape(r)}</li>" for r in row["reasons"]]
        notes += [f"<li class='warn'>{escape(w)}</li>" for w in row["warnings"]]
        body.append(
            f"<tr class='{escape(row['verdict'])}'><td>{escape(str(row['batch']))}</td>"
            f"<td>{row['step']}</td><td>{escape(row['check'])}</td>"
            f"<td class='verdict'>{escape(row['verdict'])}</td>"
            f"<td>{'ALERT' if row['alert'] else 'no'}</td>"
            f"<td><ul>{''.join(notes) or '<li>none</li>'}</ul></td></tr>"
        )
    head = "".join(
        f"<th>{h}</th>" for h in ("batch", "step", "check", "verdict", "alert", "reasons")
    )
    return f"<table class='alerts'><tr>{head}</tr>{''.join(body)}</table>"


STYLE = (
    "body{font-family:sans-serif;margin:1.5em;max-width:1200px}"
    "svg{max-width:100%;height:auto;display:block}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
    "vertical-align:top;text-align:left}ul{margin:0;padding-left:1.2em}"
    ".fail .verdict{color:#b00;font-weight:bold}.warn .verdict,li.warn{color:#b60}"
    ".pass .verdict{color:#070}p.empty{color:#666;font-style:italic}"
)


def build_dashboard(
    history: list[dict[str, Any]],
    plan: dict[str, Any],
    dataset: dict[str, Any],
    recorded: Any = None,
) -> str:
    """The dashboard page of every batch in ``history`` (as :func:`read_history` reads it).

    ``plan`` gives ``thresholds`` (the reference lines) and ``dashboard_top_features``;
    ``dataset`` (the ``dataset`` section) the problem type, whose figures of the predictions,
    per-group sections and performance metrics the page shows (``problem.prediction_panel``,
    ``problem.group_panels``); ``recorded`` (e.g. the run just recorded) only makes the node run
    after it.
    """
    del recorded
    problem = problem_of(dataset)
    batches = latest_per_step(history)
    thresholds = plan["thresholds"]
    sections = []
    if not batches:
        sections.append(("Batches", "<p class='empty'>No batch has been monitored yet.</p>"))
    else:
        sections.append(
            (
                "Prediction drift",
                _svg(prediction_figure(batches, thresholds, problem.prediction_panel())),
            )
        )
        top = int(plan["dashboard_top_features"])
        drifted = _keys(batches, "psi.")
        sections.append(
            (
                "Most drifted inputs",
                _svg(feature_figure(batches, thresholds, top))
                if drifted
                else "<p class='empty'>No input drift recorded.</p>",
            )
        )
        sections.append(
            (
                "Performance decay",
                _svg(performance_figure(batches, thresholds, problem))
                if _keys(batches, "performance.")
                else f"<p class='empty'>{NO_LABELS.format(what='performance decay')}</p>",
            )
        )
        for panel in problem.group_panels():
            prefix, what = panel["prefix"], panel["what"]
            empty = (
                f"<p class='empty'>{NO_LABELS.format(what=f'the {what} by group')}</p>"
                if panel["labels"]
                else "<p class='empty'>No group recorded.</p>"
            )
            figure = (
                group_figure(
                    batches,
                    prefix,
                    what,
                    f"reference_{prefix}" if panel["reference"] else None,
                    unit_range=panel["unit_range"],
                    heading=panel.get("heading", False),
                )
                if _keys(batches, prefix)
                else None
            )
            sections.append(
                (
                    f"{what[:1].upper()}{what[1:]} by group",
                    _svg(figure) if figure is not None else empty,
                )
            )
    sections.append(("Alerts (latest batch first)", alerts_table(batches)))
    latest = batches[-1] if batches else None
    summary = (
        f"{len(batches)} batch(es) monitored; latest: {escape(str(latest['batch']))} "
        f"(step {latest['step']})."
        if latest
        else ""
    )
    body = "".join(
        f"<section><h2>{escape(title)}</h2>{content}</section>" for title, content in sections
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Monitoring dashboard</title>"
        f"<style>{STYLE}</style></head><body><h1>Monitoring dashboard</h1>"
        f"<p class='summary'>{summary} x axis: batch (step = batch number).</p>{body}</body></html>"
    )
