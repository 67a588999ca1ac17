"""Project hooks: check inputs before work starts, record the run's audit trail, end with a summary.

kedro-mlflow's hooks run before these, so its MLflow run is already active here. The audit trail
adds what kedro-mlflow does not log: the git commit, the environment, the template answers, all
resolved parameters, and every raw and primary dataset as an MLflow dataset input with a digest;
each raw file also gets its data version (DVC's hash, ``data.<entry>.version``), kept in the
project's DVC store, and pushed to the data store's remote when one is configured
(``conf/base/data_store.yml``; data_versions.py).
The run is named ``<pipeline> · <env> · <commit>``, ends KILLED when interrupted (run_status.py)
and gets a Markdown description of its gates and metrics when it ends.
"""

import logging
import time
from pathlib import Path
from typing import Any

import yaml
from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog, DatasetError
from kedro.pipeline import Pipeline

from . import audit, console, data_versions, project_config, run_status
from .datasets import RUN_METRICS
from .errors import DataError
from .spark_engine import digest_of_spark_frame, is_spark_frame
from .tracking import describe_run, ensure_experiment_tags, project_root, run_name

logger = logging.getLogger(__name__)


def _local_path(dataset: Any) -> Path | None:
    """The local file behind a dataset (a file or a sqlite:/// database), relative if inside cwd."""
    connection = getattr(dataset, "_connection_str", None)
    if isinstance(connection, str) and connection.startswith("sqlite:///"):
        path = Path(connection.removeprefix("sqlite:///"))
    elif getattr(dataset, "_protocol", None) == "file" and getattr(dataset, "_filepath", None):
        path = Path(str(dataset._filepath))
    else:
        return None
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path


def _log_input_once(dataset: Any, context: str, tags: dict[str, str]) -> None:
    """``mlflow.log_input``, once more when another run registered the same dataset at the same
    moment: the server then refuses the second insert (a unique key on experiment, name and
    digest); the dataset exists now, and the second call only links it to this run."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        mlflow.log_input(dataset, context=context, tags=tags)
    except MlflowException as error:
        if "UniqueViolation" not in str(error) and "UNIQUE constraint" not in str(error):
            raise
        mlflow.log_input(dataset, context=context, tags=tags)


def _layer(dataset: Any) -> str | None:
    return ((getattr(dataset, "metadata", None) or {}).get("kedro-viz") or {}).get("layer")


def _missing_hint(dataset: Any) -> str:
    """What to do when the dataset's file is missing (catalog ``metadata.missing_hint``)."""
    return str((getattr(dataset, "metadata", None) or {}).get("missing_hint") or "")


def missing_inputs(pipeline: Pipeline, catalog: DataCatalog) -> dict[str, str]:
    """Free inputs of ``pipeline`` whose local file does not exist, by catalog entry."""
    missing = {}
    for name in sorted(pipeline.inputs()):
        if name == "parameters" or name.startswith("params:"):
            continue
        path = _local_path(catalog.get(name))
        if path is not None and not path.exists():
            missing[name] = str(path)
    return missing


