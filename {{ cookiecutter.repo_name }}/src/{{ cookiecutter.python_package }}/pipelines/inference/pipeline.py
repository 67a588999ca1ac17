"""Wiring of the inference pipeline (not in ``__default__``: run it with ``--pipelines``)."""

from kedro.pipeline import Node, Pipeline

from ..ingestion.nodes import build_primary_table, summarise_bureau_records
from ..validation.nodes import check_validation_config
from .nodes import check_inference_config, resolve_model, score_batch, validate_batch


def create_pipeline(**kwargs: object) -> Pipeline:
    """Ingest and validate a scoring batch as the training data was, pick the model, score."""
    return Pipeline(
        [
            Node(
                func=check_inference_config,
                inputs="params:inference",
                outputs="inference_settings",
                name="check_inference_config",
            ),
            Node(
                func=check_validation_config,
                inputs=["params:validation", "params:ingestion"],
                outputs="scoring_validation_plan",
                name="check_scoring_validation_config",
            ),
            Node(
                func=summarise_bureau_records,
                inputs=["scoring_bureau_records", "params:ingestion"],
                outputs=["scoring_bureau_summary", "scoring_bureau_ingestion_record"],
                name="summarise_scoring_bureau_records",
            ),
            Node(
                func=build_primary_table,
                inputs=["scoring_applications", "scoring_bureau_summary", "params:ingestion"],
                outputs=["scoring_primary", "scoring_ingestion_record"],
                name="build_scoring_primary_table",
            ),
            Node(
                func=validate_batch,
                inputs=[
                    "scoring_applications",
                    "scoring_bureau_records",
                    "scoring_primary",
                    "scoring_validation_plan",
                ],
                outputs=["scoring_batch", "scoring_quarantined_rows", "scoring_validation_record"],
                name="validate_scoring_batch",
            ),
            Node(
                func=resolve_model,
                inputs="inference_settings",
                outputs="scoring_model_info",
                name="resolve_scoring_model",
            ),
            Node(
                func=score_batch,
                inputs=[
                    "scoring_batch",
                    "scoring_model_info",
                    "params:training",
                    "inference_settings",
                ],
                outputs=["batch_predictions", "inference_record"],
                name="score_batch",
            ),
        ],
        tags=["inference"],
    )
