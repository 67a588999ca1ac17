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


class SparkCluster:
    """A standalone Spark cluster on 127.0.0.1: a master and its workers, by process id."""

    def __init__(self, url: str, ui_port: int, processes: list) -> None:
        self.url, self.ui_port, self.processes = url, ui_port, processes

    def alive_workers(self) -> int:
        import json
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.ui_port}/json/", timeout=2) as got:
                state = json.load(got)
        except OSError:
            return -1  # the master's web UI does not answer (yet)
        return sum(1 for worker in state.get("workers", []) if worker.get("state") == "ALIVE")

    def point_at(self, project: Path) -> None:
        """``project``'s conf/spark/spark.yml with this cluster as master (1 GB executors)."""
        spark_yml = project / "conf" / "spark" / "spark.yml"
        lines = [
            f"spark.master: {self.url}" if line.startswith("spark.master:") else line
            for line in spark_yml.read_text().splitlines()
        ]
        lines += ["spark.executor.memory: 900m", "spark.cores.max: 2"]
        spark_yml.write_text("\n".join(lines) + "\n")


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="session")
def spark_cluster(spark_project: InstalledProject, tmp_path_factory: pytest.TempPathFactory):
    """A real standalone cluster from the project's pip-installed PySpark (no start-master.sh in
    the wheel): ``spark-class`` runs a master and two workers (1 core, 1 GB each) on 127.0.0.1.
    Stopped by their process ids at the end of the session."""
    import subprocess

    from project import free_port

    folder = tmp_path_factory.mktemp("spark-cluster")
    venv = spark_project.root / ".venv"
    spark_class = next(venv.glob("lib/python3*/site-packages/pyspark/bin/spark-class"))
    env = {
        **os.environ,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_WORKER_DIR": str(folder / "work"),
        "PYSPARK_PYTHON": str(venv / "bin" / "python"),
    }
    port, ui_port = free_port(), free_port()
    url = f"spark://127.0.0.1:{port}"
    deploy = "org.apache.spark.deploy"
    commands = [
        [f"{deploy}.master.Master", "--host", "127.0.0.1", "--port", str(port),
         "--webui-port", str(ui_port)],
        *(
            [f"{deploy}.worker.Worker", "--host", "127.0.0.1", "--cores", "1", "--memory", "1g",
             "--webui-port", str(free_port()), url]
            for _ in range(2)
        ),
    ]  # fmt: skip
    cluster = SparkCluster(url, ui_port, [])
    start = time.perf_counter()
    try:
        for index, args in enumerate(commands):
            with (folder / f"jvm-{index}.log").open("w") as log:
                cluster.processes.append(
                    subprocess.Popen([str(spark_class), *args], env=env, stdout=log, stderr=subprocess.STDOUT)
                )
            if index == 0:
                _wait_for(lambda: cluster.alive_workers() == 0, 60, f"the master at {url}")
        _wait_for(lambda: cluster.alive_workers() == 2, 90, "two workers")
        print(f"\nSpark cluster {url} up in {time.perf_counter() - start:.1f} s")
        yield cluster
    finally:
        for process in cluster.processes:
            process.terminate()
        for process in cluster.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert all(process.returncode is not None for process in cluster.processes)


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
        # not its stores: "mlruns" holds artifacts the project's own tests leave (their
        # experiments' default artifact root is ./mlruns)
        ignore=shutil.ignore_patterns(".venv", "mlflow.db", "mlartifacts", "mlruns", "*.parquet", "run.log*"),
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
