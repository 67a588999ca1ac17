"""Project hooks: check inputs before work starts, tag the MLflow run, end with a summary."""

import logging
import subprocess
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog, DatasetError
from kedro.pipeline import Pipeline

from .errors import DataError
from .tracking import project_root

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


def git_tags(root: Path) -> dict[str, str]:
    """Commit, branch and dirty flag of the project's git checkout, as MLflow tags."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
    except (OSError, subprocess.SubprocessError):
        return {"git.repository": "none (the project is not a git repository or has no commit)"}
    return {
        "mlflow.source.git.commit": commit,
        "mlflow.source.git.branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "git.dirty": str(bool(git("status", "--porcelain"))).lower(),
    }


class ProjectHooks:
    """Hooks of this project; kedro-mlflow's hooks run before these."""

    def __init__(self) -> None:
        self.run_id: str | None = None
        self.loading: str | None = None  # the catalog entry being read, to name it on failure

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: DataCatalog
    ) -> None:
        """Refuse to start without input data; tag the run with the code version."""
        import mlflow  # noqa: PLC0415  (already loaded by kedro-mlflow)

        run = mlflow.active_run()
        self.run_id = run.info.run_id if run else None
        missing = missing_inputs(pipeline, catalog)
        if missing:
            if run:
                mlflow.end_run("FAILED")
            lines = "\n".join(f"  - {name}: {path} (not found)" for name, path in missing.items())
            raise DataError(
                "Input data is missing. Put the files there, or point these catalog entries "
                f"(conf/base/catalog.yml) at your data:\n{lines}"
            )
        if run:
            mlflow.set_tags(git_tags(project_root()))

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str) -> None:
        self.loading = dataset_name

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str) -> None:
        self.loading = None

    @hook_impl
    def on_pipeline_error(self, error: Exception, catalog: DataCatalog) -> None:
        """Name the catalog entry and file behind a dataset that could not be read."""
        if not isinstance(error, DatasetError) or self.loading is None:
            return
        name, self.loading = self.loading, None
        path = _local_path(catalog.get(name))
        cause: BaseException = error
        while cause.__cause__ is not None:  # Kedro wraps the reader's own error twice
            cause = cause.__cause__
        raise DataError(
            f"Could not read catalog entry '{name}'{f' ({path})' if path else ''}: "
            f"{type(cause).__name__}: {str(cause).strip().splitlines()[-1] if str(cause).strip() else ''}. "
            "Check the file, or point the entry in conf/base/catalog.yml at the right one."
        ) from error

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Say where the run's record is (kedro-mlflow has ended the run by now)."""
        if self.run_id is None:
            return
        import mlflow  # noqa: PLC0415

        run = mlflow.get_run(self.run_id)
        gates = {k: v for k, v in sorted(run.data.tags.items()) if k.startswith("gate.")}
        uri = mlflow.get_tracking_uri()
        summary = [
            f"MLflow run {self.run_id} ({run.info.status}) in experiment "
            f"{mlflow.get_experiment(run.info.experiment_id).name!r}",
            f"  tracking store: {uri}",
            *(f"  {gate}: {verdict}" for gate, verdict in gates.items()),
            f"  browse it: uv run mlflow ui --backend-store-uri {uri}",
        ]
        logger.info("Run summary\n%s", "\n".join(summary))
