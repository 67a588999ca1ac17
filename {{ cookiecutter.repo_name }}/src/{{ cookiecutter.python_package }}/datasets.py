"""Project datasets that record results in the active MLflow run."""

import logging
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

logger = logging.getLogger(__name__)


class MlflowRunRecordDataset(AbstractDataset[dict[str, Any], dict[str, Any]]):
    """Log a node's ``{"metrics": {...}, "tags": {...}}`` to the active MLflow run.

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
        if metrics:
            mlflow.log_metrics(metrics)
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
