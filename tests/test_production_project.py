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
import json, sys, urllib.request
import numpy as np, pandas as pd
from kedro.config import OmegaConfigLoader
from {package}.modelling import feature_columns, model_inputs

port, batch = sys.argv[1], sys.argv[2]
params = OmegaConfigLoader("conf", base_env="base", default_run_env="local")["parameters"]
rows = pd.read_parquet(f"data/05_model_input/batches/{{batch}}/scoring_batch.parquet")
scored = pd.read_parquet(f"data/07_model_output/batches/{{batch}}/predictions.parquet")
inputs = model_inputs(rows, *feature_columns(params["training"]))
body = {{"dataframe_split": json.loads(inputs.to_json(orient="split", index=False))}}
request = urllib.request.Request(
    f"http://127.0.0.1:{{port}}/invocations",
    data=json.dumps(body).encode(),
    headers={{"Content-Type": "application/json"}},
)
with urllib.request.urlopen(request, timeout=120) as response:
    served = np.array(json.loads(response.read())["predictions"])
print(json.dumps({{
    "rows": len(inputs),
    "shape": list(served.shape),
    "max_difference": float(np.abs(served[:, 1] - scored["probability"].to_numpy()).max()),
    "uri": scored["model_uri"].iloc[0],
}}))
"""


def test_the_served_model_predicts_as_the_batch_pipeline(default_project, scored_copy):
    """`mlflow models serve` of the model that scored the batch, posted the batch over HTTP."""
    import os
    import subprocess
    import urllib.request

    from project import project_env

    copy, _, trained, uv_calls, _, _ = scored_copy
    venv_bin = default_project.root / ".venv" / "bin"
    tracking = f"sqlite:///{copy / 'mlflow.db'}"
    output = trained.stdout + trained.stderr
    exports = [call for call in uv_calls if "export" in call]
    assert not exports, exports
    assert "dependencies via uv" not in output and "Model logged to MLflow" in output
    predictions = copy / "data/07_model_output/batches/no_drift/predictions.parquet"
    uri = json.loads(
        run(copy, str(venv_bin / "python"), "-c", PREDICTIONS, str(predictions)).stdout.splitlines()[-1]
    )["uris"][0]

    port = free_port()
    env = project_env(MLFLOW_TRACKING_URI=tracking, PATH=f"{venv_bin}{os.pathsep}{os.environ['PATH']}")
    server = subprocess.Popen(
        [
            str(venv_bin / "mlflow"),
            "models",
            "serve",
            "-m",
            uri,
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
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
        done = run(copy, str(venv_bin / "python"), "-c", code, str(port), "no_drift")
        result = json.loads(done.stdout.splitlines()[-1])
    finally:
        stop_process_group(server)
    assert result["uri"] == uri
    assert result["shape"] == [result["rows"], 2]
    assert result["max_difference"] < 1e-9
    # The served model's requirements pin exact versions, the installed ones.
    pins = json.loads(run(copy, str(venv_bin / "python"), "-c", REQUIREMENTS, uri).stdout.splitlines()[-1])
    assert pins["lines"] and all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[\w.]+", line) for line in pins["lines"])
    assert {"mlflow", "scikit-learn", "numpy", "scipy", "pandas", "skops"} <= set(pins["versions"])
    assert all(pins["versions"][name] == version for name, version in pins["installed"].items())
