"""Where MLflow records runs. Cheap to import: MLflow itself is not imported here."""

import os
from pathlib import Path

SQLITE_PREFIX = "sqlite:///"


def project_root() -> Path:
    """The project folder (with pyproject.toml), or the working directory if installed elsewhere."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() else Path.cwd()


def resolve_tracking_uri(default: str) -> str:
    """``MLFLOW_TRACKING_URI`` if set, else ``default``; relative SQLite paths become absolute."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or default
    if uri.startswith(SQLITE_PREFIX):
        path = Path(uri.removeprefix(SQLITE_PREFIX))
        if not path.is_absolute():
            return SQLITE_PREFIX + (project_root() / path).as_posix()
    return uri


def resolve_artifact_location(default_tracking_uri: str, folder: str) -> str | None:
    """``<project root>/<folder>`` beside a local store; a server chooses its own."""
    if resolve_tracking_uri(default_tracking_uri).startswith(SQLITE_PREFIX):
        return (project_root() / folder).as_uri()
    return None
