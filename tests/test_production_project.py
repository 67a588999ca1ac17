"""Inference and monitoring in a generated project, on the shipped scoring batches.

After the default `kedro run` (which trains the model and, on the sample data, does not promote
it: the fairness gate flags the planted bias), `kedro run --pipelines inference` scores a batch
with the latest run's model and says so; `kedro run --pipelines monitoring` compares it with the
training set. The drifted batch raises an alert that a local HTTP listener receives; the
undrifted batch does not. Each monitoring run is a run of the `<package>_monitoring` experiment.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from project import TEMPLATE_DIR, free_port, run, stop_process_group

pytestmark = pytest.mark.slow

MONITORING_RUNS = """
import json, sys
import mlflow
client = mlflow.MlflowClient(sys.argv[1])
experiment = client.get_experiment_by_name(sys.argv[2] + "_monitoring")
runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])
print(json.dumps([
    {
        "tags": run.data.tags,
        "psi": client.get_metric_history(run.info.run_id, "prediction_psi")[0].value,
        "step": client.get_metric_history(run.info.run_id, "prediction_psi")[0].step,
        "artifacts": [a.path for a in client.list_artifacts(run.info.run_id, "monitoring")],
    }
    for run in runs
]))
"""

PREDICTIONS = """
import json, sys
import pandas as pd
frame = pd.read_parquet(sys.argv[1])
print(json.dumps({
    "rows": len(frame),
    "columns": list(frame.columns),
    "sources": sorted(set(frame["model_source"])),
    "uris": sorted(set(frame["model_uri"])),
    "in_range": bool(frame["probability"].between(0, 1).all()),
}))
"""

REQUIREMENTS = """
import json, sys
from importlib.metadata import version
from pathlib import Path
import mlflow
folder = Path(mlflow.artifacts.download_artifacts(sys.argv[1]))
lines = [l.strip() for l in (folder / "requirements.txt").read_text().splitlines() if l.strip()]
versions = dict(line.split("==", 1) for line in lines if "==" in line)
print(json.dumps({
    "lines": lines,
    "versions": versions,
    "installed": {name: version(name) for name in versions},
}))
"""


class _Listener(BaseHTTPRequestHandler):
    received: ClassVar[list] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Listener.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook():
    _Listener.received = []
    server = HTTPServer(("127.0.0.1", 0), _Listener)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alert", _Listener.received
    server.shutdown()
    server.server_close()


BATCHES = ("no_drift", "drifted")


@pytest.fixture(scope="module")
def scored_copy(default_project, tmp_path_factory):
    """One copy of the default project, trained once and with both shipped batches scored.

    The training run goes through a ``uv`` first on PATH that records how it is called, then
    runs the real one: logging the model must not run ``uv export`` (MLflow does when it infers
    the requirements itself).
    """
    import os

    from conftest import copy_of_default

    copy, kedro_in_copy = copy_of_default(default_project, tmp_path_factory.mktemp("production"))
    shim, calls = copy.parent / "uv-shim", copy.parent / "uv-calls.txt"
    shim.mkdir()
    real_uv = shutil.which("uv") or "false"
    (shim / "uv").write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {real_uv} "$@"\n')
    (shim / "uv").chmod(0o755)
    trained = kedro_in_copy("run", "-v", check=True, PATH=f"{shim}{os.pathsep}{os.environ['PATH']}")
    scored, seconds = {}, {}
    for batch in BATCHES:
        start = time.perf_counter()
        scored[batch] = kedro_in_copy(
            "run", "--pipelines", "inference", "--params", f"batch={batch}", check=True
        )
        seconds[f"inference_{batch}_s"] = round(time.perf_counter() - start, 1)
    uv_calls = calls.read_text().splitlines() if calls.exists() else []
    return copy, kedro_in_copy, trained, uv_calls, scored, seconds


def test_inference_and_monitoring_on_the_shipped_batches(default_project, scored_copy, webhook):
    copy, kedro_in_copy, _, _, scored, timings = scored_copy
    url, received = webhook
    python = str(default_project.root / ".venv" / "bin" / "python")
    tracking = f"sqlite:///{copy / 'mlflow.db'}"
    for batch in BATCHES:
        log = scored[batch].stdout + scored[batch].stderr
        path = copy / f"data/07_model_output/batches/{batch}/predictions.parquet"
        predictions = json.loads(run(copy, python, "-c", PREDICTIONS, str(path)).stdout.splitlines()[-1])
        assert 1900 <= predictions["rows"] < 2000  # the batch's dirty rows are quarantined
        assert (copy / f"data/05_model_input/batches/{batch}/quarantined_rows.parquet").is_file()
        assert predictions["in_range"]
        assert {"model_uri", "model_source", "model_version", "model_run_id", "scored_at"} <= set(
            predictions["columns"]
        )
        (source,) = predictions["sources"]
        if source.startswith("latest_run"):  # not promoted: the log says which model scored
            assert "LATEST RUN" in " ".join(log.split())
        else:
            assert source.startswith("alias")

        start = time.perf_counter()
        kedro_in_copy(
            "run",
            "--pipelines",
            "monitoring",
            "--params",
            f"batch={batch},monitoring.alert_webhook_url={url}",
            check=True,
        )
        timings[f"monitoring_{batch}_s"] = round(time.perf_counter() - start, 1)
    print(f"\nproduction pipeline timings: {timings}")

    quiet = json.loads((copy / "data/08_reporting/monitoring/no_drift/alert.json").read_text())
    alert = json.loads((copy / "data/08_reporting/monitoring/drifted/alert.json").read_text())
    assert quiet["alert"] is False and quiet["verdict"] != "fail"
    assert alert["alert"] is True and alert["verdict"] == "fail"
    assert any("annual_income" in reason for reason in alert["reasons"])
    assert alert["webhook"]["status"] == "sent (HTTP 200)"
    assert len(received) == 1 and received[0]["batch"] == "drifted"
    for name in ("drift_report.json", "drift_report.html", "drift_report.png"):
        assert (copy / "data/08_reporting/monitoring/drifted" / name).is_file()

    package = default_project.package
    runs = json.loads(run(copy, python, "-c", MONITORING_RUNS, tracking, package).stdout.splitlines()[-1])
    runs = [r for r in runs if r["tags"]["monitoring.batch"] in BATCHES]  # other tests add runs
    assert [r["tags"]["monitoring.batch"] for r in runs] == ["no_drift", "drifted"]
    assert [r["step"] for r in runs] == [1, 2]
    assert [r["tags"]["gate.monitoring"] for r in runs][1] == "fail"
    assert runs[1]["psi"] > runs[0]["psi"]

    # The drift report labels the groups as the fairness review does (one labelling of bands).
    fairness = json.loads((copy / "data/08_reporting/fairness/fairness_report.json").read_text())
    drift = json.loads((copy / "data/08_reporting/monitoring/drifted/drift_report.json").read_text())
    reviewed = {group["group"] for group in fairness["features"]["age"]["groups"]}
    monitored = {row["group"] for row in drift["fairness"]["groups"] if row["feature"] == "age"}
    assert "25-34" in monitored and monitored <= reviewed
    assert {"monitoring/drift_report.png", "monitoring/alert.json"} <= set(runs[1]["artifacts"])


KEDRO_RUN_ARTIFACTS = """
import json, sys
import mlflow
client = mlflow.MlflowClient(sys.argv[1])
if sys.argv[3:]:  # how many runs the monitoring experiment has
    experiment = client.get_experiment_by_name(sys.argv[2] + "_monitoring")
    print(len(client.search_runs([experiment.experiment_id])) if experiment else 0)
    sys.exit()
