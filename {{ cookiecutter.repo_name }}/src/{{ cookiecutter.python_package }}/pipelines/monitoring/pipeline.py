"""Wiring of the monitoring pipeline (not in ``__default__``: run it with ``--pipelines``)."""

from kedro.pipeline import Node, Pipeline

from .alerts import raise_alert
from .assessment import enforce_monitoring_gate
from .dashboard import build_dashboard
from .engines import assess_batch
from .plan import check_monitoring_config
from .report import publish_monitoring_run


def create_pipeline(**kwargs: object) -> Pipeline:
    """Compare a scored batch with the training reference, alert, record the monitoring run."""
    return Pipeline(
        [
            Node(
                func=check_monitoring_config,
                inputs=["params:monitoring", "params:dataset"],
                outputs="monitoring_plan",
                name="check_monitoring_config",
            ),
            Node(
                func=assess_batch,
                inputs=[
                    "training_set",
                    "scoring_batch",
                    "batch_predictions",
                    "params:training",
                    "monitoring_plan",
                ],
                outputs="drift_report",
                name="assess_batch",
            ),
            Node(
                func=raise_alert,
                inputs=["drift_report", "monitoring_plan"],
                outputs=["monitoring_alert", "monitoring_record"],
                name="raise_alert",
            ),
            Node(
                func=publish_monitoring_run,
                inputs=["drift_report", "monitoring_alert", "monitoring_record", "monitoring_plan"],
                outputs=["monitoring_run", "drift_report_plot", "drift_report_html"],
                name="publish_monitoring_run",
            ),
            Node(
                func=enforce_monitoring_gate,
                inputs=["monitoring_alert", "monitoring_plan", "monitoring_run"],
                outputs="monitoring_verdict",
                name="enforce_monitoring_gate",
            ),
            Node(
                func=build_dashboard,
                inputs=[
                    "monitoring_history",
                    "monitoring_plan",
                    "params:dataset",
                    "monitoring_run",
                ],
                outputs="monitoring_dashboard",
                name="build_dashboard",
            ),
        ],
        tags=["monitoring"],
        namespace="monitoring",
        prefix_datasets_with_namespace=False,
    )
