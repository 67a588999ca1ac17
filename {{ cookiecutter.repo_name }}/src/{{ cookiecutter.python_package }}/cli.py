"""Project commands: Kedro's ``kedro run`` with short messages for expected failures and a
``--verbose/-v`` option; ``kedro reproduce RUN_ID``, which recreates a past run from its own
commit, environment and data (reproduction.py) and compares its metrics; ``kedro approve`` and
``kedro rollback``, which move the champion alias (approval.py).

Imported by every ``kedro`` command of the project (``kedro --help`` too): keep its top-level
imports to click and Kedro, and import anything heavier inside the function that needs it.
"""

import math
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run

from . import console
from .draft_config import draft_config
from .errors import ProjectError

# Metrics that measure the machine, not the model: not compared by `kedro reproduce`.
UNREPRODUCIBLE_METRIC_WORDS = ("time", "seconds")


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and the exceptions behind it (their causes, or what they were raised during)."""
    seen: BaseException | None = error
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def _unreachable_tracking_server(error: BaseException) -> str | None:
    """The tracking URI, if ``error`` comes from an MLflow server that could not be reached."""
    words = ("ConnectionError", "Max retries", "Connection refused")
    if any(word in f"{type(e).__name__}: {e}" for e in _chain(error) for word in words):
        return os.environ.get("MLFLOW_TRACKING_URI") or "the configured tracking URI"
    return None


def _yaml_error(error: BaseException) -> str | None:
    """``<file>, line L, column C: <problem>`` for a YAML syntax error in ``conf/``."""
    import yaml

    found = [e for e in _chain(error) if isinstance(e, yaml.YAMLError)]
    if not found:
        return None
    text = " ".join(str(e) for e in found)
    path = re.search(r"file (\S+?),? unable to read", text)
    marked = next((e for e in found if getattr(e, "problem_mark", None) is not None), None)
    where = path.group(1) if path else "a file in conf/"
    if path and Path(where).is_relative_to(Path.cwd()):
        where = str(Path(where).relative_to(Path.cwd()))
    if marked is None:
        return f"{where}: {found[-1]}"
    mark = marked.problem_mark
    return f"{where}, line {mark.line + 1}, column {mark.column + 1}: {marked.problem}"


def _unknown_pipeline(error: BaseException) -> str | None:
    """What to say if ``error`` comes from a pipeline name that no pipeline module has."""
    import importlib.util
    import pkgutil

    from . import pipelines

    found = re.search(r"importing the '([\w.]+\.pipelines\.(\w+))' module", str(error))
    if found is None or importlib.util.find_spec(found.group(1)) is not None:
        return None
    folders = sorted(m.name for m in pkgutil.iter_modules(pipelines.__path__) if m.ispkg)
    registered = ", ".join(["__default__", *folders])
    return f"no pipeline is named {found.group(2)!r}; registered: {registered}"


def _dangling_reference(error: BaseException) -> str | None:
    """What to say if a ``${...}`` in ``conf/`` refers to a key that no file defines."""
    from omegaconf.errors import InterpolationKeyError

    found = next((e for e in _chain(error) if isinstance(e, InterpolationKeyError)), None)
    if found is None:
        return None
    key = getattr(found, "full_key", None) or "a key"
    target = re.search(r"Interpolation key '([^']+)' not found", str(found))
    refers = "${" + target.group(1) + "}" if target else "an interpolation"
    return (
        f"{key} refers to {refers}, which no file in conf/ defines: fix the reference or the "
        "key it names (a renamed or misspelt key?)"
    )


def _project_error(error: BaseException) -> ProjectError | None:
    """The ProjectError behind ``error``, also when a library wrapped it (e.g. a resolver)."""
    return next((e for e in _chain(error) if isinstance(e, ProjectError)), None)


def _file_store_uri() -> str | None:
    """``MLFLOW_TRACKING_URI`` if it names a file store (a plain path or a ``file:`` URI)."""
    from urllib.parse import urlparse

    uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if not uri or uri.lower() == "databricks":  # the one tracking URI without a scheme
        return None
    scheme = urlparse(uri).scheme.lower()
    # No scheme, file:, or a Windows drive letter (C:\mlruns): MLflow would use a file store.
    return uri if scheme in ("", "file") or len(scheme) == 1 else None


def _refuse_file_store() -> None:
    """Stop, in one line, before the session starts, if MLFLOW_TRACKING_URI is a file store."""
    uri = _file_store_uri()
    if uri is None:
        return
    click.secho(
        f"Run stopped: MLFLOW_TRACKING_URI={uri} is a file store, which MLflow 3 no longer "
        "supports for tracking; set it to a database or a server, e.g. "
        "MLFLOW_TRACKING_URI=sqlite:///mlflow.db, or unset it to use the project's own store.",
        fg="red",
        err=True,
    )
    sys.exit(1)


def _run_with_clear_errors(verbose: bool = False, **kwargs: Any) -> Any:
    _refuse_file_store()
    if verbose:
        console.set_verbose()
    try:
        return kedro_run.callback(**kwargs)
    except Exception as error:
        known = _project_error(error)
        if known is not None:
            click.secho(f"\nRun stopped: {known}", fg="red", err=True)
            sys.exit(1)
        syntax = _yaml_error(error)
        if syntax is not None:
            click.secho(f"\nRun stopped: YAML syntax error in {syntax}", fg="red", err=True)
            sys.exit(1)
        dangling = _dangling_reference(error)
        if dangling is not None:
            click.secho(f"\nRun stopped: {dangling}.", fg="red", err=True)
            sys.exit(1)
        unknown = _unknown_pipeline(error)
        if unknown is not None:
            click.secho(f"\nRun stopped: {unknown} (kedro run --pipelines).", fg="red", err=True)
            sys.exit(1)
        uri = _unreachable_tracking_server(error)
        if uri is None:
            raise
        click.secho(
            f"\nRun stopped: the MLflow tracking server at {uri} could not be reached. "
            "Check MLFLOW_TRACKING_URI (or conf/<env>/mlflow.yml) and that the server is up.",
            fg="red",
            err=True,
        )
        sys.exit(1)


@click.group(name="project")
def cli() -> None:
    """Commands of this project."""


VERBOSE_OPTION = click.Option(
    ["--verbose", "-v"],
    is_flag=True,
    default=False,
    help="Show the libraries' INFO lines and progress bars for this run (MLflow, Great "
    "Expectations, ...), which conf/logging.yml keeps quiet by default.",
)

cli.add_command(
    click.Command(
        name="run",
        params=[*kedro_run.params, VERBOSE_OPTION],
        callback=_run_with_clear_errors,
        help=kedro_run.help,
        short_help=kedro_run.short_help,
    )
)
cli.add_command(draft_config)


@cli.command()
@click.argument("run_id")
@click.option("--env", "-e", default=None, help="Kedro environment (default: local).")
@click.option("--tolerance", default=1e-9, show_default=True, help="Relative metric tolerance.")
@click.option(
    "--in-place",
    is_flag=True,
    default=False,
    help="Re-run here, with today's code, environment and data (a quick check).",
)
@click.option(
    "--allow-dirty",
    is_flag=True,
    default=False,
    help="Reproduce a run made from uncommitted changes from its commit alone.",
)
def reproduce(
    run_id: str, env: str | None, tolerance: float, in_place: bool, allow_dirty: bool
) -> None:
    """Recreate RUN_ID from its own commit, locked environment and raw data; compare metrics.

    In a git worktree of the run's commit (removed at the end), with the commit's uv.lock
    installed in the worktree's own venv, the run's raw data versions restored from the data
    store and the run's parameters; recorded in the same tracking store, tagged
    ``reproduction_of``. ``--in-place`` re-runs in this checkout instead, refusing changed raw
    data and warning about a different commit or environment. Exits 1 when a metric differs
    beyond the tolerance.
    """
    _refuse_file_store()
    try:
        original, reproduced = _reproduce(run_id, env, in_place, allow_dirty)
    except ProjectError as error:
        click.secho(f"Reproduction refused: {error}", fg="red", err=True)
        sys.exit(1)
    differ = _print_comparison(original, reproduced, tolerance)
    if differ:
        click.secho(f"{differ} metric(s) differ beyond the tolerance.", fg="red", err=True)
        sys.exit(1)
    click.secho("Reproduced: every metric matches.", fg="green")


def _finished_run(run_id: str) -> Any:
    """The MLflow run ``run_id``, if it finished with its gates; else refuse."""
    import mlflow

    from . import run_status

    try:
        past = mlflow.get_run(run_id)
    except mlflow.exceptions.MlflowException as error:
        raise ProjectError(f"run {run_id} not found in {mlflow.get_tracking_uri()}") from error
    if not run_status.is_complete(past):
        latest = run_status.latest_complete_run(mlflow.MlflowClient(), past.info.experiment_id)
        missing = [gate for gate in run_status.GATES if gate not in past.data.tags]
        raise ProjectError(
            f"run {run_id} is {past.info.status}"
            + (f" without {', '.join(missing)}" if missing else "")
            + ": only a FINISHED run with its gates can be reproduced"
            + (f" (the latest one is {latest.info.run_id})." if latest else ".")
        )
    return past


def _reproduce(
    run_id: str, env: str | None, in_place: bool, allow_dirty: bool
) -> tuple[dict[str, float], dict[str, float]]:
    import mlflow
    import yaml
    from kedro.framework.project import settings
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project
    from kedro.runner import SequentialRunner

    from . import audit, data_versions
    from .hooks import ProjectHooks
    from .reproduction import reproduce_in_worktree
    from .tracking import project_root

    bootstrap_project(Path.cwd())
    with KedroSession.create(env=env) as session:
        context = session.load_context()
        catalog = context.catalog  # also points MLflow at the tracking store
        past = _finished_run(run_id)
        if not in_place:
            remote = data_versions.configured_remote(context.config_loader, Path.cwd())
            new_id = reproduce_in_worktree(
                past, Path.cwd(), mlflow.get_tracking_uri(), env, allow_dirty, remote=remote
            )
            return past.data.metrics, _finished_reproduction(new_id).data.metrics
        for dataset_input in past.inputs.dataset_inputs:
            name = dataset_input.dataset.name
            tags = {t.key: t.value for t in dataset_input.tags}
            if tags.get("mlflow.data.context") != "raw":
                continue
            if audit.frame_digest(catalog.load(name)) != tags.get("sha256"):
                raise ProjectError(
                    f"the data of catalog entry '{name}' changed since run {run_id} (its content "
                    "digest differs). Restore the data the run used, or reproduce without "
                    "--in-place, which restores it from the data store."
                )
        now = {
            **audit.git_tags(project_root()),
            **audit.environment_tags(audit.environment_lock(project_root())[0]),
        }
        for tag in ("mlflow.source.git.commit", "environment.lock_sha256"):
            if past.data.tags.get(tag) != now.get(tag):
                click.secho(
                    f"Warning: {tag} differs: run {past.data.tags.get(tag)}, now {now.get(tag)}",
                    fg="yellow",
                )
        parameters_file = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="run/parameters.yml"
        )
        parameters = yaml.safe_load(Path(parameters_file).read_text()) or {}

    with KedroSession.create(env=env, runtime_params=parameters) as session:
        session.run(runner=SequentialRunner())
    hooks = next(h for h in settings.HOOKS if isinstance(h, ProjectHooks))
    mlflow.MlflowClient().set_tag(hooks.run_id, "reproduction_of", run_id)
    return past.data.metrics, _finished_reproduction(hooks.run_id).data.metrics


def _finished_reproduction(run_id: str) -> Any:
    import mlflow

    reproduced = mlflow.get_run(run_id)
    if reproduced.info.status != "FINISHED":
        raise ProjectError(f"the reproduction run {run_id} is {reproduced.info.status}.")
    return reproduced


def _print_comparison(original: dict[str, float], new: dict[str, float], tolerance: float) -> int:
    """Print original vs reproduced metrics; return how many differ beyond the tolerance."""
    differ = 0
    click.echo(f"{'metric':<55} {'original':>14} {'reproduced':>14}")
    for name in sorted(set(original) | set(new)):
        if any(word in name for word in UNREPRODUCIBLE_METRIC_WORDS):
            continue
        old, now = original.get(name, math.nan), new.get(name, math.nan)
        same = math.isclose(old, now, rel_tol=tolerance, abs_tol=tolerance) or (
            math.isnan(old) and math.isnan(now)
        )
        differ += not same
        click.echo(f"{name:<55} {old:>14.6g} {now:>14.6g}{'' if same else '  DIFFERS'}")
    return differ


def _release_plan(env: str | None) -> tuple[dict[str, Any], str | None]:
    """The checked release plan of the project's configuration, and the team server's URI (None:
    a local store); points MLflow at the store."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from .pipelines.release.plan import check_release_config
    from .team import tracking_server

    bootstrap_project(Path.cwd())
    with KedroSession.create(env=env) as session:
        context = session.load_context()  # also points MLflow at the tracking store
        params, server = context.params, tracking_server(context)
    return check_release_config(params["promotion"], params["ethics_checklist"]), server


