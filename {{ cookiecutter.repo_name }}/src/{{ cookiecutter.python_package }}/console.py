"""A console a person can read: libraries speak through conf/logging.yml, not around it.

- MLflow installs its own stderr handler at INFO on its loggers when it is imported, which
  kedro-mlflow's CLI plugin does after Kedro has applied ``conf/logging.yml``: its INFO lines
  ("Detected uv project", ...) then bypass that file. ``hand_back_library_loggers`` gives those
  loggers back to ``conf/logging.yml``: by default WARNING; set e.g. ``mlflow: {level: INFO}``
  there to see them again.
- Progress bars follow the library's logger: ``show_progress_bars("great_expectations")`` is True
  only when that logger is at INFO or below in ``conf/logging.yml``.
- ``filter_third_party_warnings`` hides one warning that is not the project's to fix: OmegaConf's
  ``register_new_resolver()`` deprecation, raised where Kedro and kedro-mlflow register their own
  resolvers. The project registers its resolvers with the current API (see settings.py).
"""

import logging
import warnings

# Loggers that a library configures itself on import (own handler, no propagation).
SELF_CONFIGURED_LOGGERS = ("mlflow", "alembic", "sqlalchemy.engine", "huey")
DEFAULT_LIBRARY_LEVEL = "WARNING"


def hand_back_library_loggers() -> None:
    """Make library loggers follow conf/logging.yml again, whatever they set on import.

    Levels named in conf/logging.yml win (kedro-mlflow sets its own logger to INFO on import);
    the loggers MLflow gives its own handler propagate to the project's handlers instead, at
    WARNING unless conf/logging.yml names them. MLflow's artifact download bars follow the
    ``mlflow`` logger, as Great Expectations' bars follow ``great_expectations``.
    """
    import os

    from kedro.framework.project import LOGGING

    configured = (LOGGING.data or {}).get("loggers") or {}
    for name, config in configured.items():
        if isinstance(config, dict) and "level" in config:
            logging.getLogger(name).setLevel(config["level"])
    for name in SELF_CONFIGURED_LOGGERS:
        library_logger = logging.getLogger(name)
        if library_logger.propagate and not library_logger.handlers:
            continue  # already follows the project's configuration
        library_logger.handlers = []
        library_logger.propagate = True
        library_logger.setLevel((configured.get(name) or {}).get("level", DEFAULT_LIBRARY_LEVEL))
    bars = "true" if show_progress_bars("mlflow") else "false"
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", bars)


def show_progress_bars(library: str) -> bool:
    """Whether ``library`` may draw progress bars: its logger is at INFO or below."""
    return logging.getLogger(library).isEnabledFor(logging.INFO)


def filter_third_party_warnings() -> None:
    """Hide OmegaConf's resolver-API deprecation where Kedro and kedro-mlflow trigger it."""
    warnings.filterwarnings(
        "ignore",
        message=r"register_new_resolver\(\) is deprecated",
        category=UserWarning,
        module=r"(kedro\.config|kedro_mlflow)(\.|$)",
    )
