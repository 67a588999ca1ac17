"""Batch inference and monitoring on Spark give the pandas figures for the same model and batch.

The Spark run uses a real standalone cluster on 127.0.0.1 (fixture ``spark_cluster``). In a copy
of the default project with its MLflow store copied beside it (the model the default
``kedro run`` logged, so no training here, and the copy's runs never reach the store other tests
read), the ``drifted`` batch is scored and monitored once with pandas and once with
``--env spark`` (one ``kedro run`` each, both pipelines at once). Then:

- the predictions (a pandas Parquet file, a Spark Parquet folder) hold the same row ids, the
  same columns, the same model provenance, and probabilities within 1e-9;
- the drift reports agree: PSI of every input and of the predictions, the tests (chi-squared and
  the exact KS of Spark's counts), the group selection rates and counts, the verdicts; the mean
  probability within 1e-12 (Spark sums in another order).
"""

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import copy_of_default
from project import python_json

pytestmark = pytest.mark.slow

BATCH = "drifted"
TOLERANCE = 1e-9

READ_PREDICTIONS = r"""
import json, sys
import pandas as pd
pandas_rows = pd.read_parquet(sys.argv[1])
spark_rows = pd.read_parquet(sys.argv[2])  # the folder of part files Spark wrote
merged = pandas_rows.merge(spark_rows, on="source_row", suffixes=("_pandas", "_spark"))
provenance = ["applicant_id", "prediction", "decision_threshold", "model_uri", "model_source",
              "model_version", "model_run_id"]
print(json.dumps({
    "columns": [list(pandas_rows.columns), list(spark_rows.columns)],
    "rows": [len(pandas_rows), len(spark_rows), len(merged)],
    "ids": [sorted(pandas_rows["applicant_id"]) == sorted(spark_rows["applicant_id"])],
    "max_delta": float((merged["probability_pandas"] - merged["probability_spark"]).abs().max()),
    "differing": {c: int((merged[c + "_pandas"] != merged[c + "_spark"]).sum()) for c in provenance},
    "model_uri": sorted(set(spark_rows["model_uri"])),
}))
"""


def copy_store(source: Path, copy: Path) -> None:
    """The default project's MLflow store into the copy (sqlite's backup: a consistent copy)."""
    with sqlite3.connect(source / "mlflow.db") as origin, sqlite3.connect(copy / "mlflow.db") as to:
        origin.backup(to)
    if (source / "mlartifacts").is_dir():
        shutil.copytree(source / "mlartifacts", copy / "mlartifacts")


def test_spark_scoring_and_monitoring_match_pandas(spark_project, spark_cluster, tmp_path: Path) -> None:
    """The Spark run goes to a real standalone cluster (master and two workers on 127.0.0.1):
    the batch's ingestion, validation and scoring (the spark_udf on the workers' Python)."""
    copy, kedro_in_copy = copy_of_default(spark_project, tmp_path)
    spark_cluster.point_at(copy)
    copy_store(spark_project.root, copy)
    reference = "data/05_model_input/training_set.parquet"  # the monitoring reference
    shutil.copy2(spark_project.root / reference, copy / reference)
    report = copy / f"data/08_reporting/monitoring/{BATCH}/drift_report.json"
    pipelines, batch = "inference,monitoring", f"batch={BATCH}"

    done = kedro_in_copy("run", "--pipelines", pipelines, "--params", batch)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    pandas_report = json.loads(report.read_text())

    done = kedro_in_copy("run", "--env", "spark", "--pipelines", pipelines, "--params", batch)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "on Spark with" in output  # the Spark scorer ran, not the pandas one
    assert f"session on {spark_cluster.url}" in output  # on the cluster, not local[*]
    spark_report = json.loads(report.read_text())

    predictions = f"data/07_model_output/batches/{BATCH}"
    spark_folder = copy / predictions / "spark/predictions.parquet"
    assert spark_folder.is_dir()
    found = python_json(
        spark_project.root,
        READ_PREDICTIONS,
        str(copy / predictions / "predictions.parquet"),
        str(spark_folder),
    )
    assert found["columns"][0] == found["columns"][1]
    assert found["rows"][0] == found["rows"][1] == found["rows"][2] > 0
    assert found["ids"] == [True]
    assert found["max_delta"] <= TOLERANCE, found
    assert found["differing"] == dict.fromkeys(found["differing"], 0), found
    assert len(found["model_uri"]) == 1
    print(f"\nSpark vs pandas predictions: {found['rows'][0]} rows, max |delta p| {found['max_delta']}")

    for key in ("rows_batch", "rows_reference", "model_uri", "features", "fairness", "performance"):
        assert spark_report[key] == pandas_report[key], key
    spark_prediction, pandas_prediction = spark_report["prediction"], pandas_report["prediction"]
    for key in ("psi", "reference_mean", "verdict"):
        assert spark_prediction[key] == pandas_prediction[key], key
    assert spark_prediction["batch_mean"] == pytest.approx(pandas_prediction["batch_mean"], abs=1e-12)
    assert spark_report["fairness"]["groups"], "no selection rates compared"
    assert any(row["verdict"] != "pass" for row in spark_report["features"])  # the batch drifted