experiment = client.get_experiment_by_name(sys.argv[2])
order = ["attributes.start_time DESC"]
(latest,) = client.search_runs([experiment.experiment_id], order_by=order, max_results=1)
print(json.dumps([a.path for a in client.list_artifacts(latest.info.run_id, "monitoring")]))
"""

# Monitored in this order: three batches on the dashboard (the undrifted one twice, as two steps).
MONITORED = ("no_drift", "drifted", "no_drift")
DASHBOARD_SHOT = TEMPLATE_DIR / "docs" / "images" / "monitoring-dashboard.png"


def test_the_dashboard_shows_every_monitored_batch_in_a_real_browser(default_project, scored_copy, tmp_path):
    """After three monitoring runs, dashboard.html renders its charts in headless Chromium."""
    from selenium.webdriver.common.by import By
    from test_lineage_viz import CHROMEDRIVER, CHROMIUM, headless_chromium

    assert Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), "run `make test-deps`"
    copy, kedro_in_copy, *_ = scored_copy
    python, package = str(default_project.root / ".venv" / "bin" / "python"), default_project.package
    tracking = f"sqlite:///{copy / 'mlflow.db'}"

    def last_line(script: str, *args: str) -> list | int:
        done = run(copy, python, "-c", script, tracking, package, *args)
        return json.loads(done.stdout.splitlines()[-1])

    # The monitoring test above monitored two batches: one more run (all three when run alone).
    done = last_line(KEDRO_RUN_ARTIFACTS, "count")
    for batch in MONITORED[done:]:
        kedro_in_copy("run", "--pipelines", "monitoring", "--params", f"batch={batch}", check=True)
    runs = last_line(MONITORING_RUNS)
    assert len(runs) >= 3
    artifacts = last_line(KEDRO_RUN_ARTIFACTS)
    assert "monitoring/dashboard.html" in artifacts  # logged to the kedro run that rebuilt it
    page = copy / "data/08_reporting/monitoring/dashboard.html"
    assert page.is_file()

    driver = headless_chromium(tmp_path / "chromium-profile")
    try:
        driver.set_window_size(1300, 1000)
        driver.get(page.as_uri())
        charts = driver.find_elements(By.CSS_SELECTOR, "section svg")
        # prediction drift, drifted inputs, performance (or "no labels yet"), rates by group
        assert len(charts) >= 3
        for chart in charts:
            assert chart.size["width"] > 300 and chart.size["height"] > 150, chart.size
        shown = driver.execute_script(
            "return Array.from(document.querySelectorAll('svg text')).map(t => t.textContent)"
        )
        sections = [h.text for h in driver.find_elements(By.TAG_NAME, "h2")]
        assert sections[:3] == ["Prediction drift", "Most drifted inputs", "Performance decay"]
        alerts = driver.find_element(By.CSS_SELECTOR, "table.alerts").text
        height = driver.execute_script(  # the whole page, plus the window's own frame
            "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight"
        )
        driver.set_window_size(1300, height)
        DASHBOARD_SHOT.parent.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(DASHBOARD_SHOT))
    finally:
        driver.quit()
    assert DASHBOARD_SHOT.stat().st_size > 20_000
    steps = [str(r["step"]) for r in runs]
    for batch, step in zip(MONITORED, steps, strict=False):
        assert any(f"{batch}" in text for text in shown), f"batch {batch} not on the x axis"
        assert f"#{step}" in shown
    assert "annual_income" in shown  # the drifted batch's most drifted input
    assert "drifted 2 monitoring fail ALERT" in alerts  # the drifted batch's alert and a reason
    assert "feature annual_income" in alerts


SERVED = """
import json, sys, urllib.error, urllib.request
from pathlib import Path
import pandas as pd
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

