"""Expected failures: each says what is wrong and which file or key to fix."""


class ProjectError(Exception):
    """A failure the user can fix (bad data, configuration or gate); shown without a traceback."""


class ConfigError(ProjectError):
    """A configuration key is missing or wrong; raised before any data is read."""


class DataError(ProjectError):
    """A data file is missing, unreadable or malformed."""


class GateFailed(ProjectError):
    """A quality gate (validation, benchmark, fairness) failed with ``on_fail: stop``."""


def check_keys(params: object, keys: tuple[str, ...], section: str, parameters_file: str) -> None:
    """Refuse a section that is not a mapping, or has an unknown or a missing key.

    Every default is written in the parameter file, so code never supplies a second one: a key
    that is missing is an error naming it, not a silent default.
    """
    if not isinstance(params, dict):
        raise ConfigError(f"{section} in {parameters_file} must be a mapping with {list(keys)}.")
    unknown = sorted(set(params) - set(keys))
    if unknown:
        raise ConfigError(
            f"{section}.{unknown[0]} in {parameters_file} is not a key; use {list(keys)}."
        )
    missing = [key for key in keys if key not in params]
    if missing:
        raise ConfigError(f"{section}.{missing[0]} in {parameters_file} is missing.")
