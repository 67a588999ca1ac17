"""The project's configuration as pipelines are built: which sources there are.

Kedro builds pipelines before a run has loaded its configuration, but the ingestion and
validation pipelines have one node per configured source. This module reads
``parameters_ingestion.yml`` (base, then the run's environment: ``--env``, else ``KEDRO_ENV``,
else ``local``), so adding or removing a source is a change to ``conf/`` only. A Kedro session
tells it the environment (``hooks.ProjectHooks.after_context_created`` calls
:func:`use_environment` before the pipelines are first built); commands without a session
(``kedro registry list``) read ``KEDRO_ENV``.

The pipelines' shape needs two names only: ``ingestion.main_source`` and the keys of
``ingestion.related_sources``. Resolving all parameters with Kedro's config loader costs about
0.6 s on every ``kedro`` command that builds pipelines, so where those names are written
plainly in ``base`` (no ``${...}`` and no override in the environment) they are read from the
YAML as written; in every other case Kedro's loader decides, with its own errors.
"""

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .errors import ConfigError

INGESTION_PARAMETERS = "conf/base/parameters_ingestion.yml"
CONFIG_SUFFIXES = (".yml", ".yaml", ".json")
_session_environment: list[str | None] = []  # set by the running Kedro session, if any


def use_environment(env: str | None) -> None:
    """The Kedro environment of the running session (``--env``, else ``KEDRO_ENV``)."""
    _session_environment[:] = [env]


def environment() -> str | None:
    """The environment pipelines are built for: the session's, else ``KEDRO_ENV``."""
    if _session_environment and _session_environment[0]:
        return _session_environment[0]
    return os.environ.get("KEDRO_ENV")


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
    return _parameters(str(conf_source()), environment())


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


def _parameter_files(folder: Path) -> list[Path]:
    """Files Kedro's default patterns read as parameters (``parameters*``, ``**/parameters*``)."""
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and path.suffix in CONFIG_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and any(
            part.startswith("parameters") for part in (path.name, path.relative_to(folder).parts[0])
        )
    )


def _written_ingestion(folder: Path) -> list[Any]:
    """Every top-level ``ingestion`` mapping written in the folder's parameter files."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    found = []
    for path in _parameter_files(folder):
        content = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        if isinstance(content, dict) and "ingestion" in content:
            found.append(content["ingestion"])
    return found


@cache
def _plain_sources(conf: str, env: str | None) -> Sources | None:
    """The sources as written in ``base``, or None where Kedro's loader has to decide."""
    from kedro.framework.project import settings

    loader_args = settings.CONFIG_LOADER_ARGS
    # Only a change to how *parameters* are found or merged needs Kedro's loader (settings.py
    # adds a pattern for spark.yml, which does not touch them).
    if (
        "parameters" in (loader_args.get("config_patterns") or {})
        or "merge_strategy" in loader_args
    ):
        return None
    try:
        base = _written_ingestion(Path(conf) / "base")
        overrides = _written_ingestion(Path(conf) / (env or "local"))
    except Exception:  # a syntax error: Kedro's loader names the file, line and column
        return None
    if len(base) != 1 or overrides or not isinstance(base[0], dict):
        return None
    ingestion = base[0]
    related = ingestion.get("related_sources") or {}
    if not isinstance(related, dict):
        return None
    names = [ingestion.get("main_source"), *related]
    if any(not isinstance(name, str) or "${" in name for name in names):
        return None
    return sources_of(ingestion)


def configured_sources() -> Sources:
    """The sources of the project's configuration (for building pipelines)."""
    conf, env = str(conf_source()), environment()
    return _plain_sources(conf, env) or sources_of(_parameters(conf, env).get("ingestion"))