port, batch = sys.argv[1], sys.argv[2]
bootstrap_project(Path.cwd())
with KedroSession.create(project_path=Path.cwd(), runtime_params={{"batch": batch}}) as session:
    context = session.load_context()
    params = context.params
    ingestion = params["ingestion"]
    main, target = ingestion["main_source"], ingestion["target"]["column"]
    raw = context.catalog.load(f"scoring_raw_{{main}}")  # the batch's main source, as read
folder = f"data/05_model_input/batches/{{batch}}"
primary = pd.concat(
    [pd.read_parquet(f"{{folder}}/scoring_batch.parquet"),
     pd.read_parquet(f"{{folder}}/quarantined_rows.parquet")]
).set_index("source_row").sort_index()
related = [
    column
    for spec in ingestion["related_sources"].values()
    for column in [*spec["aggregations"], spec["presence_column"]]
]
# A request: every row of the batch's main source as text, without its label, with the
# related sources' columns as ingestion summarised them.
request = raw.drop(columns=[target]).assign(**{{c: primary[c].to_numpy() for c in related}})
scored = pd.read_parquet(f"data/07_model_output/batches/{{batch}}/predictions.parquet")


def post(frame):
    body = {{"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}}
    request = urllib.request.Request(
        f"http://127.0.0.1:{{port}}/invocations",
        data=json.dumps(body).encode(),
        headers={{"Content-Type": "application/json"}},
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


status, answer = post(request)
answers = pd.DataFrame(answer["predictions"])
batch_probability = scored.set_index("source_row")["probability"]
valid = answers[answers["source_row"].isin(batch_probability.index)]
refused = answers[answers["quarantine_reasons"].notna()]
batch_reasons = primary["quarantine_reasons"].dropna()
related_datasets = tuple(f"raw_{{s}}." for s in ingestion["related_sources"])
expected = {{
    int(row): "; ".join(
        r for r in reasons.split("; ")
        if not r.startswith(related_datasets) and not r.endswith(f".{{target}}")
    )
    for row, reasons in batch_reasons.items()
}}
missing_status, missing = post(request.drop(columns=[related[0]]).head(2))
one_status, one = post(request.iloc[[int(valid["source_row"].iloc[0])]])
print(json.dumps({{
    "status": status,
    "rows": len(request),
    "answers": len(answers),
    "columns": list(answers.columns),
    "in_order": answers["source_row"].tolist() == list(range(len(request))),
    "valid_rows": len(valid),
    "batch_scored": len(batch_probability),
    "valid_refused": int(valid["quarantine_reasons"].notna().sum()),
    "max_difference": float(
        (valid.set_index("source_row")["probability"] - batch_probability).abs().max()
    ),
    "refused_rows": len(refused),
    "refused_probabilities": int(refused["probability"].notna().sum()),
    "reasons_match": all(
        (answers.loc[row, "quarantine_reasons"] or "") == reasons
        for row, reasons in expected.items()
    ),
    "reasons": sorted({{r for text in refused["quarantine_reasons"] for r in text.split("; ")}}),
    "missing_column": [missing_status, missing.get("message", "")],
    "one_row": [one_status, len(one["predictions"])],
}}))
"""


RUN_TAGS = """
import json, sys
import mlflow
client = mlflow.MlflowClient(sys.argv[1])
experiment = client.get_experiment_by_name(sys.argv[2])
runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])
# the latest training run (inference runs are runs of the same experiment)
print(json.dumps(next(r.data.tags for r in runs if "training.serving_model_uri" in r.data.tags)))
"""


def test_the_served_model_validates_rows_and_predicts_as_the_batch_pipeline(default_project, scored_copy):
    """`mlflow models serve` of the run's serving model, posted the whole batch over HTTP.

    Valid rows get exactly the batch pipeline's probabilities; the planted dirty rows get the
    batch quarantine's reasons (less those a request cannot be held to: the label's and the
    related source's raw records'); a request without a needed column is refused whole.
    """
    import os
    import subprocess
    import urllib.request

    from project import project_env

    copy, _, trained, uv_calls, _, _ = scored_copy
    venv_bin = default_project.root / ".venv" / "bin"
    python = str(venv_bin / "python")
    tracking = f"sqlite:///{copy / 'mlflow.db'}"
    output = trained.stdout + trained.stderr
    exports = [call for call in uv_calls if "export" in call]
    assert not exports, exports
    assert "dependencies via uv" not in output and "Model logged to MLflow" in output
    assert "Validating served model logged to MLflow" in output
    predictions = copy / "data/07_model_output/batches/no_drift/predictions.parquet"
    scoring_uri = json.loads(run(copy, python, "-c", PREDICTIONS, str(predictions)).stdout.splitlines()[-1])[
        "uris"
    ][0]
    tags = json.loads(
        run(copy, python, "-c", RUN_TAGS, tracking, default_project.package).stdout.splitlines()[-1]
    )
    assert tags["training.model_uri"] == scoring_uri  # the batch scored with this run's model
    uri = tags["training.serving_model_uri"]

    port = free_port()
    env = project_env(MLFLOW_TRACKING_URI=tracking, PATH=f"{venv_bin}{os.pathsep}{os.environ['PATH']}")
    server = subprocess.Popen(
        [
            *(str(venv_bin / "mlflow"), "models", "serve", "-m", uri, "--env-manager", "local"),
            *("-h", "127.0.0.1", "-p", str(port)),
        ],
        cwd=copy,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=5):
                    break
            except OSError:
                assert server.poll() is None, "mlflow models serve exited"
                assert time.monotonic() < deadline, "mlflow models serve did not start"
                time.sleep(1)
        code = SERVED.format(package=default_project.package)
        done = run(copy, python, "-c", code, str(port), "no_drift")
        result = json.loads(done.stdout.splitlines()[-1])
    finally:
        stop_process_group(server)
    print(f"\nserved batch: {json.dumps({k: v for k, v in result.items() if k != 'reasons'})}")
    assert result["status"] == 200 and result["answers"] == result["rows"] and result["in_order"]
    assert {"probability", "prediction", "quarantine_reasons", "source_row"} <= set(result["columns"])
    # Every row the batch scored is scored, with exactly the batch's probability.
    assert result["valid_rows"] == result["batch_scored"] and result["valid_refused"] == 0
    assert result["max_difference"] == 0.0
    # The planted dirty rows are refused with the batch quarantine's reasons, and not scored.
    assert result["refused_rows"] > 0 and result["refused_probabilities"] == 0
    assert result["reasons_match"]
    datasets = {reason.split(".")[0] for reason in result["reasons"]}
    assert {"raw_applications", "primary_table"} <= datasets  # malformed text; out of range
    assert any("_in_set." in reason for reason in result["reasons"])  # a bad category
    assert result["missing_column"][0] == 400 and "has no column(s)" in result["missing_column"][1]
    assert result["one_row"] == [200, 1]
    # Both models' requirements pin exact versions, the installed ones.
    for model_uri, needed in (
        (scoring_uri, {"mlflow", "scikit-learn", "numpy", "scipy", "pandas", "skops"}),
        (uri, {"mlflow", "scikit-learn", "skops", "kedro", "great_expectations"}),
    ):
        pins = json.loads(run(copy, python, "-c", REQUIREMENTS, model_uri).stdout.splitlines()[-1])
        assert pins["lines"] and all(
            re.fullmatch(r"[A-Za-z0-9_.\-]+==[\w.]+", line) for line in pins["lines"]
        )
        assert needed <= set(pins["versions"]), model_uri
        assert all(pins["versions"][name] == version for name, version in pins["installed"].items())


LABELLED_RUN = """
import json, sys
import mlflow
client = mlflow.MlflowClient(sys.argv[1])
experiment = client.get_experiment_by_name(sys.argv[2] + "_monitoring")
(run,) = client.search_runs(
    [experiment.experiment_id], filter_string=f"tags.`monitoring.batch` = '{sys.argv[3]}'"
)
steps = {
    key: [m.step for m in client.get_metric_history(run.info.run_id, key)]
    for key in ("prediction_psi", "labels.joined")
}
print(json.dumps({"tags": run.data.tags, "metrics": run.data.metrics, "steps": steps}))
"""


def _labelled_run(default_project, copy: Path, batch: str) -> dict:
    python = str(default_project.root / ".venv" / "bin" / "python")
    tracking = f"sqlite:///{copy / 'mlflow.db'}"
    result = run(copy, python, "-c", LABELLED_RUN, tracking, default_project.package, batch)
    return json.loads(result.stdout.splitlines()[-1])


def test_an_unlabelled_batch_is_scored_monitored_then_labelled(default_project, scored_copy):
    """Score a batch without its target column, monitor it without labels, then join the labels
    that arrive later and find decay, error rates and the label accounting in its monitoring run."""
    copy, kedro_in_copy, _, _, _, timings = scored_copy
    batch = "unlabelled"
    manifest = json.loads((copy / f"data/01_raw/batches/{batch}/manifest.json").read_text())
    planted = manifest["batch"]["labels"]

    # Nothing scored, no labels: one line naming the files and the command to run first.
    missing = kedro_in_copy("run", "--pipelines", "labels", "--params", "batch=never_scored")
    message = " ".join((missing.stdout + missing.stderr).split())
    assert missing.returncode != 0
    assert (
        "data/07_model_output/batches/never_scored/predictions.parquet not found: score the batch "
        "first: kedro run --pipelines inference --params batch=never_scored" in message
    )
    assert "data/01_raw/batches/never_scored/labels.csv not found" in message
    assert "Traceback" not in message

    start = time.perf_counter()
    kedro_in_copy("run", "--pipelines", "inference", "--params", f"batch={batch}", check=True)
    timings["inference_unlabelled_s"] = round(time.perf_counter() - start, 1)
    python = str(default_project.root / ".venv" / "bin" / "python")
    path = copy / f"data/07_model_output/batches/{batch}/predictions.parquet"
    predictions = json.loads(run(copy, python, "-c", PREDICTIONS, str(path)).stdout.splitlines()[-1])
    quarantined = json.loads(
        run(
            copy,
            python,
            "-c",
            "import sys, json, pandas as pd; f = pd.read_parquet(sys.argv[1]); "
            "print(json.dumps({'rows': len(f), 'reasons': bool(f['quarantine_reasons'].all())}))",
            str(copy / f"data/05_model_input/batches/{batch}/quarantined_rows.parquet"),
        ).stdout.splitlines()[-1]
    )
    # Row accounting: every row of the batch is scored or quarantined with its reasons.
    assert predictions["rows"] + quarantined["rows"] == manifest["row_counts"]["applications"]
    assert quarantined["rows"] == manifest["row_counts"]["applications_dirty"] and quarantined["reasons"]
    assert "defaulted_12m" not in predictions["columns"]

    kedro_in_copy("run", "--pipelines", "monitoring", "--params", f"batch={batch}", check=True)
    drift = json.loads((copy / f"data/08_reporting/monitoring/{batch}/drift_report.json").read_text())
    assert drift["performance"] == {"labels": False, "metrics": []}
    assert drift["features"] and drift["prediction"]["psi"] >= 0
    assert {row["feature"] for row in drift["fairness"]["groups"]} >= {"sex", "age"}

    start = time.perf_counter()
    kedro_in_copy("run", "--pipelines", "labels", "--params", f"batch={batch}", check=True)
    timings["labels_unlabelled_s"] = round(time.perf_counter() - start, 1)
    # The labels run redraws the dashboard: the error rates by group now have their chart.
    page = (copy / "data/08_reporting/monitoring/dashboard.html").read_text()
    assert "Error rate by group" in page and "No labels yet: the error rate" not in page
    print(f"\nunlabelled batch timings: {timings}")
    report = json.loads((copy / f"data/08_reporting/monitoring/{batch}/labels_report.json").read_text())
    counts = report["labels"]
    assert counts["unknown_ids"] == len(planted["unknown_ids"])
    assert counts["duplicates"] == len(planted["repeated_ids"]) + len(planted["conflicting_ids"])
    assert counts["conflicting"] == len(planted["conflicting_ids"])
    assert counts["quarantined_rows"] == len(planted["quarantined_ids"])
    assert counts["joined"] == predictions["rows"] - len(planted["conflicting_ids"])
    assert (
        sum(
            counts[k]
            for k in (
                "joined",
                "unknown_ids",
                "quarantined_rows",
                "duplicates",
                "conflicting",
                "invalid_labels",
            )
        )
        == planted["rows"]
    )
    assert (copy / f"data/08_reporting/monitoring/{batch}/labelled_predictions.parquet").is_file()
    assert report["alert"]["alert"] is False  # no decay in these labels

    logged = _labelled_run(default_project, copy, batch)
    metrics, tags = logged["metrics"], logged["tags"]
    assert tags["monitoring.labels"] == str(counts["joined"])
    assert metrics["labels.joined"] == counts["joined"]
    assert metrics["labels.unknown_ids"] == counts["unknown_ids"]
    assert metrics["labels.duplicates"] == counts["duplicates"]
    assert metrics["labels.quarantined_rows"] == counts["quarantined_rows"]
    assert 0.6 < metrics["performance.roc_auc"] < 1 and abs(metrics["performance.roc_auc_drop"]) < 0.05
    assert {"error_rate.sex.F", "error_rate.sex.M", "error_rate.age.25-34"} <= set(metrics)
    # The labels go to a new step of the batch's monitoring run, after its own.
    (own,) = logged["steps"]["prediction_psi"]
    assert logged["steps"]["labels.joined"] == [own + 1]


def test_labels_that_show_decay_raise_the_performance_alert(default_project, scored_copy):
    copy, kedro_in_copy, *_ = scored_copy
    batch = "decayed"
    for pipeline in ("inference", "monitoring", "labels"):
        kedro_in_copy("run", "--pipelines", pipeline, "--params", f"batch={batch}", check=True)
    report = json.loads((copy / f"data/08_reporting/monitoring/{batch}/labels_report.json").read_text())
    assert report["alert"]["alert"] is True and report["alert"]["verdict"] == "fail"
    assert any(reason.startswith("performance roc_auc") for reason in report["alert"]["reasons"])
    logged = _labelled_run(default_project, copy, batch)
    assert logged["tags"]["gate.labels"] == "fail"
    assert logged["metrics"]["performance.roc_auc_drop"] > 0.05
