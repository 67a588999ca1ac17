"""The served model of the session's default run, logged and served as a team would serve it.

- Logging it printed no MLflow warning: no CloudPickle (it is "models from code"), no missing
  type hints, no missing signature or input example (read from the run's console output).
- `mlflow models serve` of it answers each bad request with a 4xx whose body names the problem,
  and keeps serving: a good request is answered after each. A row the suites refuse is answered
  (200) with its reasons. Eight concurrent clients for a few seconds get no error.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from project import free_port, project_env, run, stop_process_group

pytestmark = pytest.mark.slow

# Column types parsed as numbers: text there is refused by the raw suite's regex first.
NUMBERS = ("number", "integer")

# In the project's environment: the default run's served model, where MLflow keeps it, and how
# it loads (its predict's input type hint).
SERVED_MODEL = """
import json, sys
from pathlib import Path
import mlflow
client = mlflow.MlflowClient()
experiment = client.get_experiment_by_name(sys.argv[1])
runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])
uri = next(r.data.tags["training.serving_model_uri"] for r in runs
           if "training.serving_model_uri" in r.data.tags)
path = Path(mlflow.artifacts.download_artifacts(uri))
hints = mlflow.pyfunc.load_model(uri).unwrap_python_model().predict_type_hints
print(json.dumps({"uri": uri, "path": str(path), "input_hint": repr(hints.input)}))
"""


@pytest.fixture(scope="module")
def served_model(default_project) -> dict:
    python = str(default_project.root / ".venv" / "bin" / "python")
    done = run(
        default_project.root,
        python,
        "-c",
        SERVED_MODEL,
        default_project.package,
        MLFLOW_TRACKING_URI=default_project.tracking_uri,
    )
    model = json.loads(done.stdout.splitlines()[-1])
    path = Path(model["path"])
    model["example"] = json.loads((path / "serving_input_example.json").read_text())
    model["plan"] = json.loads(next((path / "artifacts").rglob("plan.json")).read_text())
    model["files"] = sorted(p.name for p in path.iterdir())
    model["mlmodel"] = (path / "MLmodel").read_text()
    return model


def test_logging_the_served_model_prints_no_mlflow_warning(default_project, served_model) -> None:
    output = default_project.run_output
    for warning in (
        "CloudPickle",  # a pickled Python object as the model
        "Add type hints",  # predict without type hints (ours, or kedro-mlflow's at start-up)
        "Failed to infer model signature",
        "An input example was not provided",
        "Failed to validate serving input example",
    ):
        assert warning not in output, warning
    assert "Validating served model logged to MLflow" in output
    # Models from code: the file serving_model.py, the plan as JSON, no pickle.
    assert "model_code_path" in served_model["mlmodel"] and "python_model.pkl" not in served_model["files"]
    assert "serving_model.py" in served_model["files"]
    assert "DataFrame" in served_model["input_hint"]


def post(port: int, body: str | bytes) -> tuple[int, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations",
        data=body if isinstance(body, bytes) else body.encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def refused_value(plan: dict) -> tuple[str, str, str]:
    """A main-source text column, a value an in-set expectation refuses, and its reason."""
    for dataset, suite in plan["suites"].items():
        for expectation in suite["expectations"]:
            column = expectation["kwargs"].get("column")
            kind = plan["column_types"].get(column)
            if expectation["type"].endswith("_to_be_in_set") and kind not in {None, *NUMBERS}:
                return column, "not-a-known-value", f"{dataset}.{expectation['id']}"
    raise AssertionError("the default suites have an in-set expectation on a main-source column")


def bad_requests(example: dict, plan: dict) -> dict[str, tuple[str, str]]:
    """Each bad request, and the words its answer must hold."""
    split = example["dataframe_split"]
    columns, rows = split["columns"], split["data"]
    numbers = [c for c, kind in plan["related_columns"].items() if kind == "number"]

    def body(cols: list, data: list) -> str:
        return json.dumps({"dataframe_split": {"columns": cols, "data": data}})

    def with_value(column: str, value: object) -> list:
        changed = copy.deepcopy(rows)
        changed[0][columns.index(column)] = value
        return changed

    number = numbers[0]

    def written(column: str, text: str) -> str:
        """The body with ``text`` written as the first row's JSON value of ``column``."""
        return body(columns, with_value(column, 1.5)).replace("1.5", text, 1)

    big = body(columns, rows * (10_000_000 // len(json.dumps(rows)) + 1))
    assert len(big) >= 10_000_000
    return {
        "a missing column": (body(columns[1:], [r[1:] for r in rows]), f"no column(s) ['{columns[0]}']"),
        "an extra column": (body([*columns, "unexpected"], [[*r, 1] for r in rows]), "unknown column(s)"),
        "a list as a value": (body(columns, with_value(columns[0], [1, 2])), "a list or an object"),
        "an object as a value": (body(columns, with_value(columns[0], {"a": 1})), "a list or an object"),
        "text in a number column": (body(columns, with_value(number, "many")), f"{number} holds numbers"),
        "an infinite number": (written(number, "Infinity"), "Infinity (an infinite number)"),
        "a negative infinite number": (written(number, "-Infinity"), "-Infinity (an infinite number)"),
        # NaN is not JSON either: MLflow's parser reads it, and in a column of numbers pandas
        # would hold it as it holds null; the served model has its server refuse it.
        "a NaN in a number column": (written(number, "NaN"), "NaN (not a number)"),
        "a NaN in a text column": (written(columns[0], "NaN"), "NaN (not a number)"),
        "an integer beyond a float": (written(number, "9" * 400), "beyond a 64-bit float's range"),
        "an integer too long to read": (written(number, "9" * 5000), "too long to read"),
        "text 'inf' in a number column": (body(columns, with_value(number, "inf")), "infinite number"),
        "an empty body": ("", "valid JSON"),
        "an empty object": ("{}", "dataframe_split"),
        "no rows": (body(columns, []), "no rows"),
        "a body of 10 MB": (big, "at most 10,000"),
        "malformed JSON": ('{"dataframe_split": {"columns": [', "valid JSON"),
    }


@pytest.fixture(scope="module")
def server(default_project, served_model):
    venv_bin = default_project.root / ".venv" / "bin"
    port = free_port()
    env = project_env(
        MLFLOW_TRACKING_URI=default_project.tracking_uri,
        PATH=f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
    )
    process = subprocess.Popen(
        [
            *(str(venv_bin / "mlflow"), "models", "serve", "-m", served_model["uri"]),
            *("--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)),
        ],
        cwd=default_project.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=5):
                    break
            except OSError:
                assert process.poll() is None, "mlflow models serve exited"
                assert time.monotonic() < deadline, "mlflow models serve did not start"
                time.sleep(0.5)
        yield port
    finally:
        stop_process_group(process)


def test_bad_requests_get_a_4xx_naming_the_problem_and_the_server_keeps_serving(server, served_model) -> None:
    example, plan = served_model["example"], served_model["plan"]
    good = json.dumps(example)
    status, text = post(server, good)
    assert status == 200, text
    answered = len(json.loads(text)["predictions"])
    assert answered == len(example["dataframe_split"]["data"])
    outcomes = {}
    for name, (body, words) in bad_requests(example, plan).items():
        status, text = post(server, body)
        after, _ = post(server, good)
        outcomes[name] = (status, words in text, after)
        assert 400 <= status < 500 and words in text and after == 200, (name, status, text[-500:], after)
    print(f"\nbad requests: {outcomes}")

    # null, unlike NaN, is JSON's missing value: answered, the suites judging the row.
    numbers = [c for c, kind in plan["related_columns"].items() if kind == "number"]
    missing = copy.deepcopy(example)
    missing["dataframe_split"]["data"][0][missing["dataframe_split"]["columns"].index(numbers[0])] = None
    status, text = post(server, json.dumps(missing))
    assert status == 200, text

    # A row the suites refuse is answered, with the batch quarantine's reason, not scored.
    column, value, reason = refused_value(plan)
    refused = copy.deepcopy(example)
    refused["dataframe_split"]["data"][0][refused["dataframe_split"]["columns"].index(column)] = value
    status, text = post(server, json.dumps(refused))
    assert status == 200, text
    first, second = json.loads(text)["predictions"][:2]
    assert reason in (first["quarantine_reasons"] or ""), first
    assert second["quarantine_reasons"] is None


def test_eight_concurrent_clients_get_no_error(server, served_model) -> None:
    good = json.dumps(served_model["example"])
    statuses: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 5

    def client() -> None:
        while time.monotonic() < deadline:
            try:
                status, _ = post(server, good)
            except OSError:
                status = 0
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"\n8 clients for 5 s: {len(statuses)} answers")
    assert statuses and set(statuses) == {200}, sorted(set(statuses))
