"""Wiring of the explanation: what drives the predictions and where the model is wrong."""

from kedro.pipeline import Node, Pipeline

from .cohorts import analyse_errors
from .importance import explanation_rows, measure_importance, plot_explanation
from .plan import check_explanation_config


def create_pipeline(**kwargs: object) -> Pipeline:
    """Importance, partial dependence and error cohorts of the trained model, held-out rows."""
    return Pipeline(
        [
            # Depends on parameters only: a bad key stops the run before any data is read.
            Node(
                func=check_explanation_config,
                inputs=["params:explanation", "params:dataset"],
                outputs="explanation_plan",
                name="check_explanation_config",
            ),
            Node(
                func=explanation_rows,
                inputs=["held_out_set", "explanation_plan"],
                outputs="explanation_rows",
                name="explanation_rows",
            ),
            Node(
                func=measure_importance,
                inputs=[
                    "trained_model",
                    "explanation_rows",
                    "explanation_plan",
                    "decision",
                    "params:training",
                    "params:dataset",
                ],
                outputs=["feature_importance", "importance_record"],
                name="measure_importance",
            ),
            Node(
                func=plot_explanation,
                inputs={
                    "trained_model": "trained_model",
                    "rows": "explanation_rows",
                    "importance": "feature_importance",
                    "plan": "explanation_plan",
                    "decision": "decision",
                    "training": "params:training",
                    "dataset": "params:dataset",
                },
                outputs="explanation_plots",
                name="plot_explanation",
            ),
            Node(
                func=analyse_errors,
                inputs=[
                    "trained_model",
                    "explanation_rows",
                    "explanation_plan",
                    "decision",
                    "params:training",
                    "params:dataset",
                ],
                outputs=["error_cohorts", "error_analysis_record"],
                name="analyse_errors",
            ),
        ],
        tags=["explanation"],
        namespace="explanation",
        prefix_datasets_with_namespace=False,
    )
