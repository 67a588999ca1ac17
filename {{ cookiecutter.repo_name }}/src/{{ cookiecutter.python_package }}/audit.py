"""What every run records beyond kedro-mlflow: code, data and environment, to recreate it."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

# Tables logged as MLflow dataset inputs: the sources, the primary tables, and the rows the
# model was fitted and evaluated on (their digests are the ones the model card shows).
AUDITED_LAYERS = ("raw", "primary", "model_input")
NO_GIT = "none (the project is not a git repository or has no commit)"


def git_tags(root: Path) -> dict[str, str]:
    """Commit, branch and dirty flag of the project's git checkout, as MLflow tags."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
    except (OSError, subprocess.SubprocessError):
        return {"git.repository": NO_GIT}
    return {
        "mlflow.source.git.commit": commit,
        "mlflow.source.git.branch": git("rev-parse", "--abbrev-ref", "HEAD"),
        "git.dirty": str(bool(git("status", "--porcelain", "--untracked-files=no"))).lower(),
    }


def frame_digest(frame: pd.DataFrame) -> str:
    """A content digest of a table: column names, types and every value (order-sensitive)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def environment_lock(root: Path) -> tuple[str, str]:
    """The exact environment as text (uv.lock, else the installed packages) and its file name.

    uv.lock only when this code runs from the project folder (``uv sync``); installed from the
    wheel elsewhere, e.g. in an Airflow worker, the folder's uv.lock need not be what is
    installed, so the installed packages are recorded.
    """
    lock = root / "uv.lock"
    if lock.is_file() and Path(__file__).resolve().is_relative_to(root.resolve()):
        return lock.read_text(), "uv.lock"
    installed = sorted(
        f"{dist.metadata['Name']}=={dist.version}" for dist in metadata.distributions()
    )
    return "\n".join(installed) + "\n", "installed-packages.txt"


def environment_tags(lock_text: str) -> dict[str, str]:
    """Python version and the hash of the environment lock, as MLflow tags."""
    return {
        "environment.python": platform.python_version(),
        "environment.lock_sha256": hashlib.sha256(lock_text.encode()).hexdigest(),
    }


# Set by Airflow in the process of a task (airflow.sdk): the DAG run a kedro run belongs to.
AIRFLOW_CONTEXT = {
    "AIRFLOW_CTX_DAG_ID": "airflow.dag_id",
    "AIRFLOW_CTX_DAG_RUN_ID": "airflow.dag_run_id",
    "AIRFLOW_CTX_TASK_ID": "airflow.task_id",
    "AIRFLOW_CTX_TRY_NUMBER": "airflow.try_number",
}


def airflow_tags() -> dict[str, str]:
    """The Airflow DAG run, task and try of a run started by an Airflow task; else nothing."""
    return {tag: os.environ[var] for var, tag in AIRFLOW_CONTEXT.items() if os.environ.get(var)}


def template_tags(root: Path) -> dict[str, str]:
    """The template version and answers the project was generated from."""
    answers_file = root / ".template-answers.json"
    if not answers_file.is_file():
        return {"template.answers": "unknown (no .template-answers.json)"}
    answers: dict[str, Any] = json.loads(answers_file.read_text())
    return {
        "template.version": str(answers.get("_template_version", "unknown")),
        "template.answers": json.dumps(
            {k: v for k, v in answers.items() if not k.startswith("_")}, sort_keys=True
        )[:5000],
    }


SCHEMA_SAMPLE_ROWS = 1_000


def sampled_schema_dataset(data: pd.DataFrame, source: str, name: str, digest: str) -> Any:
    """``mlflow.data.from_pandas`` with the schema inferred from the first rows only.

    MLflow infers a schema by walking every value of a text column in Python (about 2.5 s per
    million values): on a 1M-row table that was most of the run's overhead. Column types do not
    need every row; the digest and the row count still cover the whole table.
    """
    import functools
    import warnings

    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.pandas_dataset import PandasDataset
    from mlflow.types.utils import _infer_schema

    class SampledSchemaPandasDataset(PandasDataset):
        @functools.cached_property
        def schema(self) -> Any:
            # MLflow's hint about integer columns is advice for model signatures (serving
            # rejects a missing value in an int column); a dataset input's schema only records.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=r"Hint: Inferred schema contains integer")
                try:
                    return _infer_schema(self._df.head(SCHEMA_SAMPLE_ROWS))
                except Exception:  # as MLflow does: no schema rather than no record
                    return None

    # MLflow registers its local-file source twice (for the "" and "file" schemes), so every
    # local path "can be interpreted in multiple ways" by identical classes: nothing to choose.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"The specified dataset source can be interp")
        resolved = resolve_dataset_source(source)
    return SampledSchemaPandasDataset(df=data, source=resolved, name=name, digest=digest)