class ProjectHooks:
    """Hooks of this project; kedro-mlflow's hooks run before these."""

    def __init__(self) -> None:
        self.run_id: str | None = None
        self.catalog: DataCatalog | None = None
        self.loading: str | None = None  # the catalog entry being read, to name it on failure
        self.logged_inputs: set[str] = set()
        self.audit_seconds = 0.0
        self.run_name = ""
        self.guard = run_status.InterruptGuard()
        self.remote: data_versions.Remote | None = None

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: Any) -> None:
        """Give the loggers MLflow and kedro-mlflow took over on import back to conf/logging.yml,
        and tell ``project_config`` the run's environment before the pipelines are built.

        First of all plugins' hooks: kedro-mlflow's speaks, and may create the local store.
        Against a team server, a user the server would refuse is stopped here (``team.py``), and
        a wrong data store configuration (``data_store.yml``) before any data is read.
        """
        console.hand_back_library_loggers()
        project_config.use_environment(context.env)
        self.remote = data_versions.configured_remote(context.config_loader, Path.cwd())
        from .team import check_tracking_access  # a team server: may this user run?

        check_tracking_access(context)

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Refuse to start without input data; record code, environment and parameters."""
        import mlflow

        run = mlflow.active_run()
        self.run_id = run.info.run_id if run else None
        self.catalog, self.logged_inputs, self.audit_seconds = catalog, set(), 0.0
        missing = missing_inputs(pipeline, catalog)
        if missing:
            if run:
                mlflow.end_run("FAILED")
            hints = {name: _missing_hint(catalog.get(name)) for name in missing}
            if all(hints.values()):  # an output of another pipeline, or a file to deliver
                raise DataError(
                    " ".join(f"{path} not found: {hints[name]}." for name, path in missing.items())
                )
            lines = "\n".join(f"  - {name}: {path} (not found)" for name, path in missing.items())
            raise DataError(
                "Input data is missing. Put the files there, or point these catalog entries "
                f"(conf/base/catalog.yml) at your data:\n{lines}"
            )
        if run:
            self.guard.start(run.info.run_id)
            start = time.perf_counter()
            root = project_root()
            lock_text, lock_name = audit.environment_lock(root)
            git = audit.git_tags(root)
            pipelines = run_params.get("pipeline_names") or [
                run_params.get("pipeline_name") or "__default__"
            ]
            self.run_name = run_name(pipelines, run_params.get("env"), git)
            mlflow.set_tags(
                {
                    **git,
                    **audit.environment_tags(lock_text),
                    **audit.template_tags(root),
                    **run_status.process_tags(),
                    **audit.airflow_tags(),
                    "kedro.env": run_params.get("env") or "local",
                    "kedro.pipeline": "+".join(pipelines),
                    "mlflow.runName": self.run_name,
                }
            )
            logger.info("MLflow run %r (%s) started", self.run_name, self.run_id)
            ensure_experiment_tags(mlflow.MlflowClient(), run.info.experiment_id)
            try:  # a RUNNING run whose process died (kill -9, power loss): mark it KILLED
                run_status.close_abandoned_runs(
                    mlflow.MlflowClient(), run.info.experiment_id, run.info.run_id
                )
            except Exception as error:  # never stop this run over an older one
                logger.warning("Could not check for abandoned MLflow runs: %s", error)
            mlflow.log_text(lock_text, f"environment/{lock_name}")
            parameters = catalog.load("parameters") if "parameters" in catalog else {}
            mlflow.log_text(yaml.safe_dump(parameters, sort_keys=True), "run/parameters.yml")
            self.audit_seconds += time.perf_counter() - start

    def _log_input(self, dataset_name: str, data: Any) -> None:
        """Log a raw or primary table as an MLflow dataset input, with digest and schema."""
        import pandas as pd

        if self.run_id is None or self.catalog is None or dataset_name in self.logged_inputs:
            return
        dataset = self.catalog.get(dataset_name)
        layer = _layer(dataset)
        on_spark = is_spark_frame(data)
        if layer not in audit.AUDITED_LAYERS or not (on_spark or isinstance(data, pd.DataFrame)):
            return
        start = time.perf_counter()
        self.logged_inputs.add(dataset_name)
        source = str(_local_path(dataset) or dataset_name)
        if on_spark:  # one Spark job: an order-independent digest and the row count
            digest, rows = digest_of_spark_frame(data)
            schema_rows = data.limit(audit.SCHEMA_SAMPLE_ROWS).toPandas()
        else:
            digest, rows, schema_rows = audit.frame_digest(data), len(data), data
        input_tags = {"rows": str(rows), "sha256": digest}
        if layer == "raw":
            input_tags["data_version"] = self._data_version(dataset_name, dataset)
        # MLflow keeps at most 36 characters of digest; the full SHA-256 goes in a tag.
        logged = audit.sampled_schema_dataset(schema_rows, source, dataset_name, digest[:32])
        _log_input_once(logged, layer, input_tags)
        self.audit_seconds += time.perf_counter() - start

    def _data_version(self, dataset_name: str, dataset: Any) -> str:
        """Tag the run with the raw file's data version and keep the version in the data store."""
        import mlflow

        path = _local_path(dataset)
        if path is None or not path.is_file():
            version, kept = data_versions.NOT_A_FILE, data_versions.NOT_A_FILE
        else:
            version = data_versions.file_version(path)
            try:  # the store beside the data: the project folder the run started in
                kept = data_versions.store(Path.cwd(), path.resolve(), version)
            except Exception as error:  # a run is not stopped by its data store
                logger.warning("Could not keep %s in the DVC store: %s", path, error)
                kept = f"recorded only: the DVC store failed ({type(error).__name__})"
            if kept == "dvc" and self.remote is not None:
                kept = self._push(path, version)
        mlflow.set_tags(
            {
                f"data.{dataset_name}.version": version,
                f"data.{dataset_name}.store": kept,
                f"data.{dataset_name}.path": str(path) if path else dataset_name,
            }
        )
        return version

    def _push(self, path: Path, version: str) -> str:
        """Copy a kept version to the remote unless it has it; say where the version is."""
        remote = self.remote
        try:
            if data_versions.push(Path.cwd(), remote, version):
                logger.info("Data version %s of %s pushed to %s", version, path, remote.url)
            return f"dvc, remote {remote.url}"
        except Exception as error:  # a run is not stopped by its remote
            logger.warning("Could not push %s to the data store's remote: %s", path, error)
            return f"dvc; the push to the remote failed ({type(error).__name__})"

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str) -> None:
        self.loading = dataset_name

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any) -> None:
        self.loading = None
        self._log_input(dataset_name, data)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        self._log_input(dataset_name, data)

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        self.guard.node_completed(node.name)

    @hook_impl
    def on_pipeline_error(self, error: Exception, catalog: DataCatalog) -> None:
        """Name the catalog entry and file behind a dataset that could not be read."""
        self.guard.stop()  # kedro-mlflow has ended the run FAILED
        if not isinstance(error, DatasetError) or self.loading is None:
            return
        name, self.loading = self.loading, None
        path = _local_path(catalog.get(name))
        cause: BaseException = error
        while cause.__cause__ is not None:  # Kedro wraps the reader's own error twice
            cause = cause.__cause__
        detail = str(cause).strip().splitlines()[-1] if str(cause).strip() else ""
        raise DataError(
            f"Could not read catalog entry '{name}'{f' ({path})' if path else ''}: "
            f"{type(cause).__name__}: {detail}. "
            "Check the file, or point the entry in conf/base/catalog.yml at the right one."
        ) from error

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Describe the run in MLflow, say where its record is (kedro-mlflow has ended it)."""
        self.guard.stop()
        if self.run_id is None:
            return
        import mlflow

        try:
            describe_run(self.run_id, self.run_name)
        except Exception as error:  # the run is recorded; only its description is missing
            logger.warning("Could not write the MLflow run description: %s", error)
        run = mlflow.get_run(self.run_id)
        gates = {k: v for k, v in sorted(run.data.tags.items()) if k.startswith("gate.")}
        uri = mlflow.get_tracking_uri()
        summary = [
            f"MLflow run {self.run_name!r} {self.run_id} ({run.info.status}) in experiment "
            f"{mlflow.get_experiment(run.info.experiment_id).name!r}",
            f"  tracking store: {uri}",
            *(f"  {gate}: {verdict}" for gate, verdict in gates.items()),
            f"  audit trail recorded in {self.audit_seconds:.2f} s "
            f"({len(self.logged_inputs)} dataset inputs)",
            f"  browse it: uv run mlflow ui --backend-store-uri {uri}",
            f"  reproduce it: uv run kedro reproduce {self.run_id}",
        ]
        logger.info("Run summary\n%s", "\n".join(summary))


class RunTimingHooks:
    """Time each node's compute and each dataset's load and save; write them at the end of a run.

    The result, ``data/08_reporting/run_timings.json`` (and ``run/timings.json`` in MLflow),
    tells where a run spends its time: compute, dataset I/O, or the framework around them.
    """

    def __init__(self) -> None:
        self.started: dict[tuple[str, str], float] = {}
        self.nodes: dict[str, dict[str, float]] = {}
        self.datasets: dict[str, dict[str, float]] = {}
        self.pipeline_start = 0.0
        self.run_id: str | None = None

    def _start(self, kind: str, name: str) -> None:
        self.started[(kind, name)] = time.perf_counter()

    def _stop(self, kind: str, name: str, node: Any, table: str) -> None:
        seconds = time.perf_counter() - self.started.pop((kind, name), time.perf_counter())
        target = self.datasets if table == "datasets" else self.nodes
        entry = target.setdefault(name, {})
        entry[kind] = entry.get(kind, 0.0) + seconds
        if node is not None and table == "datasets":  # also charge the I/O to its node
            node_entry = self.nodes.setdefault(node.name, {})
            node_entry[kind] = node_entry.get(kind, 0.0) + seconds

    @hook_impl
    def before_pipeline_run(self) -> None:
        import mlflow

        run = mlflow.active_run()
        self.run_id = run.info.run_id if run else None
        self.started, self.nodes, self.datasets = {}, {}, {}
        self.pipeline_start = time.perf_counter()

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str) -> None:
        self._start("load_s", dataset_name)

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, node: Any) -> None:
        self._stop("load_s", dataset_name, node, "datasets")

    @hook_impl
    def before_dataset_saved(self, dataset_name: str) -> None:
        self._start("save_s", dataset_name)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, node: Any) -> None:
        self._stop("save_s", dataset_name, node, "datasets")

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        self._start("compute_s", node.name)

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        self._stop("compute_s", node.name, None, "nodes")

    @hook_impl
    def after_pipeline_run(self) -> None:
        import json
        import resource

        timings = {
            "pipeline_wall_s": time.perf_counter() - self.pipeline_start,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "nodes": self.nodes,
            "datasets": self.datasets,
        }
        text = json.dumps(timings, indent=2, sort_keys=True)
        report = Path("data/08_reporting/run_timings.json")
        if report.parent.is_dir():
            report.write_text(text)
        if self.run_id is not None:
            from mlflow import MlflowClient

            MlflowClient().log_text(self.run_id, text, "run/timings.json")


class ParameterBatchHooks:
    """Log kedro-mlflow's node parameters in one batch per node, each parameter once.

    kedro-mlflow logs every parameter of every node with its own ``mlflow.log_param`` call, again
    for each node that reads it: about 400 single writes to the tracking store per default run
    (about 2 s on SQLite, one round trip each on a server). Its hook still decides what is logged
    and how (flattened names, the long-value strategy of ``mlflow.yml``); this hook only queues
    the values it would log and writes the new ones in one ``log_batch`` after it.
    """

    BATCH = 100  # MLflow's limit of parameters per log_batch

    def __init__(self) -> None:
        self.pending: dict[str, str] = {}
        self.logged: dict[str, str] = {}

    @hook_impl
    def before_pipeline_run(self) -> None:
        from kedro_mlflow.framework.hooks.mlflow_hook import MAX_PARAM_VAL_LENGTH, mlflow_hook

        self.pending, self.logged = {}, {}
        direct = getattr(mlflow_hook._log_param, "direct", mlflow_hook._log_param)

        def queue(name: str, value: Any) -> None:
            text = str(value)
            if len(text) > MAX_PARAM_VAL_LENGTH:  # kedro-mlflow's long-value strategy applies
                return direct(name, value)
            if self.logged.get(name) != text:
                self.pending[name] = text
            return None

        queue.direct = direct  # type: ignore[attr-defined]
        mlflow_hook._log_param = queue

    @hook_impl(trylast=True)
    def before_node_run(self) -> None:
        self.flush()

    @hook_impl
    def after_pipeline_run(self) -> None:
        self.flush()

    @hook_impl
    def on_pipeline_error(self) -> None:
        self.flush()

    def flush(self) -> None:
        """Write the queued parameters to the active MLflow run."""
        if not self.pending:
            return
        import mlflow
        from mlflow.entities import Param

        run = mlflow.active_run()
        if run is None:
            return
        items = list(self.pending.items())
        client = mlflow.MlflowClient()
        for start in range(0, len(items), self.BATCH):
            chunk = items[start : start + self.BATCH]
            client.log_batch(run.info.run_id, params=[Param(k, v) for k, v in chunk])
        self.logged.update(self.pending)
        self.pending = {}


class MetricBatchHooks:
    """Write the run's metrics (``datasets.RunMetrics``) in one batch when the pipeline ends or
    fails, before kedro-mlflow ends the run, so a FINISHED or FAILED run holds all of them."""

    @hook_impl
    def before_pipeline_run(self) -> None:
        import mlflow

        run = mlflow.active_run()
        RUN_METRICS.reset(run.info.run_id if run else None)

    @hook_impl(tryfirst=True)
    def after_pipeline_run(self) -> None:
        RUN_METRICS.flush()

    @hook_impl(tryfirst=True)
    def on_pipeline_error(self) -> None:
        try:
            RUN_METRICS.flush()
        except Exception as error:  # the run's own error is the one to report
            logger.warning("Could not write the run's metrics to MLflow: %s", error)


class SparkHooks:
    """Start the Spark session of an environment that has ``spark.yml`` (``--env spark``).

    Kedro's own pattern (its PySpark starters): the session is created once, when the context
    is, from the environment's ``spark`` configuration; every Spark dataset and node then gets
    it with ``SparkSession.builder.getOrCreate()``. Other environments have no ``spark.yml`` and
    start no JVM.
    """

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        from kedro.config import MissingConfigException

        try:
            settings = context.config_loader["spark"]
        except (KeyError, MissingConfigException):
            return
        if not settings:
            return
        from .spark_engine import start_spark_session

        start_spark_session(dict(settings), app_name=context.project_path.name)
