"""The monitoring experiment: one MLflow run per monitored batch, beside the training runs.

kedro-mlflow records each ``kedro run`` in the project's experiment; monitoring results also go
to their own experiment (``<package>_monitoring`` by default), one run per batch, with metrics
logged at step = batch number, so the MLflow UI's charts of that experiment are the dashboard.
The run is created with ``MlflowClient`` on the tracking store kedro-mlflow configured.
"""

import logging
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from ...tracking import ARTIFACTS_FOLDER, SQLITE_PREFIX, project_root

logger = logging.getLogger(__name__)


class MonitoringRunDataset(AbstractDataset[dict[str, Any], dict[str, Any]]):
    """Save ``{"step", "metrics", "tags", "params", "json", "text", "figures"}`` as an MLflow run.

    The run goes to ``experiment`` (created if missing); its metrics are logged at ``step``
    (the batch number), or, when that is null, at one more than the runs already there.
    """

    def __init__(
        self,
        experiment: str,
        batch_number: int | None = None,
        artifact_path: str = "monitoring",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._experiment = experiment
        self._batch_number = batch_number
        self._artifact_path = artifact_path
        self.metadata = metadata
        self._last: dict[str, Any] | None = None

    def _experiment_id(self, client: Any) -> str:
        import mlflow

        experiment = client.get_experiment_by_name(self._experiment)
        if experiment is not None:
            return experiment.experiment_id
        location = None
        if mlflow.get_tracking_uri().startswith(SQLITE_PREFIX):
            location = (project_root() / ARTIFACTS_FOLDER).as_uri()
        return client.create_experiment(self._experiment, artifact_location=location)

    def _save(self, data: dict[str, Any]) -> None:
        import mlflow

        client = mlflow.MlflowClient()
        experiment_id = self._experiment_id(client)
        step = data.get("step") or self._batch_number
        if step is None:
            step = len(client.search_runs([experiment_id], max_results=10000)) + 1
        batch = data.get("params", {}).get("batch", "batch")
        run = client.create_run(experiment_id, run_name=f"{batch} #{step}")
        run_id = run.info.run_id
        try:
            active = mlflow.active_run()
            tags = dict(data.get("tags") or {})
            tags["monitoring.step"] = str(step)
            if active is not None:  # the kedro run that produced it, in the project's experiment
                tags["monitoring.kedro_run_id"] = active.info.run_id
            for key, value in tags.items():
                client.set_tag(run_id, key, str(value))
            for key, value in (data.get("params") or {}).items():
                client.log_param(run_id, key, str(value))
            for key, value in (data.get("metrics") or {}).items():
                client.log_metric(run_id, key, float(value), step=int(step))
            for name, value in (data.get("json") or {}).items():
                client.log_dict(run_id, value, f"{self._artifact_path}/{name}")
            for name, value in (data.get("text") or {}).items():
                client.log_text(run_id, value, f"{self._artifact_path}/{name}")
            for name, figure in (data.get("figures") or {}).items():
                client.log_figure(run_id, figure, f"{self._artifact_path}/{name}")
        except Exception:
            client.set_terminated(run_id, "FAILED")
            raise
        client.set_terminated(run_id, "FINISHED")
        self._last = {**data, "run_id": run_id, "step": step}
        logger.info(
            "Monitoring run %s (step %s) in MLflow experiment %r.", run_id, step, self._experiment
        )

    def _load(self) -> dict[str, Any]:
        if self._last is None:
            raise DatasetError("No monitoring run has been saved in this session.")
        return self._last

    def _describe(self) -> dict[str, Any]:
        return {"experiment": self._experiment, "batch_number": self._batch_number}
