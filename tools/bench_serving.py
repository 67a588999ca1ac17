"""The validating served model against the bare scikit-learn model, side by side (``make bench``).

Both models of one training run are served with `mlflow models serve --env-manager local` on
loopback ports: the run's `serving_model` (tag training.serving_model_uri: parsing, row checks,
then the model) and its bare scikit-learn model (tag training.model_uri). The same rows of the
run's validated table are sent to both: to the served model as a client sends them (the main
source's columns as text, the related columns summarised), to the bare model as its signature
wants them (the model inputs). Measured in one run, the two models alternated:

* ``mlflow.pyfunc.load_model`` of each (from its local copy, in a fresh process, ``--loads``
  times): what a server and a batch job pay to load it;
* server start until `/ping` answers (``--starts`` rounds, each starting both, order swapped);
* median latency of a one-row request (``--one`` requests) and of a 1,000-row request
  (``--many`` requests);
* answers within ``--seconds`` seconds to ``--clients`` concurrent clients sending one-row
  requests, and errors (any answer but 200, any failed request).

Targets (issue "Serving at production speed"): served/bare at most 2x for loading, one row,
1,000 rows and start; at least 0.5x the bare model's answers under load; no error.

    uv run python tools/bench_serving.py [PROJECT] [--publish]

Without PROJECT: the bench project (``build/bench/project``, rendered and installed as
``tools/bench.py`` does, reused when there) is copied to ``build/bench/serving`` with the bundled
sample and trained once. Results: ``build/bench/serving/results.json``; ``--publish`` also writes
``docs/bench/serving.md``. The figures depend on the machine and its load (stated with them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import BUILD, PUBLISH_DIR, _git, clear_outputs, machine_info, prepare_project
from project import free_port, project_env, render, run, stop_process_group

OUT = BUILD / "serving"
MODELS = ("served", "bare")
# served / bare: (measure, target, at most (True) or at least (False))
TARGETS = {
    "load_median_s": (2.0, True),
    "one_row_median_s": (2.0, True),
    "rows_1000_median_s": (2.0, True),
    "start_median_s": (2.0, True),
    "answers_under_load": (0.5, False),
}

# Run in the project's environment: the run's two model URIs and the request bodies of both.
BODIES = """
import json, sys
from pathlib import Path
import mlflow
import pandas as pd
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

package, one, many, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
serving = __import__(f"{package}.serving", fromlist=["request_example"])
modelling = __import__(f"{package}.modelling", fromlist=["model_inputs"])
client = mlflow.MlflowClient()
experiment = client.get_experiment_by_name(package)
runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])
tags = next(r.data.tags for r in runs if "training.serving_model_uri" in r.data.tags)
uris = {"served": tags["training.serving_model_uri"], "bare": tags["training.model_uri"]}
paths = {name: mlflow.artifacts.download_artifacts(uri) for name, uri in uris.items()}
plan = json.loads(next((Path(paths["served"]) / "artifacts").rglob("plan.json")).read_text())
bootstrap_project(Path.cwd())
with KedroSession.create(project_path=Path.cwd()) as session:
    table = session.load_context().catalog.load("validated_table")


def bodies(rows):
    served = serving.request_example(rows, plan, len(rows))
    bare = modelling.model_inputs(rows, plan["numeric"], plan["categorical"])
    return {
        name: json.dumps({"dataframe_split": json.loads(frame.to_json(orient="split", index=False))})
        for name, frame in (("served", served), ("bare", bare))
    }


singles = [bodies(table.sample(n=1, random_state=i)) for i in range(one)]
batches = [bodies(table.sample(n=min(1000, len(table)), random_state=i)) for i in range(many)]
out.write_text(
    json.dumps({"uris": uris, "paths": paths, "one": singles, "many": batches, "rows": len(table)})
)
"""

# In a fresh process of the project's environment: seconds to load one model from its local copy.
LOAD = """
import sys, time
import mlflow.pyfunc
start = time.perf_counter()
mlflow.pyfunc.load_model(sys.argv[1])
print(time.perf_counter() - start)
"""


def post(port: int, body: str, timeout: float = 120) -> tuple[int, float]:
    """Status and seconds of one request (status 0: no answer)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = 0
    return status, time.perf_counter() - start


