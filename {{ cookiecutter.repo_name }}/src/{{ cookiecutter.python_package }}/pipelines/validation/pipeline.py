"""Wiring of the validation pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    check_validation_config,
    enforce_validation_gate,
    quarantine_rows,
    validate_primary_applications,
    validate_raw_applications,
    validate_raw_bureau_records,
)


def create_pipeline(**kwargs: object) -> Pipeline:
    """Check the suites (before any data is read), run them, quarantine, then gate the run."""
    return Pipeline(
        [
            # Depends on parameters only and sorts first: a bad config stops the run early.
            Node(
                func=check_validation_config,
                inputs=["params:validation", "params:ingestion"],
                outputs="validation_plan",
                name="check_validation_config",
            ),
            Node(
                func=validate_raw_applications,
                inputs=["raw_applications", "validation_plan"],
                outputs=["raw_applications_validation", "raw_applications_validation_report"],
                name="validate_raw_applications",
            ),
            Node(
                func=validate_raw_bureau_records,
                inputs=["raw_bureau_records", "validation_plan"],
                outputs=["raw_bureau_records_validation", "raw_bureau_records_validation_report"],
                name="validate_raw_bureau_records",
            ),
            Node(
                func=validate_primary_applications,
                inputs=["primary_applications", "validation_plan"],
                outputs=[
                    "primary_applications_validation",
                    "primary_applications_validation_report",
                ],
                name="validate_primary_applications",
            ),
            Node(
                func=quarantine_rows,
                inputs=[
                    "primary_applications",
                    "raw_applications_validation",
                    "raw_bureau_records_validation",
                    "primary_applications_validation",
                    "validation_plan",
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
                outputs="validated_applications",
                name="enforce_validation_gate",
            ),
        ],
        tags=["validation"],
    )
