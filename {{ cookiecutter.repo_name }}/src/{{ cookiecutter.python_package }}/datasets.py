"""Project datasets: results recorded in the active MLflow run, and a CSV source read by Spark
as pandas reads it."""

import logging
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

logger = logging.getLogger(__name__)


class RunMetrics:
    """The run's metrics, held until the run ends and then written in one batch.

    MLflow 3 links a run's metrics to each model logged in it: ``log_model`` reads the history
    of every metric the run has, one request per metric (``metrics/get-history``), for every
    model. A default run logs about 500 metrics and two models: about 1000 requests, minutes
    against a team server. Held here, the metrics are not in the run yet when the models are
    logged, so MLflow has none to link; each model is linked instead to the metric namespaces
    its catalog entry names (``linked_metrics``, e.g. ``test``), in the same batch. The batch
    is written when the pipeline ends, fails or is interrupted (hooks ``MetricBatchHooks`` and
    ``run_status``).
    """

    def __init__(self) -> None:
        self.reset(None)

    def reset(self, run_id: str | None) -> None:
        self.run_id = run_id
        self.pending: dict[str, tuple[float, int]] = {}  # name -> (value, timestamp in ms)
        self.links: dict[str, tuple[str, ...]] = {}  # model id -> metric namespaces

    def add(self, run_id: str, metrics: dict[str, float]) -> None:
        """Hold ``metrics`` of run ``run_id`` (a later value of a name replaces the earlier)."""
        import time

        if run_id != self.run_id:
            self.flush()
            self.reset(run_id)
        now = int(time.time() * 1000)
        self.pending.update({name: (float(value), now) for name, value in metrics.items()})

    def link(self, run_id: str, model_id: str, namespaces: list[str]) -> None:
        """Link model ``model_id`` to the run's metrics of ``namespaces`` when they are written."""
        if run_id != self.run_id:
            self.flush()
            self.reset(run_id)
        self.links[model_id] = tuple(namespaces)

    def flush(self) -> int:
        """Write the held metrics to their run, with their models' links; return how many."""
        if self.run_id is None or not self.pending:
            return 0
        from mlflow import MlflowClient
        from mlflow.entities import Metric

        def linked(name: str) -> list[str]:
            namespace = name.split(".", 1)[0]
            return [model for model, spaces in self.links.items() if namespace in spaces]

        # One entry per metric and batch: the first linked model goes with the run's own entry,
        # each further one in a batch of its own (the same metric linked to another model).
        batches: list[list[Metric]] = []
        for name, (value, timestamp) in sorted(self.pending.items()):
            for index, model_id in enumerate(linked(name) or [None]):
                if len(batches) <= index:
                    batches.append([])
                batches[index].append(Metric(name, value, timestamp, 0, model_id=model_id))
        client = MlflowClient()
        for batch in batches:
            client.log_batch(self.run_id, metrics=batch)
        written, self.pending = len(self.pending), {}
        return written


RUN_METRICS = RunMetrics()


class MlflowRunRecordDataset(AbstractDataset[dict[str, Any], dict[str, Any]]):
    """Log a node's ``{"metrics": {...}, "tags": {...}}`` to the active MLflow run.

    Tags are set at once; metrics are held and written when the run ends (``RunMetrics``).
    Metric names are prefixed with ``prefix`` (e.g. ``ingestion.rows_primary``), so every
    pipeline writes into its own namespace. Nodes stay pure: they return the record, this
    dataset does the logging. Without an active run (tracking disabled) nothing is logged.
    """

    def __init__(self, prefix: str, metadata: dict[str, Any] | None = None) -> None:
        self._prefix = prefix
        self.metadata = metadata
        self._last: dict[str, Any] | None = None

    def _save(self, data: dict[str, Any]) -> None:
        import mlflow

        unknown = set(data) - {"metrics", "tags"}
        if unknown:
            raise DatasetError(
                f"A run record holds 'metrics' and 'tags' only, not {sorted(unknown)}"
            )
        self._last = data
        if mlflow.active_run() is None:
            logger.info("No active MLflow run: %s record not logged.", self._prefix)
            return
        metrics = {f"{self._prefix}.{k}": float(v) for k, v in data.get("metrics", {}).items()}
        if metrics:  # written in one batch when the run ends (RunMetrics)
            RUN_METRICS.add(mlflow.active_run().info.run_id, metrics)
        if data.get("tags"):
            mlflow.set_tags({k: str(v) for k, v in data["tags"].items()})

    def _load(self) -> dict[str, Any]:
        if self._last is None:
            raise DatasetError(f"No {self._prefix} run record has been saved in this session.")
        return self._last

    def _describe(self) -> dict[str, Any]:
        return {"prefix": self._prefix}


class MlflowFiguresDataset(AbstractDataset[dict[str, Any], dict[str, str]]):
    """Save ``{name: matplotlib Figure}`` as ``<folder>/<name>.png`` and log each to MLflow.

    The set of figures may differ from run to run (the problem type decides which plots
    there are), so PNGs of an earlier run that this one did not draw are removed from the
    folder. The files go under ``artifact_path`` in the active MLflow run (none: not logged).
    Loading returns the saved files' paths by name.
    """

    def __init__(
        self,
        folder: str,
        artifact_path: str,
        dpi: int = 100,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._folder = Path(folder)
        self._artifact_path = artifact_path
        self._dpi = dpi
        self.metadata = metadata

    def _save(self, data: dict[str, Any]) -> None:
        import mlflow

        self._folder.mkdir(parents=True, exist_ok=True)
        for stale in self._folder.glob("*.png"):
            if stale.stem not in data:
                stale.unlink()
        paths = []
        for name, figure in data.items():
            path = self._folder / f"{name}.png"
            figure.savefig(path, dpi=self._dpi)
            paths.append(path)
        if mlflow.active_run() is not None:
            for path in paths:
                mlflow.log_artifact(str(path), self._artifact_path)

    def _load(self) -> dict[str, str]:
        return {path.stem: str(path) for path in sorted(self._folder.glob("*.png"))}

    def _describe(self) -> dict[str, Any]:
        return {"folder": str(self._folder), "artifact_path": self._artifact_path}


class SparkCSVDataset(AbstractDataset[Any, Any]):
    """A CSV source read by Spark (kedro-datasets' ``spark.SparkDataset``) with every value of
    ``na_values`` read as missing, as ``pandas.CSVDataset`` reads the same file.

    Spark's CSV reader knows one missing marker (``nullValue``); a file whose missing values are
    written several ways (``?``, ``n/a``) would otherwise pass them to the raw suite as text on
    Spark and as missing on pandas. ``load_args`` are Spark's CSV options. Read only: a source is
    never written.
    """

    def __init__(
        self,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        na_values: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        from kedro_datasets.spark import SparkDataset

        self._source = SparkDataset(filepath=filepath, file_format="csv", load_args=load_args)
        self._na_values = [str(value) for value in na_values or []]
        self.metadata = metadata

    def _load(self) -> Any:
        from pyspark.sql import functions as F

        from .spark_engine import quoted

        frame = self._source.load()
        if not self._na_values:
            return frame
        return frame.select(
            *(
                F.when(quoted(c).isin(self._na_values), None).otherwise(quoted(c)).alias(c)
                for c in frame.columns
            )
        )

    def _save(self, data: Any) -> None:
        raise DatasetError("SparkCSVDataset reads a source; it is never written.")

    def _exists(self) -> bool:
        return self._source.exists()

    def _describe(self) -> dict[str, Any]:
        return {**self._source._describe(), "na_values": self._na_values}
