"""Wiring of the ingestion pipeline: one node per related source, then the primary table."""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from ...project_config import Sources, configured_sources
from .nodes import build_primary_table, check_ingestion_config, summarise_related_source


def summarise_node(source: str) -> Node:
    """The node that summarises related source ``source`` per key."""
    func = update_wrapper(
        partial(summarise_related_source, source=source), summarise_related_source
    )
    return Node(
        func=func,
        inputs=[f"raw_{source}", "ingestion_plan"],
        outputs=[f"{source}_by_key", f"{source}_ingestion_record"],
        name=f"summarise_{source}",
    )


def create_pipeline(
    sources: Sources | None = None, target_optional: bool = False, **kwargs: object
) -> Pipeline:
    """Summarise each related source per key, then build the typed primary table.

    ``target_optional`` (scoring): a main source without the target column is read without it.
    """
    sources = sources or configured_sources()
    check = update_wrapper(
        partial(check_ingestion_config, target_optional=target_optional), check_ingestion_config
    )
    return Pipeline(
        [
            # Depends on parameters only: every node that reads data runs after it.
            Node(
                func=check,
                inputs=["params:ingestion", "params:dataset"],
                outputs="ingestion_plan",
                name="check_ingestion_config",
            ),
            *(summarise_node(source) for source in sources.related),
            Node(
                func=build_primary_table,
                inputs=[
                    f"raw_{sources.main}",
                    "ingestion_plan",
                    *(f"{source}_by_key" for source in sources.related),
                ],
                outputs=["primary_table", f"{sources.main}_ingestion_record"],
                name="build_primary_table",
            ),
        ],
        tags=["ingestion"],
        namespace="ingestion",
        prefix_datasets_with_namespace=False,
    )
