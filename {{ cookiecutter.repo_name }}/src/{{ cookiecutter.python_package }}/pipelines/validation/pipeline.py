"""Wiring of the validation pipeline: one suite node per configured dataset, then the gate."""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from ...project_config import Sources, configured_sources
from .nodes import (
    check_validation_config,
    enforce_validation_gate,
    quarantine_rows,
    validate_with_report,
)
from .suites import PRIMARY_TABLE


def validation_node(dataset: str) -> Node:
    """The node that runs ``dataset``'s suite and writes its result and report."""
    func = update_wrapper(partial(validate_with_report, dataset=dataset), validate_with_report)
    return Node(
        func=func,
        inputs=[dataset, "validation_plan"],
        outputs=[f"{dataset}_validation", f"{dataset}_validation_report"],
        name=f"validate_{dataset}",
    )


def create_pipeline(
    sources: Sources | None = None, target_optional: bool = False, **kwargs: object
) -> Pipeline:
    """Check the suites (before any data is read), run them, quarantine, then gate the run.

    ``target_optional`` (scoring): a batch without the target column is validated with the
    suites minus the target's expectations (``suites.without_target``).
    """
    sources = sources or configured_sources()
    check = update_wrapper(
        partial(check_validation_config, target_optional=target_optional),
        check_validation_config,
    )
    datasets = [*(f"raw_{source}" for source in sources.all), PRIMARY_TABLE]
    return Pipeline(
        [
            # Depends on parameters only: every node that reads data runs after it.
            Node(
                func=check,
                inputs=["params:validation", "params:ingestion", "params:dataset"],
                outputs="validation_plan",
                name="check_validation_config",
            ),
            *(validation_node(dataset) for dataset in datasets),
            Node(
                func=quarantine_rows,
                inputs=[
                    PRIMARY_TABLE,
                    "validation_plan",
                    *(f"{dataset}_validation" for dataset in datasets),
                ],
                outputs=[
                    "validation_passed_rows",
                    "quarantined_rows",
                    "validation_summary",
                    "validation_record",
                ],
                name="quarantine_rows",
            ),
            # The gate's output is what training reads, so nothing downstream runs before it.
            Node(
                func=enforce_validation_gate,
                inputs=[
                    "validation_passed_rows",
                    "validation_record",
                    "validation_summary",
                    "validation_plan",
                ],
                outputs="validated_table",
                name="enforce_validation_gate",
            ),
        ],
        tags=["validation"],
        namespace="validation",
        prefix_datasets_with_namespace=False,
    )
