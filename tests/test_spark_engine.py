"""The Spark environment of a generated project (`kedro run --env spark`, the `spark` extra).

Parity: on the sample data the Spark run gives the pandas run's validation counts, quarantined
rows, metrics and gates. The modelling sample is seeded, stratified and independent of Spark's
partitioning. Clear failures: no Java, an unreachable master. (The real standalone cluster runs
ingestion, validation and scoring in test_spark_scoring.py.)
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from conftest import copy_of_default
from project import free_port, python_json

pytestmark = pytest.mark.slow

RUN_FIGURES = """
import json, sys
import mlflow
client = mlflow.MlflowClient(sys.argv[1])
experiment = client.get_experiment_by_name(sys.argv[2])
runs = client.search_runs(
    [experiment.experiment_id], filter_string=f"tags.`kedro.env` = '{sys.argv[3]}'",
    order_by=["attributes.start_time DESC"], max_results=1,
)
run = runs[0]
print(json.dumps({
    "status": run.info.status,
    "metrics": run.data.metrics,
    "gates": {k: v for k, v in run.data.tags.items() if k.startswith("gate.")},
    "inputs": sorted(i.dataset.name for i in run.inputs.dataset_inputs),
}))
"""

FRAME_FIGURES = """
import json, sys
import pandas as pd
frame = pd.read_parquet(sys.argv[1])
print(json.dumps({
    "rows": len(frame),
    "ids": sorted(int(i) for i in frame["source_row"]),
    "reasons": dict(zip(map(int, frame["source_row"]), frame.get("quarantine_reasons", []))),
}))
"""

SAMPLE_CHECK = """
import json
from pyspark.sql import SparkSession
import pandas as pd
from loan_default_risk.pipelines.training.nodes import sample_for_modelling
spark = (SparkSession.builder.master("local[2]").config("spark.driver.host", "127.0.0.1")
         .config("spark.driver.bindAddress", "127.0.0.1").config("spark.ui.enabled", "false")
         .getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
rows = [(i, f"id{i}", 1 if i % 10 < 3 else 0, float(i)) for i in range(5000)]
frame = spark.createDataFrame(rows, "source_row long, row_id string, label long, x double")
params = {"target": "label", "modelling_sample": {"max_rows": 500, "seed": 7}}
dataset = {"problem_type": "binary", "target": {"column": "label", "positive": 1}}
first, record = sample_for_modelling(frame, params, dataset)
again, _ = sample_for_modelling(frame.repartition(5), params, dataset)
other_seed, _ = sample_for_modelling(
    frame, {**params, "modelling_sample": {"max_rows": 500, "seed": 8}}, dataset
)
everything, full_record = sample_for_modelling(
    frame, {**params, "modelling_sample": {"max_rows": 10000, "seed": 7}}, dataset
)
local, local_record = sample_for_modelling(frame.toPandas(), params, dataset)
print(json.dumps({
    "rows": len(first), "positives": int(first["label"].sum()),
    "same_on_other_partitions": first["source_row"].tolist() == again["source_row"].tolist(),
    "other_seed_differs": first["source_row"].tolist() != other_seed["source_row"].tolist(),
    "sorted": first["source_row"].is_monotonic_increasing,
    "record": record, "full_rows": len(everything), "full_record": full_record,
    "pandas_rows": len(local), "pandas_positives": int(local["label"].sum()),
}))
"""


def _without_timings(metrics: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in metrics.items() if "seconds" not in k}


@pytest.fixture(scope="module")
def spark_run(spark_project, tmp_path_factory):
    """A copy of the default project that ran the whole default pipeline with ``--env spark``."""
    copy, kedro_in_copy = copy_of_default(spark_project, tmp_path_factory.mktemp("spark"))
    start = time.perf_counter()
    done = kedro_in_copy("run", "--env", "spark")
    seconds = time.perf_counter() - start
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    print(f"\nkedro run --env spark: {seconds:.1f} s")
    return copy, done.stdout + done.stderr


def test_spark_run_matches_the_pandas_run(spark_project, spark_run):
    """Same validation counts, quarantined rows and reasons, metrics and gates as pandas."""
    copy, output = spark_run
    package = spark_project.package
    pandas_run = python_json(spark_project.root, RUN_FIGURES, spark_project.tracking_uri, package, "local")
    spark = python_json(spark_project.root, RUN_FIGURES, f"sqlite:///{copy / 'mlflow.db'}", package, "spark")
    assert spark["status"] == "FINISHED"
    assert spark["gates"] == pandas_run["gates"]
    assert spark["gates"]["gate.validation"] == "warn"
    assert spark["gates"]["gate.fairness"] == "fail"  # the planted bias, found on Spark too
    for key in ("validation.rows_in", "validation.rows_passed", "validation.rows_quarantined"):
        assert spark["metrics"][key] == pandas_run["metrics"][key], key
    assert spark["metrics"]["validation.rows_quarantined"] == 200
    # Every metric of the pandas run, on the same rows: the sample is every validated row here.
    assert spark["metrics"]["training.modelling_rows"] == spark["metrics"]["training.validated_rows"]
    expected = _without_timings(pandas_run["metrics"])
    differing = {
        k: (v, spark["metrics"].get(k))
        for k, v in expected.items()
        if spark["metrics"].get(k) is None or abs(v - spark["metrics"][k]) > 1e-9 * max(1, abs(v))
    }
    assert not differing, differing
    # The audit trail logs the Spark tables as dataset inputs, with digests.
    assert {"raw_applications", "primary_table", "validated_table"} <= set(spark["inputs"])

    quarantined = {
        engine: python_json(spark_project.root, FRAME_FIGURES, str(path))
        for engine, path in (
            ("pandas", spark_project.root / "data/03_primary/quarantined_rows.parquet"),
            ("spark", copy / "data/03_primary/spark/quarantined_rows.parquet"),
        )
    }
    assert quarantined["spark"]["ids"] == quarantined["pandas"]["ids"]
    assert quarantined["spark"]["reasons"] == quarantined["pandas"]["reasons"]
    card = (copy / "data/08_reporting/model_card.md").read_text()
    assert "Modelling rows: all 9800 validated rows" in card
    # Spark's start-up notices stay out of the console (conf/spark/log4j2.properties).
    assert "NativeCodeLoader" not in output and "log4j profile" not in output


def test_modelling_sample_is_seeded_stratified_and_partition_independent(spark_project):
    """max_rows of a larger table: exact size, class shares kept, same rows on any partitioning."""
    figures = python_json(spark_project.root, SAMPLE_CHECK)
    assert figures["rows"] == 500
    assert figures["positives"] == 150  # 30 % of the 5,000 rows are positive, and of the sample
    assert figures["same_on_other_partitions"]
    assert figures["other_seed_differs"]
    assert figures["sorted"]
    assert figures["record"]["metrics"] == {"modelling_rows": 500, "validated_rows": 5000}
    assert figures["record"]["tags"]["training.modelling_sample"] == "stratified sample"
    assert len(figures["record"]["tags"]["training.modelling_sample_sha256"]) == 64
    assert figures["full_rows"] == 5000
    assert figures["full_record"]["tags"]["training.modelling_sample"] == "all validated rows"
    assert (figures["pandas_rows"], figures["pandas_positives"]) == (500, 150)


def test_spark_without_java_stops_at_once_naming_the_package(spark_project, tmp_path):
    _, kedro_in_copy = copy_of_default(spark_project, tmp_path)
    bare_path = str(spark_project.root / ".venv" / "bin")  # python and kedro, no java
    start = time.perf_counter()
    done = kedro_in_copy("run", "--env", "spark", "--pipelines", "ingestion", PATH=bare_path, JAVA_HOME="")
    seconds = time.perf_counter() - start
    assert done.returncode == 1
    stopped = [line for line in done.stderr.splitlines() if line.startswith("Run stopped")]
    assert len(stopped) == 1, done.stderr[-3000:]
    assert "openjdk-17-jre-headless" in stopped[0]
    assert "Traceback" not in done.stderr
    assert seconds < 60


def _environment_with_master(copy: Path, name: str, master: str, **settings: str) -> None:
    """conf/<name>/: the spark environment with another master (and extra settings)."""
    shutil.copytree(copy / "conf" / "spark", copy / "conf" / name)
    spark_yml = copy / "conf" / name / "spark.yml"
    lines = [
        f"spark.master: {master}" if line.startswith("spark.master:") else line
        for line in spark_yml.read_text().splitlines()
    ]
    lines += [f"{key}: {value}" for key, value in settings.items()]
    spark_yml.write_text("\n".join(lines) + "\n")


def test_unreachable_master_fails_in_bounded_time_naming_it(spark_project, tmp_path):
    copy, kedro_in_copy = copy_of_default(spark_project, tmp_path)
    master = f"spark://127.0.0.1:{free_port()}"  # nothing listens there
    _environment_with_master(copy, "unreachable", master)
    start = time.perf_counter()
    done = kedro_in_copy("run", "--env", "unreachable", "--pipelines", "ingestion")
    seconds = time.perf_counter() - start
    assert done.returncode == 1
    assert master in done.stderr
    assert "Traceback" not in done.stderr
    assert seconds < 120