def _move_champion(action: str, env: str | None, **kwargs: Any) -> None:
    """Run ``approval.approve`` or ``approval.rollback``; a refusal is one line and exit 1."""
    import mlflow

    from . import approval
    from .team import check_may_manage_model

    _refuse_file_store()
    try:
        plan, server = _release_plan(env)
        if server:  # a team server: moving the champion asks for MANAGE on the model
            check_may_manage_model(server, plan["registered_model_name"], action)
        client = mlflow.MlflowClient()
        version = getattr(approval, action)(client, plan, **kwargs)
    except ProjectError as error:
        click.secho(f"{action.capitalize()} refused: {error}.", fg="red", err=True)
        sys.exit(1)
    click.secho(
        f"{plan['champion']['alias']} of {plan['registered_model_name']} is now version "
        f"{version.version} (run {version.run_id}), {action} by {kwargs['by']}.",
        fg="green",
    )


BY_OPTION = click.option("--by", required=True, help="Who decides (a name).")
NOTE_OPTION = click.option("--note", required=True, help="Why: recorded with the decision.")
ENV_OPTION = click.option("--env", "-e", default=None, help="Kedro environment (default: local).")


@cli.command()
@click.argument("model_version")
@BY_OPTION
@NOTE_OPTION
@ENV_OPTION
def approve(model_version: str, by: str, note: str, env: str | None) -> None:
    """Move the champion alias to MODEL_VERSION of the registered model.

    Only when the version's run passed its gates (those promotion required, and gate.champion)
    and no ethics item of high risk is open; otherwise one line says what is missing. Recorded
    as tags approval.* (by, at, note, run_id, previous) on the version.
    """
    _move_champion("approve", env, version=model_version, by=by, note=note)


@cli.command()
@BY_OPTION
@NOTE_OPTION
@ENV_OPTION
def rollback(by: str, note: str, env: str | None) -> None:
    """Move the champion alias back to the version approved before the current champion.

    Recorded as tags approval.* (action rollback, by, at, note, run_id, rolled_back_from) on
    that version.
    """
    _move_champion("rollback", env, by=by, note=note)
