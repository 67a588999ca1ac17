"""Helpers for the validation tests: the project's parameters, raw data and an in-process run."""

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from {{ cookiecutter.python_package }}.pipelines.ingestion import create_pipeline as ingestion
from {{ cookiecutter.python_package }}.pipelines.validation import create_pipeline as validation
from {{ cookiecutter.python_package }}.project_config import sources_of

from ...conftest import load_config

PROJECT_ROOT = Path(__file__).resolve().parents[3]


class KeptDataset(MemoryDataset):
    """A MemoryDataset the runner does not empty once no node needs it, to read it afterwards."""

    def _release(self) -> None:
        pass


@pytest.fixture(scope="session")
def parameters() -> dict[str, Any]:
    """The project's parameters (all parameters*.yml of conf/base and conf/local)."""
    return load_config(PROJECT_ROOT, "parameters")


def raw_datasets(parameters: dict[str, Any]) -> list[str]:
    """The configured sources' catalog entries, ``raw_<source>``."""
    return [f"raw_{source}" for source in sources_of(parameters["ingestion"]).all]


def load_raw(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, pd.DataFrame]:
    """The raw datasets of ``root``, read through the project's catalog entries."""
    monkeypatch.chdir(root)  # catalog paths are relative to the project root
    config = load_config(root, "catalog")
    names = raw_datasets(load_config(root, "parameters"))
    catalog = DataCatalog.from_config({name: config[name] for name in names})
    return {name: catalog.load(name) for name in names}


OUTPUTS = {
    "primary": "primary_table",
    "plan": "validation_plan",
    "passed": "validated_table",
    "quarantined": "quarantined_rows",
    "summary": "validation_summary",
    "record": "validation_record",
}


def run_validation(raw: dict[str, pd.DataFrame], parameters: dict[str, Any]) -> dict[str, Any]:
    """The configured ingestion and validation pipelines, in process and without MLflow.

    Returns their outputs by short name, and ``results``: each suite's result (main source
    first, the primary table last).
    """
    sources = sources_of(parameters["ingestion"])
    pipeline = ingestion(sources) + validation(sources)
    datasets = [*(f"raw_{s}" for s in sources.all), "primary_table"]
    kept = [*OUTPUTS.values(), *(f"{d}_validation" for d in datasets)]
    catalog = DataCatalog(
        datasets={
            **{name: MemoryDataset(data) for name, data in raw.items()},
            **{
                f"params:{key}": MemoryDataset(parameters[key])
                for key in ("ingestion", "validation", "dataset")
            },
            **{name: KeptDataset() for name in kept},
        }
    )
    SequentialRunner().run(pipeline, catalog)
    outputs = {short: catalog.load(name) for short, name in OUTPUTS.items()}
    outputs["results"] = [catalog.load(f"{d}_validation") for d in datasets]
    return outputs
