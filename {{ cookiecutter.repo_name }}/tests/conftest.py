"""Shared fixtures for the project's tests."""

import os
import shutil
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def _outputs(folder: str, names: list[str]) -> list[str]:
    """Files a run wrote (Parquet outside data/01_raw, logs): not copied. Raw sources are."""
    raw = "01_raw" in Path(folder).parts
    return [n for n in names if n.endswith(".log") or (n.endswith(".parquet") and not raw)]


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project's code, configuration and raw data in a temporary folder.

    Runs in it write their outputs and their MLflow store there, not into the real project.
    """
    for name in ("pyproject.toml", "conf", "src"):
        source = PROJECT_ROOT / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, tmp_path / name)
    shutil.copytree(PROJECT_ROOT / "data", tmp_path / "data", ignore=_outputs)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path


@pytest.fixture
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite MLflow store in a temporary folder, and the working directory there too: an
    experiment made without an artifact location keeps its artifacts in MLflow's default
    ``./mlruns``, which must not land in the project."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(uri)
    return uri


# --- the configured data ---------------------------------------------------------------------

SAMPLE_MANIFEST = PROJECT_ROOT / "data" / "01_raw" / "manifest.json"


def load_config(root: Path, key: str, runtime_params: dict | None = None) -> dict:
    """A resolved configuration group of ``root`` (``parameters``, ``catalog``), as Kedro has it
    (with ``runtime_params`` as given by ``kedro run --params``)."""
    from kedro.config import OmegaConfigLoader

    loader = OmegaConfigLoader(
        conf_source=str(root / "conf"),
        base_env="base",
        default_run_env="local",
        runtime_params=runtime_params,
    )
    return loader[key]


def sample_is_configured(root: Path = PROJECT_ROOT) -> bool:
    """Whether the configured main source is the bundled sample (its manifest says what it holds).

    Tests of the sample's planted facts run only then; every other test reads the configuration.
    """
    import json

    if not SAMPLE_MANIFEST.is_file():
        return False
    main = load_config(root, "parameters")["ingestion"]["main_source"]
    entry = load_config(root, "catalog").get(f"raw_{main}") or {}
    files = json.loads(SAMPLE_MANIFEST.read_text()).get("files", {}).values()
    return Path(str(entry.get("filepath", ""))).name in set(files)


requires_sample = pytest.mark.skipif(
    not sample_is_configured(),
    reason="checks facts planted in the bundled sample data (data/01_raw/manifest.json), which "
    "is not the configured data",
)
