"""Adding labels' results to a batch's existing run in the monitoring experiment."""

import logging
from typing import Any

from kedro.io import AbstractDataset, DatasetError

logger = logging.getLogger(__name__)


class MonitoringRunUpdateDataset(AbstractDataset[dict[str, Any], dict[str, Any]]):
    """Save ``{"run_id", "step", "metrics", "tags", "json"}`` into that existing MLflow run.

    Metrics are logged at ``step``; the run keeps its status and everything logged before.
    """

    def __init__(self, artifact_path: str = "monitoring", metadata: dict[str, Any] | None = None):
        self._artifact_path = artifact_path
        self.metadata = metadata
        self._last: dict[str, Any] | None = None

    def _save(self, data: dict[str, Any]) -> None:
        import mlflow

        client = mlflow.MlflowClient()
        run_id, step = data["run_id"], int(data["step"])
        for key, value in (data.get("tags") or {}).items():
            client.set_tag(run_id, key, str(value))
        for key, value in (data.get("metrics") or {}).items():
            client.log_metric(run_id, key, float(value), step=step)
        for name, value in (data.get("json") or {}).items():
            client.log_dict(run_id, value, f"{self._artifact_path}/{name}")
        self._last = data
        logger.info("Labels logged to monitoring run %s at step %s.", run_id, step)

    def _load(self) -> dict[str, Any]:
        if self._last is None:
            raise DatasetError("No monitoring run has been updated in this session.")
        return self._last

    def _describe(self) -> dict[str, Any]:
        return {"artifact_path": self._artifact_path}
