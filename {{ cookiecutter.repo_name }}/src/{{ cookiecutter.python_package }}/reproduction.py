"""``kedro reproduce RUN``: recreate a past run where it was made, not with today's code.

A git worktree of the run's commit, in a temporary folder; the commit's locked environment in
the worktree's own venv (``uv sync --frozen``); the run's raw data versions copied from the data
store (``.dvc/cache``, data_versions.py; a version missing there is first pulled from the data
store's remote, if one is configured) into the worktree; the run's parameters; then the
default pipeline, recorded in the same tracking store and tagged ``reproduction_of``. The
current checkout, its data and its venv are not touched, and the worktree is removed at the end,
whatever happens.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import click

from . import data_versions
from .errors import ProjectError

STEPS = 5
IN_PLACE = "kedro reproduce {run_id} --in-place re-runs it with today's code, data and environment"

# Run in the worktree by the worktree's own Python: the commit's code and libraries.
RUN_SCRIPT = """
import sys
from pathlib import Path

import mlflow
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.runner import SequentialRunner

parameters = yaml.safe_load(Path(sys.argv[1]).read_text()) or {}
bootstrap_project(Path.cwd())
with KedroSession.create(env=sys.argv[2] or None, runtime_params=parameters) as session:
    session.run(runner=SequentialRunner())
