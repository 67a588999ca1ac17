"""Where MLflow records runs. Cheap to import: MLflow itself is imported only to create a store."""

import os
from pathlib import Path
from typing import Any

from .errors import ConfigError

SQLITE_PREFIX = "sqlite:///"
# The project's experiment is one of model development: MLflow's UI then opens it on its
# training runs, not on the GenAI overview (traces, token usage) it shows an experiment of no kind.
EXPERIMENT_TAGS = {"mlflow.experimentKind": "custom_model_development"}
ARTIFACTS_FOLDER = "mlartifacts"


def project_root() -> Path:
    """The project folder (with pyproject.toml), or the working directory if installed elsewhere."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() else Path.cwd()


def resolve_project_path(relative: str) -> str:
    """``${project_path:data/01_raw/x.db}``: the absolute path of a file of the project.

    For engines whose workers do not share the driver's working directory (Spark executors).
    """
    return (project_root() / relative).as_posix()


def resolve_tracking_uri(default: str, experiment: str | None = None) -> str:
    """``MLFLOW_TRACKING_URI`` if set, else ``default``; relative SQLite paths become absolute.

    Given the experiment name, a local SQLite store that does not exist yet is created with the
    experiment under a file lock, so two runs started at once do not race to create them.
    """
    uri = os.environ.get("MLFLOW_TRACKING_URI") or default
    if uri.startswith(SQLITE_PREFIX):
        path = Path(uri.removeprefix(SQLITE_PREFIX))
        if not path.is_absolute():
            uri = SQLITE_PREFIX + (project_root() / path).as_posix()
        if experiment:
            create_local_store(uri, experiment)
    return uri


def resolve_artifact_location(default_tracking_uri: str, folder: str) -> str | None:
    """``<project root>/<folder>`` beside a local store; a server chooses its own."""
    if resolve_tracking_uri(default_tracking_uri).startswith(SQLITE_PREFIX):
        return (project_root() / folder).as_uri()
    return None


def create_local_store(uri: str, experiment: str) -> None:
    """Create the SQLite store and the experiment once, even when several runs start together."""
    database = Path(uri.removeprefix(SQLITE_PREFIX))
    if database.exists():
        return
    try:
        import fcntl
    except ImportError:
        fcntl = None
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(database.name + ".lock"), "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=uri)
        if client.get_experiment_by_name(experiment) is None:
            location = (project_root() / ARTIFACTS_FOLDER).as_uri()
            client.create_experiment(experiment, artifact_location=location, tags=EXPERIMENT_TAGS)


def ensure_experiment_tags(client: Any, experiment_id: str) -> None:
    """Tag the experiment with ``EXPERIMENT_TAGS`` where it lacks them (created elsewhere)."""
    tags = client.get_experiment(experiment_id).tags
    for key, value in EXPERIMENT_TAGS.items():
        if tags.get(key) != value:
            client.set_experiment_tag(experiment_id, key, value)


def resolve_required_env(name: str) -> str:
    """The value of environment variable ``name``; refuse to go on without it."""
    value = os.environ.get(name)
    if not value:
        raise ConfigError(
            f"Set the environment variable {name} (e.g. http://mlflow.internal:5000)."
        )
    return value


# What a run is called and what its description says (the MLflow UI's run name and run page).
# The held-out metrics a run's summary quotes, of whichever problem type the run had (a binary
# run has the first four, a regression rmse, mae and r2, a multiclass one log loss and the last).
HEADLINE_METRICS = (
    "test.roc_auc",
    "test.average_precision",
    "test.log_loss",
    "test.brier",
    "test.rmse",
    "test.mae",
    "test.r2",
    "test.balanced_accuracy",
    "test.f1_macro",
    "test.roc_auc_ovr",
)
GATE_REPORTS = {
    "validation": "validation/summary.json",
    "benchmark": "benchmark/comparison.json",
    "fairness": "fairness/fairness_report.json",
}


def run_name(pipelines: list[str] | None, env: str | None, git: dict[str, str]) -> str:
    """``<pipeline> · <env> · <short commit>``, e.g. ``__default__ · local · 1a2b3c4``."""
    commit = git.get("mlflow.source.git.commit", "")
    short = (
        commit[:7] + ("-dirty" if git.get("git.dirty") == "true" else "") if commit else "no-git"
    )
    return f"{'+'.join(pipelines or ['__default__'])} · {env or 'local'} · {short}"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def gate_reasons(gate: str, report: dict | None) -> str:
    """Why a gate gave its verdict, in a sentence, from its report (the run's artifact)."""
    if not report:
        return f"see {GATE_REPORTS.get(gate, 'the run artifacts')}"
    reasons = list(report.get("gate_reasons") or report.get("reasons") or [])
    if gate == "validation" and "rows_quarantined" in report:
        share, limit = report.get("quarantined_share"), report.get("max_quarantined_share")
        quarantined = (
            f"{report['rows_quarantined']} of {report.get('rows_in', '?')} rows quarantined"
        )
        if share is not None and limit is not None:
            quarantined += f" ({share:.1%}; at most {limit:.1%} allowed)"
        reasons.append(quarantined)
    if gate == "benchmark" and not reasons and report.get("improvement"):
        gain = {
            k: report["improvement"].get(k, float("nan")) for k in ("mean", "ci_low", "ci_high")
        }
        reasons.append(
            f"{report.get('candidate', 'candidate')} beats {report.get('best_baseline', '?')} on "
            f"{report.get('primary_metric', '?')} by {gain['mean']:+.3f} (95% CI "
            f"{gain['ci_low']:.3f} to {gain['ci_high']:.3f}; at least "
            f"{report.get('min_improvement', '?')} required)"
        )
    return "; ".join(_cell(r) for r in reasons) or "no reason recorded"


def run_description(
    name: str,
    tags: dict[str, str],
    metrics: dict[str, float],
    reports: dict[str, dict | None],
    artifacts: set[str],
) -> str:
    """The run's Markdown summary: gates and reasons, metrics, quarantine, model card, promotion."""
    lines = [f"**{name}**", "", "| gate | verdict | why |", "|---|---|---|"]
    order = [*GATE_REPORTS, *sorted(k.removeprefix("gate.") for k in tags if k.startswith("gate."))]
    gates = [gate for gate in dict.fromkeys(order) if f"gate.{gate}" in tags]
    for gate in gates:
        why = gate_reasons(gate, reports.get(gate))
        lines.append(f"| {gate} | **{tags[f'gate.{gate}']}** | {why} |")
    if not gates:
        lines.append("| (none) | | no gate ran in this run |")
    headline = [f"`{k}` {metrics[k]:.4g}" for k in HEADLINE_METRICS if k in metrics]
    lines += ["", f"- **Held-out metrics:** {' · '.join(headline) if headline else 'none logged'}"]
    if "validation.rows_quarantined" in metrics:
        lines.append(
            f"- **Quarantined rows:** {metrics['validation.rows_quarantined']:.0f} of "
            f"{metrics.get('validation.rows_in', float('nan')):.0f} "
            "(reasons in `validation/summary.json`; "
            "rows in `data/03_primary/quarantined_rows.parquet`)"
        )
    lines.append(
        "- **Model card:** `model_card.md` in this run's artifacts "
        "(and `data/08_reporting/model_card.md`)"
        if "model_card.md" in artifacts
        else "- **Model card:** not written in this run"
    )
    status = tags.get("promotion.status")
    lines.append(
        f"- **Promotion:** {status} ({_cell(tags.get('promotion.reason', ''))})"
        if status
        else "- **Promotion:** not decided in this run"
    )
    return "\n".join(lines) + "\n"


def describe_run(run_id: str, name: str) -> str:
    """Write ``mlflow.note.content`` (the run page's description) from the run's own records."""
    import mlflow

    client = mlflow.MlflowClient()
    run = client.get_run(run_id)
    top = {a.path for a in client.list_artifacts(run_id)}
    reports: dict[str, dict | None] = {}
    for gate, path in GATE_REPORTS.items():
        reports[gate] = None
        if f"gate.{gate}" in run.data.tags and path.split("/")[0] in top:
            try:
                reports[gate] = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/{path}")
            except Exception:  # a missing report leaves a pointer, not a failed run
                reports[gate] = None
    text = run_description(name, run.data.tags, run.data.metrics, reports, top)
    client.set_tag(run_id, "mlflow.note.content", text)
    return text
