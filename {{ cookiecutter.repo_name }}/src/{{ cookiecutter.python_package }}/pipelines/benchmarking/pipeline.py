"""Wiring of the benchmarking pipeline."""

from kedro.pipeline import Node, Pipeline

from ...decision import assess_decision
from .nodes import (
    build_benchmark_models,
    compare_models,
    cross_validate_models,
    enforce_benchmark_gate,
    plot_fold_scores,
)


def create_pipeline(**kwargs: object) -> Pipeline:
    """Cross-validate candidate and baselines on shared folds, compare, report, apply the gate."""
    return Pipeline(
        [
            Node(
                func=build_benchmark_models,
                inputs=["params:training", "params:benchmarking", "params:dataset"],
                outputs=["benchmark_models", "benchmark_plan"],
                name="build_benchmark_models",
            ),
            Node(
                func=cross_validate_models,
                inputs=[
                    "training_set",
                    "benchmark_models",
                    "decision",
                    "params:training",
                    "benchmark_plan",
                ],
                outputs="benchmark_fold_scores",
                name="cross_validate_models",
            ),
            Node(
                func=compare_models,
                inputs=["benchmark_fold_scores", "benchmark_plan"],
                outputs=[
                    "leaderboard",
                    "leaderboard_report",
                    "benchmark_comparison",
                    "benchmark_record",
                ],
                name="compare_models",
            ),
            Node(
                func=plot_fold_scores,
                inputs=["benchmark_fold_scores", "benchmark_plan"],
                outputs="benchmark_fold_plot",
                name="plot_fold_scores",
            ),
            # What deciding at the chosen threshold is worth on the held-out rows, against
            # the baselines, acting on everyone and on no one; calibration beside it.
            Node(
                func=assess_decision,
                inputs=[
                    "trained_model",
                    "benchmark_models",
                    "training_set",
                    "held_out_set",
                    "decision",
                    "params:training",
                    "benchmark_plan",
                ],
                outputs=[
                    "decision_report",
                    "decision_record",
                    "calibration_record",
                    "decision_plots",
                ],
                name="assess_decision",
            ),
            Node(
                func=enforce_benchmark_gate,
                inputs=["benchmark_comparison", "benchmark_record", "benchmark_plan"],
                outputs="benchmark_verdict",
                name="enforce_benchmark_gate",
            ),
        ],
        tags=["benchmarking"],
        namespace="benchmarking",
        prefix_datasets_with_namespace=False,
    )