run = mlflow.last_active_run()
Path(sys.argv[3]).write_text(run.info.run_id if run else "")
"""


def _step(number: int, text: str) -> None:
    click.secho(f"[{number}/{STEPS}] {text}", bold=True)


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def raw_versions(run: Any) -> dict[str, tuple[str, str]]:
    """``{catalog entry: (data version, path)}`` of the raw files the run read."""
    tags = run.data.tags
    return {
        key.removeprefix("data.").removesuffix(".version"): (
            value,
            tags.get(key.removesuffix(".version") + ".path", ""),
        )
        for key, value in sorted(tags.items())
        if key.startswith("data.") and key.endswith(".version")
    }


def _pull_or_refuse(
    project: Path, remote: data_versions.Remote, entry: str, version: str, path: str
) -> None:
    """Pull a data version the local store lacks from the remote; refuse in one line if not."""
    try:
        pulled = data_versions.pull(project, remote, version)
    except ProjectError:
        raise
    except Exception as error:  # unreachable, refused credentials, ...
        raise ProjectError(
            f"data version {version} of catalog entry '{entry}' is not in the data store "
            f".dvc/cache, and its remote {remote.url} could not be read "
            f"({type(error).__name__}: {_last_line(str(error))}): check the remote and "
            "its credentials (conf/local/credentials.yml)"
        ) from error
    if not pulled:
        raise ProjectError(
            f"data version {version} of catalog entry '{entry}' ({path}) is neither in the "
            f"data store .dvc/cache nor on its remote {remote.url}: put the file back and "
            "run once (the run keeps it and pushes it), here or in a clone whose store has it"
        )
    click.echo(f"      {entry}: data version {version} pulled from {remote.url}")


def check_reproducible(
    run: Any, project: Path, allow_dirty: bool, remote: data_versions.Remote | None = None
) -> tuple[str, Path]:
    """The run's commit and the repository's top folder; refuse, in one line, what cannot be.

    A raw data version missing from the local store is pulled from ``remote`` first.
    """
    run_id, tags = run.info.run_id, run.data.tags
    commit = tags.get("mlflow.source.git.commit")
    if not commit:
        raise ProjectError(
            f"run {run_id} was not made in a git repository, so its code cannot be recreated: "
            + IN_PLACE.format(run_id=run_id)
        )
    if tags.get("git.dirty") == "true":
        if not allow_dirty:
            raise ProjectError(
                f"run {run_id} was made from uncommitted changes to commit {commit[:7]}, which "
                "no commit holds: --allow-dirty reproduces the commit without them"
            )
        click.secho(
            f"Warning: run {run_id} was made from uncommitted changes; the reproduction runs "
            f"commit {commit[:7]} without them and cannot vouch for those changes.",
            fg="yellow",
        )
    top = _git(project, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise ProjectError(
            f"{project} is not a git repository, so commit {commit[:7]} cannot be checked out: "
            + IN_PLACE.format(run_id=run_id)
        )
    if _git(project, "cat-file", "-e", commit + "^{commit}").returncode != 0:
        raise ProjectError(
            f"commit {commit} of run {run_id} is not in this repository: fetch it "
            "(git fetch <remote>) from the clone it was made in"
        )
    versions = raw_versions(run)
    if not versions:
        raise ProjectError(
            f"run {run_id} recorded no raw data versions (it predates data versioning): "
            + IN_PLACE.format(run_id=run_id)
        )
    for entry, (version, path) in versions.items():
        if version == data_versions.NOT_A_FILE:
            continue
        if Path(path).is_absolute():
            raise ProjectError(
                f"catalog entry '{entry}' of run {run_id} read {path}, outside the project, "
                "where a reproduction cannot restore it: " + IN_PLACE.format(run_id=run_id)
            )
        if data_versions.stored_path(project, version).is_file():
            continue
        if remote is not None:
            _pull_or_refuse(project, remote, entry, version, path)
            continue
        raise ProjectError(
            f"data version {version} of catalog entry '{entry}' ({path}) is not in the data "
            "store .dvc/cache: get it with `uvx dvc pull` (or `uvx dvc fetch`) from the "
            "team's remote, or name the remote in conf/base/data_store.yml, or put the file "
            "back and run once"
        )
    return commit, Path(top.stdout.strip())


def _clean_environment() -> dict[str, str]:
    """This process's environment without what points at this checkout's code or venv.

    Kedro puts this checkout's ``src`` on ``PYTHONPATH`` when it starts a project: left there,
    the worktree's Python would import today's code instead of the commit's.
    """
    skip = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "PYTHONHOME")
    return {key: value for key, value in os.environ.items() if key not in skip}


def _install(checkout: Path, commit: str, python: str | None) -> None:
    """``uv sync --frozen`` from the commit's uv.lock into the worktree's own venv, on the
    run's Python version (tag ``environment.python``)."""
    uv = shutil.which("uv")
    if uv is None:
        raise ProjectError("uv is not on PATH: install it (https://docs.astral.sh/uv/)")
    if not (checkout / "uv.lock").is_file():
        raise ProjectError(f"commit {commit[:7]} has no uv.lock: its environment is not locked")
    env = _clean_environment()
    command = [
        uv,
        "sync",
        "--frozen",
        "--no-dev",
        "--quiet",
        *(["--python", python] if python else []),
    ]
    done = subprocess.run(
        [*command, "--offline"], check=False, cwd=checkout, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:  # not all in uv's cache: download what is missing
        done = subprocess.run(
            command, check=False, cwd=checkout, env=env, capture_output=True, text=True
        )
    if done.returncode != 0:
        raise ProjectError(
            f"the uv.lock of commit {commit[:7]} could not be installed "
            f"({_last_line(done.stderr)}): check the network, or run `uv sync --frozen` at that "
            "commit where uv can download"
        )


def reproduce_in_worktree(
    run: Any,
    project: Path,
    tracking_uri: str,
    env: str | None,
    allow_dirty: bool,
    *,
    remote: data_versions.Remote | None = None,
) -> str:
    """Recreate ``run`` in a worktree of its commit; return the reproduction's run id."""
    import mlflow

    run_id = run.info.run_id
    commit, top = check_reproducible(run, project, allow_dirty, remote)
    versions = raw_versions(run)
    _step(1, f"Run {run_id}: commit {commit[:7]}, {len(versions)} raw data version(s)")
    scratch = Path(tempfile.mkdtemp(prefix="reproduce-"))
    worktree = scratch / "checkout"
    try:
        _step(2, f"Checking out commit {commit[:7]} in a worktree of its own ({worktree})")
        added = _git(top, "worktree", "add", "--detach", str(worktree), commit)
        if added.returncode != 0:
            raise ProjectError(f"git worktree add failed: {_last_line(added.stderr)}")
        checkout = worktree / project.resolve().relative_to(top.resolve())

        _step(3, "Installing the commit's locked environment (uv sync --frozen)")
        _install(checkout, commit, run.data.tags.get("environment.python"))

        _step(4, f"Restoring {len(versions)} raw data version(s) from the data store")
        for entry, (version, path) in versions.items():
            if version == data_versions.NOT_A_FILE:
                click.echo(f"      {entry}: not a local file, read as it is today")
                continue
            target = checkout / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(data_versions.stored_path(project, version), target)
            click.echo(f"      {entry}: {path} at data version {version}")

        _step(5, "Running the default pipeline with the run's parameters")
        parameters = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="run/parameters.yml", dst_path=str(scratch)
        )
        script, answer = scratch / "run.py", scratch / "run_id.txt"
        script.write_text(RUN_SCRIPT)
        run_env = {**_clean_environment(), "MLFLOW_TRACKING_URI": tracking_uri}
        python = checkout / ".venv" / "bin" / "python"
        done = subprocess.run(
            [str(python), str(script), parameters, env or "", str(answer)],
            check=False,
            cwd=checkout,
            env=run_env,
        )
        new_id = answer.read_text().strip() if answer.is_file() else ""
        if done.returncode != 0 or not new_id:
            raise ProjectError(
                f"the reproduction of run {run_id} failed at commit {commit[:7]} (see above)"
            )
        client = mlflow.MlflowClient()
        client.set_tag(new_id, "reproduction_of", run_id)
        client.set_tag(new_id, "reproduction_of.commit", commit)
        return new_id
    finally:
        _git(top, "worktree", "remove", "--force", str(worktree))
        shutil.rmtree(scratch, ignore_errors=True)
        _git(top, "worktree", "prune")
