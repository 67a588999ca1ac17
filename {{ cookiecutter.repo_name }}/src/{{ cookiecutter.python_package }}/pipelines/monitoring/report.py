"""What people read of a monitoring run: the drift plot, the HTML report, the MLflow run."""

from typing import Any

from .assessment import statistic_of


def plot_drift(assessment: dict[str, Any]) -> Any:
    """PSI per feature (with the thresholds) and the prediction PSI, as one figure."""
    from matplotlib.figure import Figure

    rows = sorted(assessment["features"], key=lambda r: r["psi"])
    levels = assessment["thresholds"]["feature_psi"]
    colours = {"pass": "tab:green", "warn": "tab:orange", "fail": "tab:red"}
    figure = Figure(figsize=(7, 0.3 * len(rows) + 2), layout="constrained")
    ax = figure.subplots()
    ax.barh(
        [r["feature"] for r in rows],
        [r["psi"] for r in rows],
        color=[colours[r["verdict"]] for r in rows],
    )
    for name, value in levels.items():
        ax.axvline(value, linestyle="--", color="grey")
        ax.text(value, len(rows) - 0.5, f" {name}", color="grey", va="top")
    ax.set_xlabel("population stability index vs training set")
    ax.set_title(
        f"Batch {assessment['batch']!r}: {assessment['rows_batch']} rows; prediction PSI "
        f"{assessment['prediction']['psi']:.3f}"
    )
    return figure


def render_report(assessment: dict[str, Any], alert: dict[str, Any]) -> str:
    """A self-contained HTML drift report."""
    from html import escape

    def table(rows: list[dict[str, Any]]) -> str:
        if not rows:
            return "<p>none</p>"
        head = "".join(f"<th>{escape(str(k))}</th>" for k in rows[0])
        body = "".join(
            "<tr>"
            + "".join(
                f"<td>{v:.4g}</td>" if isinstance(v, float) else f"<td>{escape(str(v))}</td>"
                for v in row.values()
            )
            + "</tr>"
            for row in rows
        )
        return f"<table><tr>{head}</tr>{body}</table>"

    items = "".join(f"<li>{escape(r)}</li>" for r in alert["reasons"] + alert["warnings"])
    groups = assessment["fairness"]["groups"]
    compared = statistic_of(groups[0]).replace("_", " ") if groups else "predictions"
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Monitoring report</title>"
        "<style>td,th{border:1px solid #ccc;padding:2px 6px}table{border-collapse:collapse}"
        "</style></head><body>"
        f"<h1>Batch {escape(assessment['batch'])}: {escape(alert['verdict'])}"
        f"{' (ALERT)' if alert['alert'] else ''}</h1>"
        f"<p>Model {escape(assessment['model_uri'])} ({escape(assessment['model_source'])}); "
        f"{assessment['rows_batch']} batch rows vs {assessment['rows_reference']} reference "
        f"rows.</p><ul>{items}</ul>"
        f"<h2>Feature drift</h2>{table(assessment['features'])}"
        f"<h2>Prediction drift</h2>{table([assessment['prediction']])}"
        f"<h2>Performance</h2>{table(assessment['performance']['metrics'])}"
        f"<h2>Fairness ({escape(compared)} by group)</h2>{table(groups)}"
        "</body></html>"
    )


def publish_monitoring_run(
    assessment: dict[str, Any], alert: dict[str, Any], record: dict[str, Any], plan: dict[str, Any]
) -> tuple[dict[str, Any], Any, str]:
    """The monitoring experiment's run (metrics, tags, report files), the plot and the HTML."""
    figure = plot_drift(assessment)
    html = render_report(assessment, alert)
    run = {
        "step": plan["batch_number"],
        "metrics": record["metrics"],
        "tags": {k: str(v) for k, v in record["tags"].items()}
        | {"monitoring.batch": assessment["batch"], "monitoring.model_uri": alert["model_uri"]},
        "params": {"batch": assessment["batch"], "model_source": assessment["model_source"]},
        "json": {"drift_report.json": assessment, "alert.json": alert},
        "text": {"drift_report.html": html},
        "figures": {"drift_report.png": figure},
    }
    return run, figure, html
