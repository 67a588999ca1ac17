"""Shared fixtures: render the template; install and run the default project once per session."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from project import QUIET_ENV, TEMPLATE_DIR, install, kedro, render, run

os.environ.update(QUIET_ENV)


@pytest.fixture(scope="session")
def template_dir() -> Path:
    return TEMPLATE_DIR


@pytest.fixture
def render_project(tmp_path: Path):
    """Render the template with the given answers into a fresh folder."""

    def _render(**context: object) -> Path:
        return render(tmp_path / "out", **context)

    return _render


class InstalledProject:
    """A rendered, installed project that has run ``kedro run`` once, with timings."""

    def __init__(self, root: Path, timings: dict[str, float], run_output: str) -> None:
        self.root = root
        self.timings = timings
        self.run_output = run_output
        self.package = "loan_default_risk"

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.root / 'mlflow.db'}"


@pytest.fixture(scope="session")
def default_project(tmp_path_factory: pytest.TempPathFactory) -> InstalledProject:
    """The default render, installed with ``uv sync`` and run once with ``kedro run``."""
    out = tmp_path_factory.mktemp("default")
    start = time.perf_counter()
    root = render(out)
    timings = {"render_s": time.perf_counter() - start, "install_s": install(root)}
    start = time.perf_counter()
    done = kedro(root, "run")
    timings["run_s"] = time.perf_counter() - start
    print(f"\ndefault project timings: {timings}")
    return InstalledProject(root, timings, done.stdout + done.stderr)


@pytest.fixture(scope="session")
def spark_project(default_project: InstalledProject) -> InstalledProject:
    """The default project with its ``spark`` extra installed (``uv sync --extra spark``).

    The same project and venv as ``default_project``: Spark tests run in copies of it
    (``copy_of_default``), so the pandas outputs other tests read stay as they are.
    """
    from project import uv

    start = time.perf_counter()
    run(default_project.root, *uv(), "sync", "--extra", "spark", "--python", sys.executable, "--quiet")
    default_project.timings["spark_install_s"] = time.perf_counter() - start
    return default_project


def copy_of_default(default_project: InstalledProject, folder: Path):
    """A copy of the default project's files (not its venv or outputs) in ``folder``.

    Returns the copy and ``kedro_in_copy(*args)``, which runs the installed project's ``kedro``
    in the copy, recording into the copy's own MLflow store. The code is the installed one.
    """
    import shutil

    copy = folder / default_project.root.name
    shutil.copytree(
        default_project.root,
        copy,
        ignore=shutil.ignore_patterns(".venv", "mlflow.db", "mlartifacts", "*.parquet", "run.log*"),
    )

    def kedro_in_copy(*args: str, check: bool = False, **env: str):
        from project import run

        env.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{copy / 'mlflow.db'}")
        return run(copy, str(default_project.root / ".venv/bin/kedro"), *args, check=check, **env)

    return copy, kedro_in_copy


@pytest.fixture
def default_copy(default_project: InstalledProject, tmp_path: Path):
    """A copy of the default project to change freely (see ``copy_of_default``)."""
    return copy_of_default(default_project, tmp_path)
