"""What the project's commands cost and say before any work starts, on the session's project.

- Start-up: what Kedro imports of the project for every command (settings, hooks, the project's
  CLI) and for ``kedro registry list`` (the pipeline registry, with the project's conf) must not
  pull in a heavy library; those are imported inside the nodes that use them.
- ``MLFLOW_TRACKING_URI`` naming a file store ends ``kedro run`` with one line, exit code 1.
- ``kedro run`` is quiet by default; ``kedro run -v`` brings library INFO lines and progress
  bars back for that run.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from project import project_env

pytestmark = pytest.mark.slow

# Imported by nodes when they run, never by the modules Kedro loads to start a command.
HEAVY = ("mlflow", "great_expectations", "fairlearn", "pyspark", "sklearn", "matplotlib")

# Kedro's own start-up (kedro only: no plugin is loaded, so nothing but the project can bring a
# heavy library in), then what `kedro` imports of the project, then `kedro registry list`.
STARTUP = r"""
import importlib, json, sys
from pathlib import Path
import kedro.config, kedro.framework.cli.cli, kedro.framework.project, kedro.framework.session
from kedro.framework.startup import bootstrap_project

package = sys.argv[1]
before = set(sys.modules)
bootstrap_project(Path.cwd())  # imports settings, and with it the hooks, as `kedro` does
for name in ("settings", "hooks", "cli", "pipeline_registry"):
    importlib.import_module(f"{package}.{name}")
from kedro.framework.project import pipelines

registered = importlib.import_module(f"{package}.pipeline_registry").register_pipelines()
names = sorted(pipelines)  # what `kedro registry list` lists
print(json.dumps({
    "registered": sorted(registered),
    "listed": names,
    "loaded_by_project": sorted({m.split(".")[0] for m in set(sys.modules) - before}),
}))
"""


def importers(importtime: str, module: str) -> list[str]:
    """The chain of imports that first loaded ``module``, outermost first (``-X importtime``).

    importtime prints each import after the imports it caused, indented one level deeper.
    """
    entries = []
    for line in importtime.splitlines():
        found = re.match(r"import time:\s+\d+ \|\s+\d+ \|( *)(\S+)", line)
        if found:
            entries.append((len(found.group(1)) // 2, found.group(2)))
    for index, (depth, name) in enumerate(entries):
        if name == module:
            chain, level = [name], depth
            for outer_depth, outer in entries[index + 1 :]:
                if outer_depth < level:
                    chain.append(outer)
                    level = outer_depth
            return chain[::-1]
    return []


def test_kedro_start_up_imports_no_heavy_library_from_the_project(default_project) -> None:
    python = default_project.root / ".venv" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-X", "importtime", "-c", STARTUP, default_project.package],
        cwd=default_project.root,
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"__default__", "ingestion", "training"} <= set(result["listed"])
    assert result["listed"] == result["registered"]
    heavy = sorted(set(HEAVY) & set(result["loaded_by_project"]))
    chains = {name: " <- ".join(importers(done.stderr, name)[::-1]) for name in heavy}
    assert not heavy, f"imported at start-up by the project's modules: {chains}"


@pytest.mark.parametrize("uri", ["mlruns", "file:///tmp/not-a-store/mlruns"])
def test_a_file_store_tracking_uri_is_refused_in_one_line(default_copy, uri: str) -> None:
    copy, kedro_in_copy = default_copy
    done = kedro_in_copy("run", MLFLOW_TRACKING_URI=uri)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert len(lines) == 1, done.stderr
    assert "MLFLOW_TRACKING_URI" in lines[0] and uri in lines[0]
    assert "sqlite:///mlflow.db" in lines[0]
    assert "Traceback" not in done.stdout + done.stderr
    assert not (copy / "mlruns").exists()  # stopped before the session started


def test_verbose_brings_back_library_info_lines_and_progress_bars(default_copy) -> None:
    copy, kedro_in_copy = default_copy
    run_log = copy / "data" / "08_reporting" / "run.log"
    outputs, logs = {}, {}
    for label, args in (("verbose", ["-v"]), ("quiet", [])):  # -v first: it creates the store
        run_log.unlink(missing_ok=True)
        done = kedro_in_copy("run", "--pipelines", "ingestion,validation", *args, check=True)
        outputs[label], logs[label] = done.stdout + done.stderr, run_log.read_text()
    library_info = r"INFO\s+(mlflow|alembic|great_expectations)[\w.]*:"
    assert not re.search(library_info, logs["quiet"]), re.findall(rf".*{library_info}.*", logs["quiet"])
    assert "Calculating Metrics" not in outputs["quiet"]
    assert re.search(r"INFO\s+mlflow[\w.]*:", logs["verbose"]), logs["verbose"][-3000:]
    assert re.search(r"INFO\s+great_expectations[\w.]*:", logs["verbose"])
    assert "Calculating Metrics" in outputs["verbose"]  # Great Expectations' progress bars
    # Floods stay out even with -v: every SQL statement, GX's import-time registrations.
    assert not re.search(r"INFO\s+sqlalchemy\.engine", logs["verbose"])
    assert "Skipping registering function" not in outputs["verbose"]
    assert "Completed node:" in outputs["quiet"] and "Completed node:" in outputs["verbose"]
