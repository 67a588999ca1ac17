"""Wiring of the fairness review: proxies, metrics by group, mitigation, report, gate."""

from kedro.pipeline import Node, Pipeline

from .assessment import assess_fairness, enforce_fairness_gate
from .mitigation import mitigate
from .plan import check_fairness_config
from .proxies import detect_proxies
from .report import plot_fairness, write_fairness_report


def create_pipeline(**kwargs: object) -> Pipeline:
    """Review the held-out predictions by group, report, then gate."""
    return Pipeline(
        [
            # Depends on parameters only: a bad key stops the run before any data is read.
            Node(
                func=check_fairness_config,
                inputs=["params:fairness_review", "params:training", "params:dataset"],
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
                inputs=[
                    "trained_model",
                    "held_out_set",
                    "proxy_report",
                    "fairness_plan",
                    "decision",
                    "params:dataset",
                ],
                outputs=["fairness_report", "fairness_record"],
                name="assess_fairness",
            ),
            Node(
                func=mitigate,
                inputs=[
                    "trained_model",
                    "training_set",
                    "held_out_set",
                    "fairness_plan",
                    "decision",
                    "params:dataset",
                ],
                outputs=["fairness_mitigation", "fairness_mitigation_record"],
                name="mitigate",
            ),
            Node(
                func=write_fairness_report,
                inputs=[
                    "fairness_report",
                    "fairness_mitigation",
                    "fairness_plan",
                    "params:dataset",
                ],
                outputs="fairness_report_markdown",
                name="write_fairness_report",
            ),
            Node(
                func=plot_fairness,
                inputs=["fairness_report", "params:dataset"],
                outputs="fairness_plots",
                name="plot_fairness",
            ),
            Node(
                func=enforce_fairness_gate,
                inputs=["fairness_report", "fairness_record", "fairness_plan"],
                outputs="fairness_verdict",
                name="enforce_fairness_gate",
            ),
        ],
        tags=["fairness_review"],
        namespace="fairness_review",
        prefix_datasets_with_namespace=False,
    )
