"""End-to-end: the default pipeline runs on the configured data and records one MLflow run."""

from pathlib import Path

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from {{ cookiecutter.python_package }}.groups import metric_safe
from {{ cookiecutter.python_package }}.modelling import feature_columns
from {{ cookiecutter.python_package }}.problem import problem_of

from .conftest import load_config

pytestmark = pytest.mark.slow


def test_default_pipeline_runs_and_is_tracked(project_copy: Path) -> None:
    import mlflow

    parameters = load_config(project_copy, "parameters")
    main = parameters["ingestion"]["main_source"]
    metadata = bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy) as session:
        session.run()

    experiment = mlflow.get_experiment_by_name(metadata.package_name)
    runs = mlflow.search_runs([experiment.experiment_id], output_format="list")
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert (
        run.data.metrics["ingestion.rows_primary"] == run.data.metrics[f"ingestion.rows_raw_{main}"]
    )
    assert (project_copy / "data" / "03_primary" / "primary_table.parquet").is_file()

    metrics = run.data.metrics
    assert metrics["validation.rows_in"] == metrics["ingestion.rows_primary"]
    assert metrics["validation.rows_in"] == (
        metrics["validation.rows_passed"] + metrics["validation.rows_quarantined"]
    )
    assert run.data.tags["gate.validation"] in {"pass", "warn"}
    assert (project_copy / "data" / "03_primary" / "validated_table.parquet").is_file()
    assert (project_copy / "data" / "08_reporting" / "validation" / "summary.json").is_file()
    assert run.data.tags["gate.benchmark"] in {"pass", "warn", "fail"}
    # the problem type's metrics (problem/): roc_auc for two classes, rmse for a number, ...
    problem = problem_of(parameters["dataset"])
    primary = problem.PRIMARY_METRIC
    logged = parameters["training"]["metrics"] or problem.DEFAULT_METRICS
    assert {f"test.{m}" for m in logged} - {"test.mape"} <= set(metrics)  # mape: no zero targets
    assert f"benchmark.candidate.{primary}_mean" in metrics
    assert run.data.tags["training.model_uri"].startswith("models:/")
    assert (project_copy / "data" / "08_reporting" / "benchmark" / "leaderboard.csv").is_file()
    assert run.data.tags["gate.fairness"] in {"pass", "warn", "fail"}
    for attribute in parameters["dataset"]["sensitive_attributes"]:
        assert any(m.startswith(f"fairness.{attribute}.") for m in metrics), attribute
    assert run.data.tags["promotion.status"] in {"promoted", "held_back"}
    assert (project_copy / "data" / "08_reporting" / "model_card.md").is_file()
    assert (project_copy / "data" / "08_reporting" / "fairness" / "fairness_report.json").is_file()
    # what drives the predictions (every model input) and where the model is wrong
    numeric, categorical = feature_columns(parameters["training"])
    for column in numeric + categorical:
        assert f"explain.importance.{metric_safe(column)}" in metrics, column
    assert 0 <= metrics["explain.errors.error_rate"] <= 1
    explanation = project_copy / "data" / "08_reporting" / "explanation"
    assert {"feature_importance.json", "error_cohorts.json", "permutation_importance.png"} <= {
        path.name for path in explanation.iterdir()
    }
    card = (project_copy / "data" / "08_reporting" / "model_card.md").read_text()
    assert "\n## What drives its predictions\n" in card and "\n## Where it is wrong\n" in card
