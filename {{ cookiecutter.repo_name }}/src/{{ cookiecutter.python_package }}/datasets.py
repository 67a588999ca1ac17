"""Project datasets that record results in the active MLflow run."""

import logging
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
