"""Expected failures: each says what is wrong and which file or key to fix."""


class ProjectError(Exception):
    """A failure the user can fix (bad data, configuration or gate); shown without a traceback."""


class ConfigError(ProjectError):
    """A configuration key is missing or wrong; raised before any data is read."""


class DataError(ProjectError):
    """A data file is missing, unreadable or malformed."""


class GateFailed(ProjectError):
    """A quality gate (validation, benchmark, fairness) failed with ``on_fail: stop``."""
