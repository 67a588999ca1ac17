"""Latency of the validating served model: one row and 1,000 rows per request (medians).

Usage, in a generated project that has run `kedro run` and
`kedro run --pipelines inference --params batch=no_drift`:

    uv run python tools/bench_serving.py path/to/project [--repeats 7]

Starts `mlflow models serve --env-manager local` on a loopback port with the latest training
run's `serving_model` (tag training.serving_model_uri), posts requests built from the no_drift
batch (its rows as read, with the related columns as ingestion summarised them) and prints the
median, min and max seconds per request. Not a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from project import free_port, project_env, run, stop_process_group

CLIENT = """
import json, statistics, sys, time, urllib.request
from pathlib import Path
import pandas as pd
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

port, repeats, batch = sys.argv[1], int(sys.argv[2]), "no_drift"
bootstrap_project(Path.cwd())
with KedroSession.create(project_path=Path.cwd(), runtime_params={"batch": batch}) as session:
    context = session.load_context()
    ingestion = context.params["ingestion"]
    raw = context.catalog.load(f"scoring_raw_{ingestion['main_source']}")
folder = f"data/05_model_input/batches/{batch}"
primary = pd.concat(
    [pd.read_parquet(f"{folder}/scoring_batch.parquet"),
     pd.read_parquet(f"{folder}/quarantined_rows.parquet")]
).set_index("source_row").sort_index()
related = [c for s in ingestion["related_sources"].values()
           for c in [*s["aggregations"], s["presence_column"]]]
request = raw.drop(columns=[ingestion["target"]["column"]]).assign(
    **{c: primary[c].to_numpy() for c in related})


def seconds(frame):
    body = json.dumps({"dataframe_split": json.loads(frame.to_json(orient="split", index=False))})
    post = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body.encode(),
                                  headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(post, timeout=600) as response:
        rows = len(json.loads(response.read())["predictions"])
    assert rows == len(frame)
    return time.perf_counter() - start


seconds(request.head(10))  # warm-up
figures = {}
for rows in (1, 1000):
    times = [seconds(request.sample(n=rows, random_state=i)) for i in range(repeats)]
    figures[f"{rows}_rows"] = {"median_s": round(statistics.median(times), 3),
                               "min_s": round(min(times), 3), "max_s": round(max(times), 3)}
print(json.dumps({"repeats": repeats, **figures}))
"""

SERVING_URI = """
import json, sys
import mlflow
client = mlflow.MlflowClient()
experiment = client.get_experiment_by_name(sys.argv[1])
runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])
print(next(r.data.tags["training.serving_model_uri"] for r in runs
           if "training.serving_model_uri" in r.data.tags))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--model-uri", help="default: the latest training run's serving_model")
    args = parser.parse_args()
    project = args.project.resolve()
    venv_bin = project / ".venv" / "bin"
    package = next(p.name for p in (project / "src").iterdir() if (p / "serving.py").is_file())
    tracking = f"sqlite:///{project / 'mlflow.db'}"
    extra = {"MLFLOW_TRACKING_URI": tracking, "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}"}
    env = project_env(**extra)
    python = str(venv_bin / "python")
    uri = args.model_uri or run(project, python, "-c", SERVING_URI, package, **extra).stdout.splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [
            *(str(venv_bin / "mlflow"), "models", "serve", "-m", uri, "--env-manager", "local"),
            *("-h", "127.0.0.1", "-p", str(port)),
        ],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        start, deadline = time.monotonic(), time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"mlflow models serve of {uri} did not start")
                time.sleep(1)
        started = round(time.monotonic() - start, 1)
        done = run(project, python, "-c", CLIENT, str(port), str(args.repeats), **extra)
        figures = json.loads(done.stdout.splitlines()[-1])
    finally:
        stop_process_group(server)
    print(json.dumps({"model_uri": uri, "server_start_s": started, **figures}, indent=2))


if __name__ == "__main__":
    main()
