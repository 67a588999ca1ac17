"""Slow tests of scheduling with Airflow (docs/production.md#scheduling-with-airflow).

The project's own ``kedro airflow create`` writes the DAG; Airflow, installed apart from the
project as on a worker (with the project's code installed from its folder, not editable), runs it
with ``airflow dags test``: on a SQLite metadata database, without a scheduler or an API server,
every task in this process. The DAGs are of ``__default__`` restricted to the ingestion and
validation nodes (``--tags``), a few seconds of work, so the test stays short; the full training
pipeline is the same DAG with more nodes.
"""

from __future__ import annotations

import ast
import sqlite3
import sys
from pathlib import Path

import pytest
from project import run, uv

pytestmark = pytest.mark.slow

AIRFLOW = "apache-airflow==3.3.2"
TAGS = "ingestion,validation"
INGESTION = ["ingestion.check_ingestion_config", "ingestion.summarise_bureau_records"]
VALIDATION = ["validation.validate_primary_table", "validation.enforce_validation_gate"]


@pytest.fixture(scope="module")
def airflow_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with Airflow only (each test installs its copy of the project)."""
    venv = tmp_path_factory.mktemp("airflow") / "venv"
    run(venv.parent, *uv(), "venv", "--quiet", "--python", sys.executable, str(venv))
    run(venv.parent, *uv(), "pip", "install", "--quiet", "--python", str(venv / "bin/python"), AIRFLOW)
    return venv


def airflow_run(venv: Path, copy: Path, dags: Path, home: Path, cwd: Path, dag_id: str, conf: str):
    """Install ``copy`` in the Airflow venv, migrate a fresh SQLite database, test ``dag_id``.

    Returns the states of the DAG run and of its task instances, read from the database.
    """
    run(copy, *uv(), "pip", "install", "--quiet", "--python", str(venv / "bin/python"), str(copy))
    home.mkdir()
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "MLFLOW_TRACKING_URI": f"sqlite:///{copy / 'mlflow.db'}",
    }
    run(cwd, str(venv / "bin/airflow"), "db", "migrate", timeout=300, **env)
    assert (home / "airflow.db").is_file()  # Airflow 3's default: SQLite in AIRFLOW_HOME
    done = run(cwd, str(venv / "bin/airflow"), "dags", "test", dag_id, "--conf", conf, timeout=600, **env)
    with sqlite3.connect(home / "airflow.db") as db:
        runs = db.execute("SELECT state FROM dag_run WHERE dag_id = ?", (dag_id,)).fetchall()
        tasks = dict(db.execute("SELECT task_id, state FROM task_instance WHERE dag_id = ?", (dag_id,)))
    return [state for (state,) in runs], tasks, done.stdout + done.stderr


def mlflow_runs(copy: Path, package: str):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{copy / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(package)
    assert experiment is not None, "no MLflow experiment: the tasks recorded nothing"
    return client, client.search_runs([experiment.experiment_id], order_by=["attributes.start_time"])


def test_project_dag_is_one_task_and_one_mlflow_run(
    default_project, default_copy, airflow_venv, tmp_path: Path
) -> None:
    """The documented DAG (deploy/airflow_dag.j2): one task, one kedro run, one MLflow run.

    Run from another working directory than the project's, with project_path set at create
    time, as on a worker; the DAG run's conf reaches the pipeline as runtime parameters.
    """
    copy, kedro_in_copy = default_copy
    created = kedro_in_copy(
        "airflow", "create", "--jinja-file", "deploy/airflow_dag.j2", "--tags", TAGS,
        "--params", f"project_path={copy}", check=True,
    )  # fmt: skip
    dag_file = copy / "airflow_dags" / f"{default_project.package}_dag.py"
    assert dag_file.is_file(), created.stdout + created.stderr
    source = dag_file.read_text()
    ast.parse(source)
    assert 'ENV = "local"' in source and 'PIPELINE = "__default__"' in source
    assert all(f'"{node}",' in source for node in INGESTION + VALIDATION)
    assert "training.train_model" not in source  # --tags kept only the ingestion and validation nodes
    assert source.count("@task(") == 1

    elsewhere = tmp_path / "worker"
    elsewhere.mkdir()
    conf = '{"validation": {"max_quarantined_share": 0.5}}'  # the default is 0.05
    states, tasks, output = airflow_run(
        airflow_venv, copy, copy / "airflow_dags", tmp_path / "airflow", elsewhere, "loan-default-risk", conf
    )
    assert states == ["success"], output[-4000:]
    assert tasks == {"kedro-run": "success"}, output[-4000:]
    assert (copy / "data/03_primary/validated_table.parquet").is_file()  # in the project, not the cwd
    assert not list(elsewhere.iterdir())

    client, runs = mlflow_runs(copy, default_project.package)
    assert len(runs) == 1, [r.info.run_name for r in runs]
    tags = runs[0].data.tags
    assert runs[0].info.status == "FINISHED"
    assert tags["airflow.dag_id"] == "loan-default-risk" and tags["airflow.task_id"] == "kedro-run"
    assert tags["airflow.dag_run_id"].startswith("manual__") and tags["airflow.try_number"] == "1"
    assert tags["kedro.pipeline"] == "__default__" and tags["gate.validation"] in {"pass", "warn"}
    # The worker's environment is recorded, not the uv.lock of the project folder it runs in.
    artifacts = {a.path for a in client.list_artifacts(runs[0].info.run_id, "environment")}
    assert artifacts == {"environment/installed-packages.txt"}
    installed = Path(client.download_artifacts(runs[0].info.run_id, "environment/installed-packages.txt"))
    assert "apache-airflow==3.3.2" in installed.read_text().splitlines()
    # The DAG run's conf was a runtime parameter of the kedro run.
    parameters = Path(client.download_artifacts(runs[0].info.run_id, "run/parameters.yml")).read_text()
    assert "max_quarantined_share: 0.5" in parameters


def test_kedro_airflow_default_dag_is_one_mlflow_run_per_task(
    default_project, default_copy, airflow_venv, tmp_path: Path
) -> None:
    """kedro-airflow's own template, --group-by memory: a task, and an MLflow run, per group.

    What docs/production.md says of it: the runs of one DAG run share the tag airflow.dag_run_id.
    """
    copy, kedro_in_copy = default_copy
    kedro_in_copy("airflow", "create", "--group-by", "memory", "--tags", TAGS, check=True)
    dag_file = copy / "airflow_dags" / f"{default_project.package}_dag.py"
    assert dag_file.read_text().count("@task(") == 2  # ingestion, then validation

    states, tasks, output = airflow_run(
        airflow_venv, copy, copy / "airflow_dags", tmp_path / "airflow", copy, "loan-default-risk", "{}"
    )
    assert states == ["success"], output[-4000:]
    assert len(tasks) == 2 and set(tasks.values()) == {"success"}, tasks
    _, runs = mlflow_runs(copy, default_project.package)
    assert [r.data.tags["airflow.task_id"] for r in runs] == [
        next(t for t in tasks if t.startswith("ingestion")),
        next(t for t in tasks if t.startswith("validation")),
    ]
    assert len({r.data.tags["airflow.dag_run_id"] for r in runs}) == 1
    assert {r.info.status for r in runs} == {"FINISHED"}
