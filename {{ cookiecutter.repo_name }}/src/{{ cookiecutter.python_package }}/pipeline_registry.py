"""Project pipelines: every folder in ``pipelines/`` is found and registered by its name."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# Pipelines that run on their own (e.g. scoring new batches), not in the end-to-end flow.
NOT_IN_DEFAULT: set[str] = {"inference", "monitoring", "labels"}


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines; ``__default__`` is the end-to-end flow."""
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(
        (pipe for name, pipe in pipelines.items() if name not in NOT_IN_DEFAULT),
        start=Pipeline([]),
    )
    return pipelines
