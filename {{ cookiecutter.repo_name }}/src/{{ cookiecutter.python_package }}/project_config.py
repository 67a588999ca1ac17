"""The project's configuration as pipelines are built: which sources there are.

Kedro builds pipelines before a run has loaded its configuration, but the ingestion and
validation pipelines have one node per configured source. This module reads
``parameters_ingestion.yml`` (base, then the environment in ``KEDRO_ENV`` or ``local``) with
Kedro's own config loader, so adding or removing a source is a change to ``conf/`` only.
"""

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .errors import ConfigError

INGESTION_PARAMETERS = "conf/base/parameters_ingestion.yml"


@dataclass(frozen=True)
class Sources:
    """The main source and the related sources, by name (catalog entries ``raw_<name>``)."""

    main: str
    related: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return (self.main, *self.related)


def conf_source() -> Path:
    """The project's ``conf`` folder: under the working directory, as ``kedro`` commands run."""
    from kedro.framework.project import settings

    here = Path.cwd() / settings.CONF_SOURCE
    if here.is_dir():
        return here
    from .tracking import project_root

    return project_root() / settings.CONF_SOURCE


@cache
def _parameters(conf: str, env: str | None) -> dict[str, Any]:
    from kedro.config import OmegaConfigLoader

    loader = OmegaConfigLoader(conf_source=conf, base_env="base", default_run_env="local", env=env)
    return loader["parameters"]


def parameters() -> dict[str, Any]:
    """All parameters, resolved (interpolations included), as the run will see them."""
    return _parameters(str(conf_source()), os.environ.get("KEDRO_ENV"))


def sources_of(ingestion: Any) -> Sources:
    """The sources named by ``ingestion`` parameters, or a ConfigError naming the key."""
    if not isinstance(ingestion, dict):
        raise ConfigError(f"{INGESTION_PARAMETERS} must define the mapping 'ingestion'.")
    main = ingestion.get("main_source")
    if not isinstance(main, str) or not main:
        raise ConfigError(
            f"ingestion.main_source in {INGESTION_PARAMETERS} is {main!r}; name the main "
            "source (its catalog entry is raw_<main_source>)."
        )
    related = ingestion.get("related_sources") or {}
    if not isinstance(related, dict):
        raise ConfigError(
            f"ingestion.related_sources in {INGESTION_PARAMETERS} must map source names to "
            "{key, aggregations}; use {} for none."
        )
    if main in related:
        raise ConfigError(
            f"ingestion.related_sources.{main} in {INGESTION_PARAMETERS}: the main source "
            "cannot also be a related source."
        )
    return Sources(main=main, related=tuple(related))


def configured_sources() -> Sources:
    """The sources of the project's configuration (for building pipelines)."""
    return sources_of(parameters().get("ingestion"))
