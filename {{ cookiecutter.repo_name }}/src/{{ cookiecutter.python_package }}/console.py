"""A console a person can read: libraries speak through conf/logging.yml, not around it.

- MLflow installs its own stderr handler at INFO on its loggers when it is imported, which
  kedro-mlflow's CLI plugin does after Kedro has applied ``conf/logging.yml``: its INFO lines
  ("Detected uv project", ...) then bypass that file. ``hand_back_library_loggers`` gives those
  loggers back to ``conf/logging.yml``: by default WARNING; set e.g. ``mlflow: {level: INFO}``
  there to see them again.
- Progress bars follow the library's logger: ``show_progress_bars("great_expectations")`` is True
  only when that logger is at INFO or below in ``conf/logging.yml``.
- ``kedro run --verbose`` (``-v``) calls ``set_verbose``: for that run, every library logger
  (and the root logger) is at INFO at most, so their INFO lines and progress bars come back
  whatever ``conf/logging.yml`` says; the two floods in ``NOT_RAISED_BY_VERBOSE`` excepted.
- ``filter_third_party_warnings`` hides one warning that is not the project's to fix: OmegaConf's
  ``register_new_resolver()`` deprecation, raised where Kedro and kedro-mlflow register their own
  resolvers. The project registers its resolvers with the current API (see settings.py).
- MLflow's "Add type hints" warning about kedro-mlflow's own PythonModel, raised before the
  settings are read, is kept off by ``cli_hooks.py`` instead.
"""

import logging
import warnings

# Loggers that a library configures itself on import (own handler, no propagation).
SELF_CONFIGURED_LOGGERS = ("mlflow", "alembic", "sqlalchemy.engine", "huey")
DEFAULT_LIBRARY_LEVEL = "WARNING"
# Not raised by --verbose (unless conf/logging.yml names them): their INFO is a flood, not news.
# sqlalchemy.engine at INFO echoes every SQL statement of the tracking store (thousands a run);
# great_expectations._docs_decorators says "Skipping registering function" 200 times on import.
NOT_RAISED_BY_VERBOSE = ("sqlalchemy.engine", "great_expectations._docs_decorators")
_verbose = False  # set by `kedro run --verbose` for the run of this process


def set_verbose(enabled: bool = True) -> None:
    """``kedro run -v``: libraries speak at INFO (and draw progress bars) for this run.

    Applied now to the loggers already configured, and again by ``hand_back_library_loggers``
    once the session has configured logging and MLflow has taken its loggers over.
    """
    global _verbose  # noqa: PLW0603
    _verbose = enabled
    if enabled:
        _lower_to_info(logging.getLogger())
        for name in list(logging.getLogger().manager.loggerDict):
            _lower_to_info(logging.getLogger(name))
        _keep_floods_quiet({})


def _keep_floods_quiet(configured: dict) -> None:
    for name in NOT_RAISED_BY_VERBOSE:
        if "level" not in (configured.get(name) or {}):
            logging.getLogger(name).setLevel(DEFAULT_LIBRARY_LEVEL)


def _lower_to_info(logger: logging.Logger) -> None:
    if logger.level == logging.NOTSET and logger is not logging.getLogger():
        return  # follows its parent
    if logger.level > logging.INFO:
        logger.setLevel(logging.INFO)


def _level(name: str, configured: dict) -> str | int:
    """The level of library logger ``name``: conf/logging.yml's (WARNING if it names none)."""
    level = (configured.get(name) or {}).get("level", DEFAULT_LIBRARY_LEVEL)
    if name in NOT_RAISED_BY_VERBOSE:
        return level
    number = level if isinstance(level, int) else logging.getLevelName(str(level).upper())
    if _verbose and isinstance(number, int) and number > logging.INFO:
        return logging.INFO
    return level


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
            logging.getLogger(name).setLevel(_level(name, configured))
    for name in SELF_CONFIGURED_LOGGERS:
        library_logger = logging.getLogger(name)
        if library_logger.propagate and not library_logger.handlers:
            if _verbose:
                library_logger.setLevel(_level(name, configured))
            continue  # already follows the project's configuration
        library_logger.handlers = []
        library_logger.propagate = True
        library_logger.setLevel(_level(name, configured))
    if _verbose:
        _lower_to_info(logging.getLogger())
        _keep_floods_quiet(configured)
    bars = "true" if show_progress_bars("mlflow") else "false"
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", bars)


def show_progress_bars(library: str) -> bool:
    """Whether ``library`` may draw progress bars: its logger is at INFO or below."""
    return logging.getLogger(library).isEnabledFor(logging.INFO)


def filter_third_party_warnings() -> None:
    """Hide OmegaConf's resolver-API deprecation where Kedro and kedro-mlflow trigger it, and
    PySpark's notice that it does not test pandas 3 yet (the project checks what it uses)."""
    warnings.filterwarnings(
        "ignore",
        message=r"register_new_resolver\(\) is deprecated",
        category=UserWarning,
        module=r"(kedro\.config|kedro_mlflow)(\.|$)",
    )
    warnings.filterwarnings(
        "ignore",
        message=r"PySpark does not yet fully support pandas",
        category=FutureWarning,
    )
