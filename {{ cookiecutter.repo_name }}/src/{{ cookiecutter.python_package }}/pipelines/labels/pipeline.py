"""Wiring of the labels pipeline (not in ``__default__``: run it with ``--pipelines``).

``kedro run --pipelines labels --params batch=<name>`` after the batch was scored
(``inference``) and monitored (``monitoring``): its labels are joined to the stored predictions
and the performance decay and per-group error rates go to the batch's monitoring run.
"""

from kedro.pipeline import Node, Pipeline

from ..monitoring.dashboard import build_dashboard
from .nodes import (
    assess_labels,
    find_monitoring_run,
    join_labels,
    raise_labels_alert,
    update_monitoring_run,
)
from .plan import check_labels_config


def create_pipeline(**kwargs: object) -> Pipeline:
    """Check the plan, find the batch's monitoring run, join, assess, alert, record, redraw."""
    return Pipeline(
        [
            Node(
                func=check_labels_config,
                inputs=["params:labels", "params:dataset"],
                outputs="labels_plan",
                name="check_labels_config",
            ),
            Node(
                func=find_monitoring_run,
                inputs="labels_plan",
                outputs="labels_monitoring_target",
                name="find_monitoring_run",
            ),
            Node(
                func=join_labels,
                inputs=[
                    "batch_labels",
                    "batch_predictions",
                    "scoring_batch",
                    "scoring_quarantined_rows",
                    "labels_plan",
                ],
                outputs=["labelled_predictions", "labels_accounting"],
                name="join_labels",
            ),
            Node(
                func=assess_labels,
                inputs=["labelled_predictions", "labels_accounting", "labels_plan"],
                outputs="labels_assessment",
                name="assess_labels",
            ),
            Node(
                func=raise_labels_alert,
                inputs=["labels_assessment", "labels_plan"],
                outputs=["labels_report", "labels_record"],
                name="raise_labels_alert",
            ),
            Node(
                func=update_monitoring_run,
                inputs=["labels_report", "labels_record", "labels_monitoring_target"],
                outputs="labels_monitoring_run",
                name="update_monitoring_run",
            ),
            # The monitoring dashboard again, now with this batch's performance and error rates.
            Node(
                func=build_dashboard,
                inputs=[
                    "monitoring_history",
                    "params:monitoring",
                    "params:dataset",
                    "labels_monitoring_run",
                ],
                outputs="monitoring_dashboard",
                name="build_dashboard",
            ),
        ],
        tags=["labels"],
        namespace="labels",
        prefix_datasets_with_namespace=False,
    )
