"""Wiring of the ingestion pipeline."""

from kedro.pipeline import Node, Pipeline

from .nodes import build_primary_table, summarise_bureau_records


def create_pipeline(**kwargs: object) -> Pipeline:
    """Summarise bureau records per applicant, then join them onto the typed applications."""
    return Pipeline(
        [
            Node(
                func=summarise_bureau_records,
                inputs=["raw_bureau_records", "params:ingestion"],
                outputs=["bureau_summary", "bureau_ingestion_record"],
                name="summarise_bureau_records",
            ),
            Node(
                func=build_primary_table,
                inputs=["raw_applications", "bureau_summary", "params:ingestion"],
                outputs=["primary_applications", "applications_ingestion_record"],
                name="build_primary_table",
            ),
        ],
        tags=["ingestion"],
    )
