"""A default run against the team's MLflow server beside the same run against the local store.

Usage, with a generated project whose environment has the `team` extra (`uv sync --extra team`):

    uv run python tools/bench_tracking_server.py path/to/project [--repeats 3] [--no-auth]

Starts the project's own `deploy/team-server.sh` (basic-auth; `--no-auth`: a plain `mlflow
server`) on a loopback port with SQLite stores in a temporary folder, creates a user with EDIT
on the project's experiment, then runs `kedro run` alternately against a fresh local SQLite
store and against the server. Prints the wall seconds of each, their medians and ratio, and the
requests one server run made, by endpoint (from the server's access log). Not a test: the
figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from base64 import b64encode
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from project import free_port, project_env, run, stop_process_group


def call(uri: str, method: str, path: str, auth: tuple[str, str] | None, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{uri}{path}", method=method, data=json.dumps(body).encode() if body else None
    )
    request.add_header("Content-Type", "application/json")
    if auth:
        request.add_header("Authorization", "Basic " + b64encode(":".join(auth).encode()).decode())
    with urllib.request.urlopen(request, timeout=60) as answer:
        text = answer.read()
    return json.loads(text) if text else {}


def start_server(project: Path, folder: Path, auth: bool) -> tuple[subprocess.Popen, dict[str, str]]:
    """The server and the environment a client of it needs."""
    port = free_port()
    log = (folder / "access.log").open("w")
    if auth:
        admin = ("admin", "admin-" + secrets.token_hex(12))
        env = project_env(
            MLFLOW_AUTH_ADMIN_PASSWORD=admin[1],
            MLFLOW_FLASK_SERVER_SECRET_KEY=secrets.token_hex(32),
            MLFLOW_SERVER_DIR=str(folder),
            PORT=str(port),
        )
        command = [str(project / "deploy/team-server.sh"), "--workers", "1"]
    else:
        admin, env = None, project_env()
        command = [
            str(project / ".venv/bin/mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
            "--artifacts-destination", str(folder / "artifacts"), "--workers", "1",
        ]  # fmt: skip
    server = subprocess.Popen(
        command, cwd=project, env=env, stdout=log, stderr=subprocess.DEVNULL, start_new_session=True
    )
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{uri}/health", timeout=2).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start: {' '.join(command)}") from None
            time.sleep(1)
    client = {"MLFLOW_TRACKING_URI": uri}
    if auth:
        experiment = call(
            uri, "POST", "/api/2.0/mlflow/experiments/create", admin, {"name": project_package(project)}
        )
        user = ("bench", "bench-" + secrets.token_hex(12))
        call(uri, "POST", "/api/2.0/mlflow/users/create", admin, {"username": user[0], "password": user[1]})
        grant = {"username": user[0], "resource_type": "experiment",
                 "resource_id": experiment["experiment_id"], "permission": "EDIT"}  # fmt: skip
        call(uri, "POST", "/api/3.0/mlflow/users/permissions/grant", admin, grant)
        client |= {"MLFLOW_TRACKING_USERNAME": user[0], "MLFLOW_TRACKING_PASSWORD": user[1]}
    return server, client


def project_package(project: Path) -> str:
    return re.search(r'package_name = "([^"]+)"', (project / "pyproject.toml").read_text()).group(1)


def requests_since(log: Path, line: int) -> Counter:
    found: Counter = Counter()
    for text in log.read_text().splitlines()[line:]:
        match = re.search(r'"([A-Z]+) (/[^ ?]*)', text)
        if match:
            path = re.sub(r"/artifacts/.*", "/artifacts/...", match.group(2))
            found[f"{match.group(1)} {re.sub(r'/m-[0-9a-f]+', '/<model>', path)}"] += 1
    return found


def timed_run(project: Path, **env: str) -> float:
    start = time.perf_counter()
    run(project, str(project / ".venv/bin/kedro"), "run", **env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-auth", action="store_true", help="a plain mlflow server")
    args = parser.parse_args()
    project = args.project.resolve()
    with tempfile.TemporaryDirectory(prefix="bench-tracking-") as tmp:
        folder = Path(tmp)
        server, client = start_server(project, folder, auth=not args.no_auth)
        local_s, server_s, counts = [], [], Counter()
        try:
            for index in range(args.repeats):
                local_s.append(
                    timed_run(project, MLFLOW_TRACKING_URI=f"sqlite:///{folder / f'local-{index}.db'}")
                )
                before = len((folder / "access.log").read_text().splitlines())
                server_s.append(timed_run(project, **client))
                counts = requests_since(folder / "access.log", before)
                print(f"run {index + 1}: local {local_s[-1]:.1f} s, server {server_s[-1]:.1f} s", flush=True)
        finally:
            stop_process_group(server)
    local, remote = statistics.median(local_s), statistics.median(server_s)
    result = {
        "server": "basic-auth" if not args.no_auth else "plain",
        "local_s": [round(s, 1) for s in local_s],
        "server_s": [round(s, 1) for s in server_s],
        "median_local_s": round(local, 1),
        "median_server_s": round(remote, 1),
        "ratio": round(remote / local, 2),
        "requests_per_run": sum(counts.values()),
        "get_history_requests": counts["GET /api/2.0/mlflow/metrics/get-history"],
        "requests_by_endpoint": dict(counts.most_common()),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
