"""Helpers for the validation tests: the project's parameters, raw data and an in-process run."""

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog

from {{ cookiecutter.python_package }}.pipelines.ingestion import nodes as ingestion
from {{ cookiecutter.python_package }}.pipelines.validation import nodes

PROJECT_ROOT = Path(__file__).resolve().parents[3]
RAW_DATASETS = ("raw_applications", "raw_bureau_records")


def load_config(root: Path, key: str) -> dict[str, Any]:
    loader = OmegaConfigLoader(
        conf_source=str(root / "conf"), base_env="base", default_run_env="local"
    )
    return loader[key]


@pytest.fixture(scope="session")
def parameters() -> dict[str, Any]:
    """The project's parameters (all parameters*.yml of conf/base and conf/local)."""
    return load_config(PROJECT_ROOT, "parameters")


def load_raw(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, pd.DataFrame]:
    """The raw datasets of ``root``, read through the project's catalog entries."""
    monkeypatch.chdir(root)  # catalog paths are relative to the project root
    config = load_config(root, "catalog")
    catalog = DataCatalog.from_config({name: config[name] for name in RAW_DATASETS})
    return {name: catalog.load(name) for name in RAW_DATASETS}


def run_validation(raw: dict[str, pd.DataFrame], parameters: dict[str, Any]) -> dict[str, Any]:
    """Ingestion then validation nodes, in process and without MLflow; every output by name."""
    plan = nodes.check_validation_config(parameters["validation"], parameters["ingestion"])
    summary, _ = ingestion.summarise_bureau_records(
        raw["raw_bureau_records"], parameters["ingestion"]
    )
    primary, _ = ingestion.build_primary_table(
        raw["raw_applications"], summary, parameters["ingestion"]
    )
    results = [
        nodes.validate_raw_applications(raw["raw_applications"], plan)[0],
        nodes.validate_raw_bureau_records(raw["raw_bureau_records"], plan)[0],
        nodes.validate_primary_applications(primary, plan)[0],
    ]
    passed, quarantined, report, record = nodes.quarantine_rows(primary, *results, plan)
    return {
        "plan": plan,
        "primary": primary,
        "results": results,
        "passed": passed,
        "quarantined": quarantined,
        "summary": report,
        "record": record,
    }
