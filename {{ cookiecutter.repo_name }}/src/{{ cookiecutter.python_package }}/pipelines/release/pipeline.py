"""Wiring of the release: check its configuration, compare with the champion, write the model
card, then promote."""

from kedro.pipeline import Node, Pipeline

from .champion import compare_with_champion
from .model_card import build_model_card
from .plan import check_release_config
from .promotion import promote_model


def create_pipeline(**kwargs: object) -> Pipeline:
    """The model card from every stage's results; promotion last, after every gate."""
    return Pipeline(
        [
            # Depends on parameters only: a bad key stops the run before any data is read.
            Node(
                func=check_release_config,
                inputs=["params:promotion", "params:ethics_checklist"],
                outputs="release_plan",
                name="check_release_config",
            ),
            # The run's model against the approved one (alias promotion.champion.alias).
            Node(
                func=compare_with_champion,
                inputs=[
                    "trained_model",
                    "held_out_set",
                    "decision",
                    "params:training",
                    "params:dataset",
                    "release_plan",
                ],
                outputs=["champion_record", "champion_comparison", "champion_verdict"],
                name="compare_with_champion",
            ),
            Node(
                func=build_model_card,
                inputs={
                    "template": "model_card_template",
                    "fairness_report": "fairness_report",
                    "mitigation": "fairness_mitigation",
                    "validation_summary": "validation_summary",
                    "validation_record": "validation_record",
                    "leaderboard": "leaderboard",
                    "benchmark_comparison": "benchmark_comparison",
                    "benchmark_record": "benchmark_record",
                    "test_metrics_record": "test_metrics_record",
                    "fairness_record": "fairness_record",
                    "training_set": "training_set",
                    "held_out_set": "held_out_set",
                    "modelling_sample_record": "modelling_sample_record",
                    "feature_importance": "feature_importance",
                    "error_cohorts": "error_cohorts",
                    "decision": "decision",
                    "decision_report": "decision_report",
                    "training": "params:training",
                    "plan": "release_plan",
                    "dataset": "params:dataset",
                    "champion_comparison": "champion_comparison",
                },
                outputs="model_card",
                name="build_model_card",
            ),
            # Last: after every gate (their verdicts) and after the model is logged.
            Node(
                func=promote_model,
                inputs=[
                    "model_card",
                    "fairness_verdict",
                    "benchmark_verdict",
                    "champion_verdict",
                    "validated_table",
                    "mlflow_model",
                    "release_plan",
                ],
                outputs="promotion_record",
                name="promote_model",
            ),
        ],
        tags=["release"],
        namespace="release",
        prefix_datasets_with_namespace=False,
    )
