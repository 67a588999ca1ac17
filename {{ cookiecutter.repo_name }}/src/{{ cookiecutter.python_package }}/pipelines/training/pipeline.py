"""Wiring of the training pipeline."""

from kedro.pipeline import Node, Pipeline

from ...decision import choose_decision
from ...serving import prepare_serving_model
from .nodes import (
    build_candidate_model,
    evaluate_model,
    plot_model_performance,
    prepare_model_for_mlflow,
    sample_for_modelling,
    split_data,
    train_model,
)


def create_pipeline(**kwargs: object) -> Pipeline:
    """Check the model configuration, split, fit, evaluate on held-out rows, log the model and
    the validating served model."""
    return Pipeline(
        [
            Node(
                func=build_candidate_model,
                inputs=["params:training", "params:dataset"],
                outputs="candidate_model",
                name="build_candidate_model",
            ),
            # All validated rows, or a seeded stratified sample (always collected from Spark).
            Node(
                func=sample_for_modelling,
                inputs=["validated_table", "params:training", "params:dataset"],
                outputs=["modelling_table", "modelling_sample_record"],
                name="sample_for_modelling",
            ),
            Node(
                func=split_data,
                inputs=["modelling_table", "params:training", "params:dataset"],
                outputs=["training_set", "held_out_set", "held_out_ids"],
                name="split_data",
            ),
            Node(
                func=train_model,
                inputs=["training_set", "candidate_model", "params:training", "params:dataset"],
                outputs="trained_model",
                name="train_model",
            ),
            # The decision threshold, chosen on the training rows by cross-validation
            # (training.decision); every later stage decides at it.
            Node(
                func=choose_decision,
                inputs=["candidate_model", "training_set", "params:training", "params:dataset"],
                outputs=["decision", "decision_choice_record"],
                name="choose_decision",
            ),
            Node(
                func=evaluate_model,
                inputs=[
                    "trained_model",
                    "training_set",
                    "held_out_set",
                    "decision",
                    "params:training",
                    "params:dataset",
                ],
                outputs=["test_metrics_record", "train_metrics_record"],
                name="evaluate_model",
            ),
            Node(
                func=plot_model_performance,
                inputs=[
                    "trained_model",
                    "held_out_set",
                    "decision",
                    "params:training",
                    "params:dataset",
                ],
                outputs="model_performance_plots",
                name="plot_model_performance",
            ),
            Node(
                func=prepare_model_for_mlflow,
                inputs=["trained_model", "held_out_set", "params:training", "params:dataset"],
                outputs="mlflow_model",
                name="log_model_to_mlflow",
            ),
            # What `mlflow models serve` serves: the logged model behind the batch's parsing
            # and row-level validation (serving.py).
            Node(
                func=prepare_serving_model,
                inputs=[
                    "mlflow_model",
                    "held_out_set",
                    "params:ingestion",
                    "params:validation",
                    "params:training",
                    "params:inference.keep_columns",
                    "params:dataset",
                    "decision",
                ],
                outputs="mlflow_serving_model",
                name="log_serving_model_to_mlflow",
            ),
        ],
        tags=["training"],
        namespace="training",
        prefix_datasets_with_namespace=False,
    )
