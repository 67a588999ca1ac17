"""Wiring of the inference pipeline (not in ``__default__``: run it with ``--pipelines``).

A scoring batch goes through the ingestion and validation pipelines themselves, under the
namespace ``scoring`` with the batch's datasets mapped in, so scoring and training cannot drift
apart: same parsing, same suites, same quarantine. A batch may come without its target column
(its labels arrive later: the ``labels`` pipeline): it is then validated with the training suites
minus every expectation on the target.
"""

from kedro.pipeline import Node, Pipeline

from ...project_config import Sources, configured_sources
from ..ingestion import create_pipeline as ingestion_pipeline
from ..validation import create_pipeline as validation_pipeline
from .nodes import check_inference_config, resolve_model, score_batch

NAMESPACE = "scoring"


def batch_intake(sources: Sources) -> Pipeline:
    """Ingestion and validation of a batch: ``scoring_raw_<source>`` in, ``scoring_batch`` out."""
    return Pipeline(
        ingestion_pipeline(sources, target_optional=True)
        + validation_pipeline(sources, target_optional=True),
        namespace=NAMESPACE,
        inputs={f"raw_{source}": f"scoring_raw_{source}" for source in sources.all},
        outputs={
            "validated_table": "scoring_batch",
            "quarantined_rows": "scoring_quarantined_rows",
            "validation_record": "scoring_validation_record",
        },
        parameters={
            "params:dataset": "params:dataset",
            "params:ingestion": "params:ingestion",
            "params:validation": "params:validation",
        },
    )


def create_pipeline(sources: Sources | None = None, **kwargs: object) -> Pipeline:
    """Ingest and validate a scoring batch as the training data was, pick the model, score."""
    sources = sources or configured_sources()
    return batch_intake(sources) + Pipeline(
        [
            Node(
                func=check_inference_config,
                inputs="params:inference",
                outputs="inference_settings",
                name="check_inference_config",
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
                    "params:dataset",
                    "inference_settings",
                ],
                outputs=["batch_predictions", "inference_record"],
                name="score_batch",
            ),
        ],
        tags=["inference"],
        namespace="inference",
        prefix_datasets_with_namespace=False,
    )