class Server:
    """`mlflow models serve` of one model on a free loopback port, timed until /ping answers."""

    def __init__(self, project: Path, venv_bin: Path, uri: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.uri = uri
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (closed by stop())
        start = time.monotonic()
        self.process = subprocess.Popen(
            [
                *(str(venv_bin / "mlflow"), "models", "serve", "-m", uri, "--env-manager", "local"),
                *("-h", "127.0.0.1", "-p", str(self.port)),
            ],
            cwd=project,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = start + 600
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ping", timeout=5):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.log.seek(0)
                    tail = self.log.read().decode(errors="replace")[-2000:]
                    self.stop()
                    sys.exit(f"mlflow models serve of {uri} did not start:\n{tail}")
                time.sleep(0.2)
        self.start_s = time.monotonic() - start

    def stop(self) -> None:
        stop_process_group(self.process)
        self.log.close()


def under_load(port: int, bodies: list[str], clients: int, seconds: float) -> dict[str, int]:
    """Answers (200) within ``seconds`` to ``clients`` threads posting one-row requests, errors."""
    counts = {"answers": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(offset: int) -> None:
        index = offset
        while time.monotonic() < deadline:
            status, _ = post(port, bodies[index % len(bodies)], timeout=seconds + 60)
            with lock:
                if status != 200:
                    counts["errors"] += 1
                elif time.monotonic() <= deadline:
                    counts["answers"] += 1
            index += clients

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts


def bench_project() -> Path:
    """A copy of the bench project with the bundled sample, trained once (``kedro run``)."""
    base, _ = prepare_project(reuse=True)
    copy = OUT / base.name
    shutil.rmtree(OUT, ignore_errors=True)
    shutil.copytree(
        base, copy, ignore=shutil.ignore_patterns(".venv", "mlflow.db", "mlartifacts", "run.log*")
    )
    os.symlink(base / ".venv", copy / ".venv")
    clear_outputs(copy)
    with tempfile.TemporaryDirectory() as folder:  # the bundled sample (bench.py regenerates it)
        sample = render(Path(folder)) / "data" / "01_raw"
        shutil.rmtree(copy / "data" / "01_raw")
        shutil.copytree(sample, copy / "data" / "01_raw")
    print(f"training once in {copy} ...", flush=True)
    tracking = f"sqlite:///{copy / 'mlflow.db'}"
    run(copy, str(copy / ".venv" / "bin" / "kedro"), "run", MLFLOW_TRACKING_URI=tracking)
    return copy


def ratio(served: float, bare: float) -> float | None:
    return round(served / bare, 2) if bare else None


def measure(project: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Start both servers, time both models alternately, stop them."""
    venv_bin = project / ".venv" / "bin"
    package = next(p.name for p in (project / "src").iterdir() if (p / "serving.py").is_file())
    tracking = f"sqlite:///{project / 'mlflow.db'}"
    extra = {"MLFLOW_TRACKING_URI": tracking, "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}"}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "bodies.json"
        counts = (str(args.one), str(args.many))
        run(project, str(venv_bin / "python"), "-c", BODIES, package, *counts, str(out), **extra)
        data = json.loads(out.read_text())
    env = project_env(**extra)
    loads: dict[str, list[float]] = {m: [] for m in MODELS}
    for round_ in range(args.loads):
        for model in MODELS if round_ % 2 == 0 else MODELS[::-1]:
            done = run(project, str(venv_bin / "python"), "-c", LOAD, data["paths"][model], **extra)
            loads[model].append(float(done.stdout.splitlines()[-1]))
    print(f"load_model: {json.dumps({m: [round(s, 2) for s in v] for m, v in loads.items()})}")
    starts: dict[str, list[float]] = {m: [] for m in MODELS}
    servers: dict[str, Server] = {}
    try:
        for round_ in range(args.starts):
            for server in servers.values():
                server.stop()
            servers = {}
            for model in MODELS if round_ % 2 == 0 else MODELS[::-1]:
                servers[model] = Server(project, venv_bin, data["uris"][model], env)
                starts[model].append(servers[model].start_s)
                print(f"{model} model: /ping after {servers[model].start_s:.1f} s", flush=True)
        for model in MODELS:  # warm-up: first requests load what a server loads lazily
            for body in data["one"][:3]:
                post(servers[model].port, body[model])
        times: dict[str, dict[str, list[float]]] = {m: {"one": [], "many": []} for m in MODELS}
        failures = {m: 0 for m in MODELS}
        for kind in ("one", "many"):
            for index, bodies in enumerate(data[kind]):
                for model in MODELS if index % 2 == 0 else MODELS[::-1]:
                    status, seconds = post(servers[model].port, bodies[model])
                    failures[model] += status != 200
                    times[model][kind].append(seconds)
        load: dict[str, dict[str, int]] = {}
        for model in MODELS if args.starts % 2 == 0 else MODELS[::-1]:
            print(f"{model} model: {args.clients} clients for {args.seconds:g} s ...", flush=True)
            singles = [bodies[model] for bodies in data["one"]]
            load[model] = under_load(servers[model].port, singles, args.clients, args.seconds)
    finally:
        for server in servers.values():
            server.stop()
    figures = {
        model: {
            "load_median_s": round(statistics.median(loads[model]), 2),
            "start_median_s": round(statistics.median(starts[model]), 2),
            "one_row_median_s": round(statistics.median(times[model]["one"]), 4),
            "rows_1000_median_s": round(statistics.median(times[model]["many"]), 4),
            "answers_under_load": load[model]["answers"],
            "errors_under_load": load[model]["errors"],
            "failed_timed_requests": failures[model],
        }
        for model in MODELS
    }
    checks = {}
    for name, (target, at_most) in TARGETS.items():
        value = ratio(figures["served"][name], figures["bare"][name])
        met = value is not None and (value <= target if at_most else value >= target)
        checks[name] = {"ratio": value, "target": f"{'<=' if at_most else '>='} {target}x", "met": met}
    errors = figures["served"]["errors_under_load"] + figures["served"]["failed_timed_requests"]
    checks["errors"] = {"ratio": errors, "target": "0", "met": errors == 0}
    return {
        "uris": data["uris"],
        "table_rows": data["rows"],
        "settings": {k: getattr(args, k) for k in ("loads", "one", "many", "starts", "clients", "seconds")},
        "figures": figures,
        "checks": checks,
    }


LABELS = {
    "load_median_s": "`mlflow.pyfunc.load_model`, fresh process (s, median)",
    "start_median_s": "server start until `/ping` answers (s, median)",
    "one_row_median_s": "one-row request (s, median)",
    "rows_1000_median_s": "1,000-row request (s, median)",
    "answers_under_load": "answers in the load window",
    "errors_under_load": "errors in the load window",
}


def markdown(results: dict[str, Any]) -> str:
    """The results as docs/bench/serving.md."""
    settings, figures, checks = results["settings"], results["figures"], results["checks"]
    machine = results["machine"]
    lines = [
        "# Serving: the validating served model against the bare model",
        "",
        "Written by `uv run python tools/bench_serving.py --publish` (part of `make bench`); "
        f"template commit `{results['commit']}`.",
        "",
        f"Machine: {machine['cores']} cores ({machine['cpu_model']}), {machine['memory_gb']} GB, "
        f"Python {machine['python']}, {machine['date_utc']}; load average at start "
        f"{machine['load_average_at_start']}, at the end {results['load_average_at_end']}. "
        "On a loaded machine the figures are noisy: read the ratios, measured side by side.",
        "",
        "Both models of one default training run, each served by `mlflow models serve "
        "--env-manager local` on loopback, the same rows of the run's validated table sent to "
        f"both, the models alternated: {settings['loads']} loads of each in a fresh process, "
        f"{settings['one']} one-row requests, {settings['many']} "
        f"requests of 1,000 rows, {settings['starts']} start(s) of each server, then "
        f"{settings['clients']} concurrent clients for {settings['seconds']:g} s.",
        "",
        "| | served model (validating) | bare model | served / bare | target | met |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    for name, label in LABELS.items():
        check = checks.get(name, {})
        if name == "errors_under_load":
            check = checks["errors"]
        lines.append(
            f"| {label} | {figures['served'][name]} | {figures['bare'][name]} | "
            f"{check.get('ratio', '') if name != 'errors_under_load' else ''} | "
            f"{check.get('target', '')} | {'yes' if check.get('met') else 'no' if check else ''} |"
        )
    missed = [LABELS.get(name, name) for name, check in checks.items() if not check["met"]]
    lines += [
        "",
        f"Targets not met: {'; '.join(missed)}." if missed else "Every target met.",
        "",
        f"Models: served `{results['uris']['served']}`, bare `{results['uris']['bare']}`.",
        "",
    ]
    if results.get("note"):
        lines += [results["note"], ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "project", type=Path, nargs="?", help="a trained project (default: the bench project)"
    )
    parser.add_argument("--loads", type=int, default=3, help="load_model per model")
    parser.add_argument("--one", type=int, default=30, help="one-row requests per model")
    parser.add_argument("--many", type=int, default=5, help="1,000-row requests per model")
    parser.add_argument("--starts", type=int, default=2, help="server starts per model")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--note", default="", help="a paragraph for the published page")
    parser.add_argument("--publish", action="store_true", help=f"also write {PUBLISH_DIR / 'serving.md'}")
    args = parser.parse_args()
    machine = machine_info()
    project = args.project.resolve() if args.project else bench_project()
    results = {"machine": machine, "commit": _git("rev-parse", "--short", "HEAD"), **measure(project, args)}
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["note"] = args.note
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    if args.publish:
        (PUBLISH_DIR / "serving.md").write_text(markdown(results))
    print(json.dumps({k: results[k] for k in ("figures", "checks", "load_average_at_end")}, indent=2))
    print(f"machine load average at start {machine['load_average_at_start']}")


if __name__ == "__main__":
    main()
