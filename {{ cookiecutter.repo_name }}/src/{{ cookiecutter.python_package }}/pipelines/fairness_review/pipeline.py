"""Wiring of the fairness review, the model card and the promotion decision."""

from kedro.pipeline import Node, Pipeline

from .model_card import build_model_card
from .nodes import (
    assess_fairness,
    check_fairness_config,
    detect_proxies,
    enforce_fairness_gate,
    mitigate,
    plot_fairness,
    write_fairness_report,
)
from .promotion import promote_model


def create_pipeline(**kwargs: object) -> Pipeline:
    """Review the held-out predictions by group, gate, write the model card, then promote."""
    return Pipeline(
        [
            # Depends on parameters only: a bad key stops the run before any data is read.
            Node(
                func=check_fairness_config,
                inputs=["params:fairness_review", "params:training", "params:ethics_checklist"],
                outputs="fairness_plan",
                name="check_fairness_config",
            ),
            Node(
                func=detect_proxies,
                inputs=["training_set", "fairness_plan"],
                outputs="proxy_report",
                name="detect_proxies",
            ),
            Node(
                func=assess_fairness,
                inputs=["trained_model", "held_out_set", "proxy_report", "fairness_plan"],
                outputs=["fairness_report", "fairness_record"],
                name="assess_fairness",
            ),
            Node(
                func=mitigate,
                inputs=["trained_model", "training_set", "held_out_set", "fairness_plan"],
                outputs=["fairness_mitigation", "fairness_mitigation_record"],
                name="mitigate",
            ),
            Node(
                func=write_fairness_report,
                inputs=["fairness_report", "fairness_mitigation", "fairness_plan"],
                outputs="fairness_report_markdown",
                name="write_fairness_report",
            ),
            Node(
                func=plot_fairness,
                inputs="fairness_report",
                outputs="fairness_plots",
                name="plot_fairness",
            ),
            Node(
                func=enforce_fairness_gate,
                inputs=["fairness_report", "fairness_record", "fairness_plan"],
                outputs="fairness_verdict",
                name="enforce_fairness_gate",
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
                    "training": "params:training",
                    "ethics_checklist": "params:ethics_checklist",
                    "promotion": "params:promotion",
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
                    "validated_table",
                    "mlflow_model",
                    "params:promotion",
                ],
                outputs="promotion_record",
                name="promote_model",
            ),
        ],
        tags=["fairness_review"],
    )
