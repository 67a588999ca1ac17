"""Where MLflow records runs. Cheap to import: MLflow itself is imported only to create a store."""

import os
from pathlib import Path

from .errors import ConfigError

SQLITE_PREFIX = "sqlite:///"
ARTIFACTS_FOLDER = "mlartifacts"


def project_root() -> Path:
    """The project folder (with pyproject.toml), or the working directory if installed elsewhere."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() else Path.cwd()


def resolve_tracking_uri(default: str, experiment: str | None = None) -> str:
    """``MLFLOW_TRACKING_URI`` if set, else ``default``; relative SQLite paths become absolute.

    Given the experiment name, a local SQLite store that does not exist yet is created with the
    experiment under a file lock, so two runs started at once do not race to create them.
    """
    uri = os.environ.get("MLFLOW_TRACKING_URI") or default
    if uri.startswith(SQLITE_PREFIX):
        path = Path(uri.removeprefix(SQLITE_PREFIX))
        if not path.is_absolute():
            uri = SQLITE_PREFIX + (project_root() / path).as_posix()
        if experiment:
            create_local_store(uri, experiment)
    return uri


def resolve_artifact_location(default_tracking_uri: str, folder: str) -> str | None:
    """``<project root>/<folder>`` beside a local store; a server chooses its own."""
    if resolve_tracking_uri(default_tracking_uri).startswith(SQLITE_PREFIX):
        return (project_root() / folder).as_uri()
    return None


def create_local_store(uri: str, experiment: str) -> None:
    """Create the SQLite store and the experiment once, even when several runs start together."""
    database = Path(uri.removeprefix(SQLITE_PREFIX))
    if database.exists():
        return
    try:
        import fcntl  # noqa: PLC0415  (POSIX only; elsewhere, no lock)
    except ImportError:
        fcntl = None
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(database.name + ".lock"), "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        from mlflow import MlflowClient  # noqa: PLC0415

        client = MlflowClient(tracking_uri=uri)
        if client.get_experiment_by_name(experiment) is None:
            location = (project_root() / ARTIFACTS_FOLDER).as_uri()
            client.create_experiment(experiment, artifact_location=location)


def resolve_required_env(name: str) -> str:
    """The value of environment variable ``name``; refuse to go on without it."""
    value = os.environ.get(name)
    if not value:
        raise ConfigError(
            f"Set the environment variable {name} (e.g. http://mlflow.internal:5000)."
        )
    return value
