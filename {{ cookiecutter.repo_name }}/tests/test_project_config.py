"""Building pipelines reads the sources from the YAML as written, as Kedro's loader would."""

from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.python_package }} import project_config
from {{ cookiecutter.python_package }}.project_config import Sources

CONF = Path(__file__).resolve().parents[1] / "conf"


def _conf(tmp_path: Path, ingestion: object, local: dict | None = None) -> str:
    """A conf folder with the project's parameters and ``ingestion`` replaced."""
    conf = tmp_path / "conf"
    (conf / "local").mkdir(parents=True)
    (conf / "base").mkdir()
    for path in (CONF / "base").glob("parameters*.yml"):
        content = yaml.safe_load(path.read_text()) or {}
        if "ingestion" in content:
            content["ingestion"] = ingestion
        (conf / "base" / path.name).write_text(yaml.safe_dump(content))
    (conf / "base" / "globals.yml").write_text((CONF / "base" / "globals.yml").read_text())
    if local is not None:
        (conf / "local" / "parameters_override.yml").write_text(yaml.safe_dump(local))
    return str(conf)


def _both(conf: str) -> tuple[Sources | None, Sources]:
    project_config._plain_sources.cache_clear()
    project_config._parameters.cache_clear()
    loaded = project_config._parameters(conf, None)["ingestion"]
    return project_config._plain_sources(conf, None), project_config.sources_of(loaded)


def test_the_projects_sources_read_as_written_equal_kedros_loader() -> None:
    plain, loaded = _both(str(CONF))
    assert plain is not None
    assert plain == loaded


def test_other_sources_are_read_as_written_too(tmp_path: Path) -> None:
    written = yaml.safe_load((CONF / "base" / "parameters_ingestion.yml").read_text())
    ingestion = {**written["ingestion"], "main_source": "members", "related_sources": {}}
    plain, loaded = _both(_conf(tmp_path, ingestion))
    assert plain == loaded == Sources(main="members", related=())


@pytest.mark.parametrize(
    ("main_source", "local"),
    [
        ("${globals:seed}", None),  # an interpolation: only Kedro's loader can resolve it
        ("members", {"ingestion": {"main_source": "visits", "related_sources": {}}}),
    ],
    ids=["interpolated", "overridden in local"],
)
def test_kedros_loader_decides_where_the_yaml_is_not_plain(
    tmp_path: Path, main_source: str, local: dict | None
) -> None:
    written = yaml.safe_load((CONF / "base" / "parameters_ingestion.yml").read_text())
    ingestion = {**written["ingestion"], "main_source": main_source, "related_sources": {}}
    conf = _conf(tmp_path, ingestion, local)
    project_config._plain_sources.cache_clear()
    assert project_config._plain_sources(conf, None) is None
    if local is not None:
        assert project_config.sources_of(
            project_config._parameters(conf, None)["ingestion"]
        ) == Sources(main="visits", related=())
