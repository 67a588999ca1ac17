#!/usr/bin/env python
"""Speed-and-scale benchmark of the generated project (``make bench``).

Renders the template into ``build/bench/``, installs it once, and for each size (default 10k,
100k and 1M applicants) generates seeded data into the project's ``data/01_raw``, runs
``kedro run`` (the default pipeline) as a subprocess and measures:

* end-to-end wall time and CPU time of the process, and its peak resident memory
  (``wait4``'s largest process, and the whole process tree sampled from /proc);
* from ``data/08_reporting/run_timings.json`` (the project's RunTimingHooks): per node its
  compute time and the time its datasets took to load and save, summed per stage (the
  pipeline the node belongs to, from its tags);
* framework and tracking overhead = wall - compute - dataset I/O (start-up included), and,
  separately, the time outside the pipeline (process start-up, imports and shut-down:
  wall - pipeline_wall_s).

It also times ``kedro --help`` and ``kedro registry list`` in the generated project against two
bare projects made by ``kedro new``: (a) kedro only, and (b) kedro with kedro-mlflow and kedro-viz
at the versions of the generated project's lock (the lock's other versions as constraints), 5
times each, alternated (median); the target is the project within 10 % of (b). What (b) imports
beyond (a) is reported from ``python -X importtime``. It writes ``results.json``, ``results.md``
and ``results.png`` into ``build/bench/results`` (``--publish``: ``docs/bench``), states the
machine with every result, and checks the targets of the speed-and-scale issue. A size that fails
is recorded with its error and the harness goes on. ``--cli-only`` times the command line only.

    python tools/bench.py [--sizes 10k,100k,1M] [--seed 42] [--publish] [--reuse] [--cli-only]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from project import TEMPLATE_DIR, install, project_env, render, uv

BUILD = TEMPLATE_DIR / "build" / "bench"
RESULTS_DIR = BUILD / "results"
PUBLISH_DIR = TEMPLATE_DIR / "docs" / "bench"
GENERATOR = TEMPLATE_DIR / "tools" / "generate_sample_data.py"
DEFAULT_SIZES = "10k,100k,1M"
TABLE_LAYERS = ("intermediate", "primary", "feature", "model_input")
TRACKING_TYPES = ("Mlflow",)  # dataset types whose save is (also) a call to the tracking store
MB = 1024 * 1024
SETUP_LABELS = {
    "render_s": "render",
    "install_s": "install (uv sync, warm cache)",
    "bytecode_compile_s": "bytecode compilation of the environment (a first run pays it)",
    "mlflow_store_creation_s": "creation of the local MLflow store",
}

# Targets of the issue.
TARGET_WALL_S = 600.0  # 1M applicants end to end
TARGET_PEAK_MB = 4096.0
TARGET_GROWTH = 12.0  # time(1M) / time(100k); in general 1.2 x the ratio of rows
OVERHEAD_FIXED_S = 10.0
OVERHEAD_SHARE = 0.05

# Run in the project's own Python: node -> stage, dataset types and layers.
INTROSPECT = r"""
import json, sys
from pathlib import Path
from kedro.framework.project import pipelines, settings
from kedro.framework.startup import bootstrap_project

root = Path.cwd()
bootstrap_project(root)
registered = {name: pipe for name, pipe in pipelines.items()}
default = registered["__default__"]
names = [n for n in registered if n != "__default__"]
nodes = {}
for node in default.nodes:
    member = [n for n in names if node.name in {x.name for x in registered[n].nodes}]
    tags = sorted(node.tags)
    stage = next((t for t in tags if t in names), member[0] if member else "other")
    nodes[node.name] = {"stage": stage, "tags": tags}
loader = settings.CONFIG_LOADER_CLASS(
    conf_source=str(root / settings.CONF_SOURCE), **settings.CONFIG_LOADER_ARGS
)
catalog = {}
for name, entry in loader["catalog"].items():
    if name.startswith("_") or not isinstance(entry, dict):
        continue
    inner = entry.get("dataset")
    inner_type = inner.get("type") if isinstance(inner, dict) else inner
    layer = ((entry.get("metadata") or {}).get("kedro-viz") or {}).get("layer")
    catalog[name] = {"type": entry.get("type"), "inner_type": inner_type, "layer": layer}
bounds = {}
stack = [("", loader["parameters"])]
while stack:
    prefix, value = stack.pop()
    if isinstance(value, dict):
        stack += [(f"{prefix}.{k}" if prefix else str(k), v) for k, v in value.items()]
    elif prefix.rsplit(".", 1)[-1] in ("max_rows", "n_boot", "n_splits", "n_repeats"):
        bounds[prefix] = value
out = {"pipelines": names, "nodes": nodes, "catalog": catalog, "cost_bounds": dict(sorted(bounds.items()))}
Path(sys.argv[1]).write_text(json.dumps(out))
"""

VERSIONS = r"""
import json, sys
from importlib.metadata import PackageNotFoundError, version
out = {"python": sys.version.split()[0]}
for name in ("kedro", "kedro-datasets", "kedro-mlflow", "mlflow", "pandas", "pyarrow",
             "scikit-learn", "great-expectations", "fairlearn"):
    try:
        out[name] = version(name)
    except PackageNotFoundError:
        pass
open(sys.argv[1], "w").write(json.dumps(out))
"""


# --- sizes, machine --------------------------------------------------------------------------


def parse_size(text: str) -> int:
    """``10k`` -> 10000, ``1M`` -> 1000000, ``2500`` -> 2500."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 10k, 100k, 1M, 2500)")
    number, unit = float(match[1]), match[2].lower()
    return int(number * {"": 1, "k": 1_000, "m": 1_000_000}[unit])


def parse_sizes(text: str) -> list[int]:
    return sorted({parse_size(part) for part in text.split(",") if part.strip()})


def human_rows(rows: int) -> str:
    if rows >= 1_000_000 and rows % 100_000 == 0:
        return f"{rows / 1_000_000:g}M"
    if rows >= 1_000 and rows % 100 == 0:
        return f"{rows / 1_000:g}k"
    return str(rows)


def machine_info() -> dict[str, Any]:
    """Cores, memory, CPU model, OS, Python and the date, stated with every result."""
    cpu_model = platform.processor() or platform.machine()
    memory_gb = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "cpu_model": cpu_model,
        "os": platform.platform(),
        "python": platform.python_version(),
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "load_average_at_start": load,
    }


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=TEMPLATE_DIR, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def template_commit(ref: str | None) -> dict[str, Any]:
    """The commit benchmarked: ``ref``, or HEAD plus whether the working tree differs from it."""
    if ref:
        return {"commit": _git("rev-parse", ref) or None, "ref": ref, "project_dirty": False}
    status = _git("status", "--porcelain", "--", "{{ cookiecutter.repo_name }}", "tools")
    return {"commit": _git("rev-parse", "HEAD") or None, "ref": None, "project_dirty": bool(status)}


def export_template(ref: str) -> Path:
    """The template as committed at ``ref`` (``git archive``), so work in progress stays out."""
    dest = BUILD / "template"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref], cwd=TEMPLATE_DIR, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


# --- measuring a process ---------------------------------------------------------------------


def _tree_pids(root_pid: int) -> set[int]:
    """``root_pid`` and all its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    tree, frontier = {root_pid}, [root_pid]
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in tree:
                tree.add(child)
                frontier.append(child)
    return tree


def _tree_memory(root_pid: int, page: int) -> dict[str, int]:
    """The tree's summed RSS; its summed PSS (shared pages split between their sharers, so the
    forked Python workers of Spark are not counted once per fork); and the driver's RSS: the root
    process plus any JVM it started (Spark's driver in local mode)."""
    rss = pss = driver = 0
    for pid in _tree_pids(root_pid):
        try:
            resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except (OSError, IndexError, ValueError):
            continue
        rss += resident
        if pid == root_pid or name == "java":
            driver += resident
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
                    break
    return {"rss": rss, "pss": pss, "driver": driver}


class TreeMemorySampler(threading.Thread):
    """Samples the memory of a process tree every ``interval`` seconds (Linux /proc): the peaks of
    its summed RSS (``peak``), its summed PSS (``peak_pss``) and the driver's RSS."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self.peak_pss = self.peak_driver = 0
        self.stopped = threading.Event()
        self.available = Path("/proc/self/statm").exists()

    def run(self) -> None:
        if not self.available:
            return
        page = os.sysconf("SC_PAGE_SIZE")
        while not self.stopped.is_set():
            with contextlib.suppress(OSError):
                memory = _tree_memory(self.pid, page)
                self.peak = max(self.peak, memory["rss"])
                self.peak_pss = max(self.peak_pss, memory["pss"])
                self.peak_driver = max(self.peak_driver, memory["driver"])
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


def run_measured(
    args: list[str], cwd: Path, log_path: Path, timeout: float, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run a command with its output in ``log_path``; wall and CPU time, peak memory, exit code."""
    start = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=env or project_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        sampler = TreeMemorySampler(proc.pid)
        sampler.start()
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
        sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
    largest = usage.ru_maxrss / 1024  # kB -> MB (Linux)
    return {
        "exit_code": proc.returncode,
        "timed_out": timed_out.is_set(),
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_largest_process_mb": largest,
        "peak_rss_tree_sampled_mb": sampler.peak / MB if sampler.available else None,
        "peak_pss_tree_sampled_mb": sampler.peak_pss / MB if sampler.available else None,
        "peak_rss_driver_sampled_mb": sampler.peak_driver / MB if sampler.available else None,
        "peak_rss_mb": max(largest, (sampler.peak / MB) if sampler.available else 0.0),
    }


def time_command(args: list[str], cwd: Path, repeats: int, env: dict[str, str] | None = None) -> dict:
    """Median (and each) wall time of ``repeats`` runs of a quick command, and its CPU time."""
    import resource

    runs, cpu, error = [], [], None
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(args, cwd=cwd, env=env or project_env(), capture_output=True, text=True)
        runs.append(round(time.perf_counter() - start, 3))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 3))
        if done.returncode != 0:
            error = (done.stderr or done.stdout).strip()[-800:]
            break
    return {"median_s": statistics.median(runs), "runs_s": runs, "cpu_s": cpu, "error": error}


# --- one size --------------------------------------------------------------------------------


def clear_outputs(project: Path) -> None:
    """Remove everything a run writes under data/02..08 (keep the folders and their .gitkeep)."""
    for layer in sorted((project / "data").glob("0[2-8]_*")):
        for item in layer.iterdir():
            if item.name.startswith(".") or item.name == "README.md":
                continue
            shutil.rmtree(item) if item.is_dir() else item.unlink()


def generate_data(
    project: Path, rows: int, seed: int, generator: Path = GENERATOR
) -> tuple[float, dict[str, Any]]:
    """Seeded sample data into the project's data/01_raw, in a separate process."""
    raw = project / "data" / "01_raw"
    for name in ("applications.csv", "bureau.db", "manifest.json"):
        (raw / name).unlink(missing_ok=True)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, str(generator), "--rows", str(rows), "--seed", str(seed), "--out", str(raw)],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    manifest = json.loads((raw / "manifest.json").read_text())
    sizes = {name: (raw / name).stat().st_size / MB for name in ("applications.csv", "bureau.db")}
    return seconds, {"manifest": manifest, "raw_mb": sizes}


def _bureau_rows(manifest: dict[str, Any]) -> int | None:
    """The number of bureau records, wherever the manifest keeps it."""
    stack = [manifest]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, int) and re.fullmatch(r"(n_)?bureau_(records|rows)(_count)?", key):
                    return value
                stack.append(value)
    return None


def summarise_timings(
    timings: dict[str, Any], wall_s: float, introspection: dict[str, Any]
) -> dict[str, Any]:
    """Per stage compute and I/O, overhead and the time outside the pipeline, from run_timings."""
    node_stage = {name: info["stage"] for name, info in introspection.get("nodes", {}).items()}
    catalog = introspection.get("catalog", {})
    nodes = {}
    for name, entry in timings.get("nodes", {}).items():
        nodes[name] = {
            "stage": node_stage.get(name, "other"),
            "compute_s": entry.get("compute_s", 0.0),
            "load_s": entry.get("load_s", 0.0),
            "save_s": entry.get("save_s", 0.0),
        }
    stages: dict[str, dict[str, float]] = {}
    for entry in nodes.values():
        stage = stages.setdefault(
            entry["stage"], {"compute_s": 0.0, "load_s": 0.0, "save_s": 0.0, "nodes": 0}
        )
        for key in ("compute_s", "load_s", "save_s"):
            stage[key] += entry[key]
        stage["nodes"] += 1
    for stage in stages.values():
        stage["io_s"] = stage["load_s"] + stage["save_s"]
        stage["total_s"] = stage["compute_s"] + stage["io_s"]
    datasets = timings.get("datasets", {})
    load_s = sum(d.get("load_s", 0.0) for d in datasets.values())
    save_s = sum(d.get("save_s", 0.0) for d in datasets.values())
    tracking_io_s = sum(
        d.get("load_s", 0.0) + d.get("save_s", 0.0)
        for name, d in datasets.items()
        if str((catalog.get(name) or {}).get("type") or "").split(".")[-1].startswith(TRACKING_TYPES)
    )
    compute_s = sum(n["compute_s"] for n in nodes.values())
    pipeline_wall_s = timings.get("pipeline_wall_s", float("nan"))
    io_s = load_s + save_s
    return {
        "pipeline_wall_s": pipeline_wall_s,
        "outside_pipeline_s": wall_s - pipeline_wall_s,
        "compute_s": compute_s,
        "load_s": load_s,
        "save_s": save_s,
        "io_s": io_s,
        "tracking_io_s": tracking_io_s,
        "overhead_s": wall_s - compute_s - io_s,
        "overhead_in_pipeline_s": pipeline_wall_s - compute_s - io_s,
        "overhead_budget_s": OVERHEAD_FIXED_S + OVERHEAD_SHARE * wall_s,
        "peak_rss_kedro_process_mb": timings.get("peak_rss_mb"),
        "stages": dict(sorted(stages.items(), key=lambda kv: -kv[1]["total_s"])),
        "nodes": dict(
            sorted(nodes.items(), key=lambda kv: -(kv[1]["compute_s"] + kv[1]["load_s"] + kv[1]["save_s"]))
        ),
        "datasets": datasets,
    }


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def audit_seconds(log_path: Path) -> float | None:
    """The project's own figure for its audit trail (part of the overhead), from its run summary."""
    try:
        text = " ".join(log_path.read_text(errors="replace").split())
    except OSError:
        return None
    found = re.findall(r"audit trail recorded in ([0-9.]+) s", text)
    return float(found[-1]) if found else None


def log_tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def bench_size(
    project: Path,
    rows: int,
    seed: int,
    log_dir: Path,
    introspection: dict,
    timeout: float,
    kedro: Path | None = None,
    env: dict[str, str] | None = None,
    generator: Path = GENERATOR,
    run_args: tuple[str, ...] = ("run",),
) -> dict[str, Any]:
    """Generate, run, measure one size; any failure is recorded, never raised.

    ``kedro``: the executable (default: the project's own); ``env``: the run's environment;
    ``run_args``: the kedro command (e.g. ``("run", "--env", "spark")``).
    """
    result: dict[str, Any] = {"rows": rows, "status": "failed", "error": None}
    log_path = log_dir / f"{'_'.join(a.strip('-') for a in run_args)}_{human_rows(rows)}.log"
    result["log"] = log_path.name
    try:
        clear_outputs(project)
        result["generate_s"], data = generate_data(project, rows, seed, generator)
        result["bureau_records"] = _bureau_rows(data["manifest"])
        result["raw_mb"] = data["raw_mb"]
        timings_path = project / "data" / "08_reporting" / "run_timings.json"
        timings_path.unlink(missing_ok=True)
        executable = str(kedro or project / ".venv" / "bin" / "kedro")
        print(f"  kedro {' '.join(run_args)} on {human_rows(rows)} applicants ...", flush=True)
        result["load_average_before"] = _load_average()
        run_env = {"COLUMNS": "160", **(env or project_env())}  # fewer wrapped log lines
        measured = run_measured([executable, *run_args], project, log_path, timeout, env=run_env)
        result.update(measured)
        result["load_average_after"] = _load_average()
        if measured["timed_out"]:
            result["error"] = f"timed out after {timeout:.0f} s\n{log_tail(log_path)}"
            return result
        if measured["exit_code"] != 0:
            result["error"] = f"kedro run exit code {measured['exit_code']}\n{log_tail(log_path)}"
            return result
        if not timings_path.exists():
            result["error"] = f"the run wrote no {timings_path.relative_to(project)}"
            return result
        timings = json.loads(timings_path.read_text())
        result.update(summarise_timings(timings, measured["wall_s"], introspection))
        result["audit_trail_s"] = audit_seconds(log_path)
        result["status"] = "ok"
    except Exception as error:  # record it and go on with the next size
        result["error"] = f"{type(error).__name__}: {error}"
    return result


# --- CLI start-up ----------------------------------------------------------------------------


PLUGINS = ("kedro-mlflow", "kedro-viz")  # baseline (b): the bare project with these installed
CLI_COMMANDS = {"kedro --help": ["--help"], "kedro registry list": ["registry", "list"]}
TARGET_CLI_RATIO = 1.10  # the project's commands within 10 % of baseline (b)


def locked_versions(project: Path) -> dict[str, str]:
    """Package name -> version in the project's ``uv.lock``."""
    lock = tomllib.loads((project / "uv.lock").read_text())
    packages = lock.get("package", [])
    return {package["name"]: package["version"] for package in packages if "version" in package}


def make_bare_project(
    kedro_version: str, plugins: dict[str, str] | None = None, constraints: Path | None = None
) -> Path:
    """``kedro new`` with no tools and no example, in its own venv: kedro only (baseline (a)),
    or with ``plugins`` (name -> version) installed too (baseline (b), in its own folder).

    ``constraints`` (the generated project's lock, exported) pins every shared dependency to
    the project's version, so (b) differs from the project by the project's own code only.
    """
    folder = BUILD / ("bare-plugins" if plugins else "bare")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    kedro_cli = shutil.which("kedro") or str(Path(sys.executable).with_name("kedro"))
    subprocess.run(
        [kedro_cli, "new", "--name", "bare", "--tools", "none", "--example", "n"],
        cwd=folder,
        env=project_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    bare = folder / "bare"
    venv = bare / ".venv"
    subprocess.run(
        [*uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, env=project_env()
    )
    requirements = [f"kedro=={kedro_version}", *(f"{n}=={v}" for n, v in (plugins or {}).items())]
    subprocess.run(
        [
            *uv(),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            *(["--constraint", str(constraints)] if constraints else []),
            *requirements,
        ],
        check=True,
        env=project_env(),
    )
    # Compiled like the generated project's environment (uv does not compile, and with
    # PYTHONDONTWRITEBYTECODE set every start-up would compile all it imports again).
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "compileall", "-q", "-j", "0", str(venv / "lib")],
        capture_output=True,
    )
    return bare


def lock_constraints(project: Path) -> Path:
    """The project's locked dependencies as a pip constraints file (``uv export``)."""
    done = subprocess.run(
        [
            *uv(),
            "export",
            "--frozen",
            "--no-hashes",
            "--no-dev",
            "--no-emit-project",
            "--no-header",
            "--no-annotate",
        ],
        cwd=project,
        env=project_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    path = BUILD / "lock-constraints.txt"
    path.write_text(done.stdout)
    return path


def make_baselines(project: Path, kedro_version: str) -> dict[str, Path | None]:
    """Baseline (a) kedro only, and (b) kedro + kedro-mlflow + kedro-viz at the lock's versions."""
    locked = locked_versions(project)
    plugins = {name: locked[name] for name in PLUGINS if name in locked}
    return {
        "bare": make_bare_project(kedro_version),
        "bare_plugins": make_bare_project(kedro_version, plugins, lock_constraints(project)),
    }


def parse_importtime(text: str) -> list[dict[str, Any]]:
    """``python -X importtime`` lines: module, depth, self and cumulative seconds, in order."""
    entries = []
    for line in text.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if found:
            entries.append(
                {
                    "module": found.group(4),
                    "depth": len(found.group(3)) // 2,
                    "self_s": int(found.group(1)) / 1e6,
                    "cumulative_s": int(found.group(2)) / 1e6,
                }
            )
    return entries


def import_costs(entries: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds of import spent in each top-level package's own modules (self times summed)."""
    costs: dict[str, float] = {}
    for entry in entries:
        package = entry["module"].split(".")[0]
        costs[package] = costs.get(package, 0.0) + entry["self_s"]
    return costs


def first_importer(entries: list[dict[str, Any]], package: str) -> str | None:
    """The outermost import under which ``package`` was first imported (importtime nesting).

    The first module of another package above it, else the outermost import (an import made
    by a function call, e.g. a plugin loaded from its entry point, is at depth 0).
    """
    for index, entry in enumerate(entries):
        if entry["module"].split(".")[0] != package:
            continue
        level, outermost, foreign = entry["depth"], entry["module"], None
        for outer in entries[index + 1 :]:
            if outer["depth"] < level:
                level, outermost = outer["depth"], outer["module"]
                if foreign is None and outermost.split(".")[0] != package:
                    foreign = outermost
            if level == 0:
                break
        return foreign or outermost
    return None


def importtime_difference(bare: Path, with_plugins: Path, top: int = 12) -> dict[str, Any]:
    """What ``kedro --help`` imports in (b) beyond (a): per package, its cost and who imports it."""
    runs = {}
    for label, root in (("bare", bare), ("bare_plugins", with_plugins)):
        done = subprocess.run(
            [str(root / ".venv" / "bin" / "python"), "-X", "importtime", "-m", "kedro", "--help"],
            cwd=root,
            env=project_env(),
            capture_output=True,
            text=True,
        )
        runs[label] = parse_importtime(done.stderr)
    costs = {label: import_costs(entries) for label, entries in runs.items()}
    extra = {
        package: seconds - costs["bare"].get(package, 0.0)
        for package, seconds in costs["bare_plugins"].items()
    }
    ranked = sorted(extra.items(), key=lambda item: -item[1])[:top]
    return {
        "total_import_s": {label: sum(c.values()) for label, c in costs.items()},
        "packages": [
            {
                "package": package,
                "extra_s": round(seconds, 3),
                "first_imported_by": first_importer(runs["bare_plugins"], package),
            }
            for package, seconds in ranked
        ],
        # Imports at depth 0 that (a) does not make: those made by loading the plugins.
        "plugin_entry_points": sorted(
            (
                {"module": e["module"], "cumulative_s": round(e["cumulative_s"], 3)}
                for e in runs["bare_plugins"]
                if e["depth"] == 0
                and e["cumulative_s"] >= 0.05
                and e["module"] not in {a["module"] for a in runs["bare"] if a["depth"] == 0}
            ),
            key=lambda e: -e["cumulative_s"],
        ),
    }


def cli_timings(project: Path, baselines: dict[str, Path | None], repeats: int) -> dict[str, Any]:
    """``kedro --help`` and ``kedro registry list`` in the generated project and the baselines.

    The runs alternate (project, (a), (b), project, ...) so that a busy moment of the machine
    falls on all three alike; each figure is the median of ``repeats`` runs.
    """
    roots = {"generated": project, **{k: v for k, v in baselines.items() if v is not None}}
    for root in roots.values():  # the projects' own code compiled too, as a second run finds it
        subprocess.run(
            [str(root / ".venv" / "bin" / "python"), "-m", "compileall", "-q", str(root / "src")],
            capture_output=True,
        )
    out: dict[str, Any] = {"repeats": repeats, **{label: {} for label in roots}, "imports_generated": {}}
    for name, args in CLI_COMMANDS.items():
        runs: dict[str, list[float]] = {label: [] for label in roots}
        cpu: dict[str, list[float]] = {label: [] for label in roots}
        errors: dict[str, str | None] = dict.fromkeys(roots)
        for _ in range(repeats):
            for label, root in roots.items():
                if errors[label]:
                    continue
                timed = time_command([str(root / ".venv" / "bin" / "kedro"), *args], root, 1)
                runs[label] += timed["runs_s"]
                cpu[label] += timed["cpu_s"]
                errors[label] = timed["error"]
        for label in roots:
            out[label][name] = {
                "median_s": statistics.median(runs[label]),
                "runs_s": runs[label],
                "cpu_median_s": statistics.median(cpu[label]),
                "cpu_s": cpu[label],
                "error": errors[label],
            }
    out["ratios"] = cli_ratios(out)
    python = str(project / ".venv" / "bin" / "python")
    for name, code in (
        ("python (no imports)", "pass"),
        ("import kedro.framework.cli", "import kedro.framework.cli"),
        ("import mlflow", "import mlflow"),
        ("import kedro_mlflow.framework.cli.cli", "import kedro_mlflow.framework.cli.cli"),
    ):
        out["imports_generated"][name] = time_command([python, "-c", code], project, repeats)
    if baselines.get("bare") and baselines.get("bare_plugins"):
        out["importtime_b_vs_a"] = importtime_difference(baselines["bare"], baselines["bare_plugins"])
    return out


def cli_ratios(cli: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """Per command, the generated project's median over each baseline's."""
    ratios = {}
    for name, generated in cli.get("generated", {}).items():
        ratios[name] = {}
        for label in ("bare", "bare_plugins"):
            base = cli.get(label, {}).get(name)
            ok = base and not base.get("error") and not generated.get("error") and base["median_s"]
            ratios[name][label] = round(generated["median_s"] / base["median_s"], 3) if ok else None
    return ratios


def check_cli_target(cli: dict[str, Any]) -> list[dict[str, Any]]:
    """The start-up target: each command within 10 % of baseline (b)."""
    ratios = cli.get("ratios") or {}
    if not ratios:
        return []
    measured = {name: r.get("bare_plugins") for name, r in ratios.items()}
    holds = None if None in measured.values() else all(r <= TARGET_CLI_RATIO for r in measured.values())
    return [
        {
            "target": "kedro --help and kedro registry list within 10 % of a bare project "
            "with kedro-mlflow and kedro-viz",
            "holds": holds,
            "detail": ", ".join(
                f"{name}: x{r:.2f}" if r is not None else f"{name}: not measured"
                for name, r in measured.items()
            ),
        }
    ]


# --- targets ---------------------------------------------------------------------------------


def scan_row_loops(package_dir: Path) -> list[dict[str, Any]]:
    """Row-wise Python in node code: iterrows, itertuples, apply(axis=1), map/apply of a lambda."""
    findings = []
    for path in sorted(package_dir.glob("pipelines/**/*.py")):
        try:
            tree = ast.parse(path.read_text())
        except SyntaxError:
            continue
        lines = path.read_text().splitlines()
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            attr = node.func.attr
            axis_rows = any(
                k.arg == "axis" and isinstance(k.value, ast.Constant) and k.value.value in (1, "columns")
                for k in node.keywords
            )
            lambda_arg = any(isinstance(a, ast.Lambda) for a in node.args)
            # F.transform(array, lambda ...): a Spark SQL higher-order function, run in the JVM
            spark_sql = isinstance(node.func.value, ast.Name) and node.func.value.id == "F"
            kind = None
            if attr in ("iterrows", "itertuples"):
                kind = attr
            elif attr == "apply" and axis_rows:
                kind = "apply(axis=1)"
            elif attr in ("apply", "map", "applymap", "transform") and lambda_arg and not spark_sql:
                kind = f"{attr}(lambda)"
            if kind:
                findings.append(
                    {
                        "file": str(path.relative_to(package_dir.parent.parent)),
                        "line": node.func.end_lineno,
                        "kind": kind,
                        "code": lines[node.func.end_lineno - 1].strip(),
                    }
                )
    return findings


def _by_rows(results: list[dict]) -> dict[int, dict]:
    return {r["rows"]: r for r in results if r.get("status") == "ok"}


def check_targets(
    sizes: list[dict[str, Any]], catalog: dict[str, Any], row_loops: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each target of the issue: holds (True/False, None when not measured) and why."""
    ok = _by_rows(sizes)
    targets = []
    big = ok.get(1_000_000)
    if big:
        targets.append(
            {
                "target": "1M applicants end to end in under 10 min",
                "holds": big["wall_s"] < TARGET_WALL_S,
                "detail": f"{big['wall_s']:.0f} s (limit {TARGET_WALL_S:.0f} s)",
            }
        )
        targets.append(
            {
                "target": "1M applicants: peak memory under 4 GB",
                "holds": big["peak_rss_mb"] < TARGET_PEAK_MB,
                "detail": f"{big['peak_rss_mb']:.0f} MB (limit {TARGET_PEAK_MB:.0f} MB)",
            }
        )
    else:
        failed = [r for r in sizes if r["rows"] == 1_000_000]
        why = "the 1M run failed: " + (failed[0]["error"] or "")[:200] if failed else "1M not in --sizes"
        for name in ("1M applicants end to end in under 10 min", "1M applicants: peak memory under 4 GB"):
            targets.append({"target": name, "holds": False if failed else None, "detail": why})
    rows = sorted(ok)
    if len(rows) >= 2:
        small, large = rows[-2], rows[-1]
        limit = TARGET_GROWTH * (large / small) / 10
        ratio = ok[large]["wall_s"] / ok[small]["wall_s"]
        targets.append(
            {
                "target": f"time({human_rows(large)}) / time({human_rows(small)}) <= {limit:g}",
                "holds": ratio <= limit,
                "detail": f"{ratio:.2f}",
            }
        )
        slow = []
        for stage, entry in ok[large]["stages"].items():
            before = ok[small]["stages"].get(stage, {}).get("total_s")
            if before and before > 1.0 and entry["total_s"] / before > limit:
                slow.append(f"{stage} x{entry['total_s'] / before:.1f}")
        targets.append(
            {
                "target": f"every stage scales (stage time grows <= {limit:g}x "
                f"from {human_rows(small)} to {human_rows(large)})",
                "holds": not slow,
                "detail": ", ".join(slow) or "all stages within",
            }
        )
    else:
        targets.append({"target": "time(1M) / time(100k) <= 12", "holds": None, "detail": "needs two sizes"})
    if ok:
        over = [
            f"{human_rows(r)}: {ok[r]['overhead_s']:.1f} s > {ok[r]['overhead_budget_s']:.1f} s"
            for r in rows
            if ok[r]["overhead_s"] > ok[r]["overhead_budget_s"]
        ]
        targets.append(
            {
                "target": "framework + tracking overhead <= 10 s + 5 % of wall, at every size",
                "holds": not over,
                "detail": "; ".join(over)
                or ", ".join(
                    f"{human_rows(r)}: {ok[r]['overhead_s']:.1f} s <= {ok[r]['overhead_budget_s']:.1f} s"
                    for r in rows
                ),
            }
        )
    failed_sizes = [human_rows(r["rows"]) for r in sizes if r.get("status") != "ok"]
    if failed_sizes:
        targets.append(
            {"target": "every size runs", "holds": False, "detail": "failed: " + ", ".join(failed_sizes)}
        )
    not_parquet = [
        f"{name} ({entry.get('inner_type') or entry.get('type')}, {entry['layer']})"
        for name, entry in sorted(catalog.items())
        if entry.get("layer") in TABLE_LAYERS
        and "ParquetDataset" not in str(entry.get("inner_type") or entry.get("type"))
    ]
    targets.append(
        {
            "target": "intermediate layers (intermediate, primary, feature, model_input) in Parquet",
            "holds": not not_parquet if catalog else None,
            "detail": ("not Parquet: " + ", ".join(not_parquet)) if not_parquet else "all Parquet",
        }
    )
    targets.append(
        {
            "target": "no row-wise Python loops in nodes (static scan)",
            "holds": not row_loops,
            "detail": "; ".join(f"{f['file']}:{f['line']} {f['kind']}" for f in row_loops) or "none found",
        }
    )
    return targets


# --- report ----------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _verdict(holds: bool | None) -> str:
    return {True: "holds", False: "DOES NOT HOLD", None: "not measured"}[holds]


def machine_line(machine: dict[str, Any]) -> str:
    return (
        f"{machine.get('cores')} cores ({machine.get('cpu_model')}), {machine.get('memory_gb')} GB memory, "
        f"{machine.get('os')}, Python {machine.get('python')}, {machine.get('date_utc')}"
        + (
            f", load average at start {machine['load_average_at_start']}"
            if machine.get("load_average_at_start")
            else ""
        )
    )


def render_markdown(results: dict[str, Any]) -> str:
    """The results as a Markdown page: machine, summary per size, stages, top nodes, CLI, targets."""
    machine = results["machine"]
    sizes = results["sizes"]
    ok = [r for r in sizes if r.get("status") == "ok"]
    out = [
        "# Speed and scale of the generated project",
        "",
        f"Machine: {machine_line(machine)}.",
        "",
        f"Template commit {str(results.get('template', {}).get('commit'))[:12]}"
        + (f" (`--ref {results['template']['ref']}`)" if results.get("template", {}).get("ref") else "")
        + (
            " (with uncommitted changes to the project)"
            if results.get("template", {}).get("project_dirty")
            else ""
        )
        + f"; pipelines in `__default__`: {', '.join(results.get('pipelines', []))}. "
        f"Versions: {', '.join(f'{k} {v}' for k, v in results.get('versions', {}).items())}.",
        "",
        "Produced by `make bench` (`tools/bench.py`): each size is seeded sample data "
        f"(seed {results['config']['seed']}) and one `kedro run` of the default pipeline with a "
        "local SQLite MLflow store. Compute and dataset I/O come from the project's "
        "RunTimingHooks (`data/08_reporting/run_timings.json`); overhead = wall - compute - dataset "
        "I/O (start-up included); outside pipeline = wall - pipeline wall (process start-up, "
        "imports, session and MLflow run set-up, shut-down); audit trail: the project's own figure "
        "from its run summary (git, environment, parameters, dataset inputs with digests). "
        "The machine is shared: the 1-minute load average before and after each run is shown; "
        "above the core count, other work competed for the CPU.",
        "",
        "## End to end",
        "",
        "| applicants | bureau records | status | wall (s) | pipeline (s) | outside pipeline (s) "
        "| compute (s) | dataset I/O (s) | of which MLflow datasets (s) | overhead (s) | overhead budget (s) "
        "| of which audit trail (s) | CPU (s) | peak RSS (MB) | load average before / after |",
        "|" + "---:|" * 15,
    ]
    for r in sizes:
        out.append(
            "| "
            + " | ".join(
                [
                    _fmt(r["rows"]),
                    _fmt(r.get("bureau_records")),
                    r.get("status", "?"),
                    _fmt(r.get("wall_s")),
                    _fmt(r.get("pipeline_wall_s")),
                    _fmt(r.get("outside_pipeline_s")),
                    _fmt(r.get("compute_s")),
                    _fmt(r.get("io_s")),
                    _fmt(r.get("tracking_io_s")),
                    _fmt(r.get("overhead_s")),
                    _fmt(r.get("overhead_budget_s")),
                    _fmt(r.get("audit_trail_s")),
                    _fmt(r.get("cpu_s")),
                    _fmt(r.get("peak_rss_mb"), 0),
                    f"{_fmt((r.get('load_average_before') or [None])[0], 2)} / "
                    f"{_fmt((r.get('load_average_after') or [None])[0], 2)}",
                ]
            )
            + " |"
        )
    for r in sizes:
        if r.get("status") != "ok":
            error = (r.get("error") or "").strip().splitlines()
            out += [
                "",
                f"**{human_rows(r['rows'])} failed** (log `build/bench/logs/{r.get('log')}`):",
                "",
                "```",
                *error[-15:],
                "```",
            ]
    if ok:
        stage_names = list(dict.fromkeys(s for r in ok for s in r["stages"]))
        out += [
            "",
            "## Per stage: compute / dataset I/O (s)",
            "",
            "| stage | " + " | ".join(human_rows(r["rows"]) for r in ok) + " |",
            "|---|" + "---:|" * len(ok),
        ]
        for stage in stage_names:
            cells = []
            for r in ok:
                s = r["stages"].get(stage)
                cells.append(f"{s['compute_s']:.1f} / {s['io_s']:.1f}" if s else "-")
            out.append(f"| {stage} | " + " | ".join(cells) + " |")
        largest = ok[-1]
        out += [
            "",
            f"## Slowest nodes at {human_rows(largest['rows'])} applicants (compute + load + save)",
            "",
            "| node | stage | "
            + " | ".join(f"{human_rows(r['rows'])} (s)" for r in ok)
            + f" | {human_rows(largest['rows'])}: compute / load / save (s) |",
            "|---|---|" + "---:|" * (len(ok) + 1),
        ]
        for name, node in list(largest["nodes"].items())[:15]:
            totals = []
            for r in ok:
                n = r["nodes"].get(name)
                totals.append(_fmt(n["compute_s"] + n["load_s"] + n["save_s"]) if n else "-")
            out.append(
                f"| {name} | {node['stage']} | "
                + " | ".join(totals)
                + f" | {node['compute_s']:.1f} / {node['load_s']:.1f} / {node['save_s']:.1f} |"
            )
        out += [
            "",
            "Peak memory: the larger of the biggest single process (`wait4`) and the process "
            "tree's summed RSS sampled every 0.5 s; per size (MB): "
            + ", ".join(
                f"{human_rows(r['rows'])}: largest process {_fmt(r.get('peak_rss_largest_process_mb'), 0)}, "
                f"tree {_fmt(r.get('peak_rss_tree_sampled_mb'), 0)}"
                for r in ok
            )
            + ".",
        ]
    cli = results.get("cli") or {}
    if cli:
        ratios = cli.get("ratios") or cli_ratios(cli)
        out += [
            "",
            f"## Command-line start-up (median of {cli.get('repeats')} runs, alternated, s)",
            "",
            "Baselines: (a) a bare `kedro new` project, kedro only; (b) the same with kedro-mlflow "
            "and kedro-viz at the generated project's locked versions (every shared dependency "
            "pinned to the lock). Target: the generated project within 10 % of (b).",
            "",
            "| command | generated project | (a) kedro only | (b) + kedro-mlflow, kedro-viz "
            "| project / (a) | project / (b) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, gen in cli.get("generated", {}).items():
            cells = []
            for label in ("bare", "bare_plugins"):
                base = cli.get(label, {}).get(name)
                cells.append(_fmt(base["median_s"], 2) if base else "-")
            ratio = ratios.get(name, {})
            out.append(
                f"| `{name}` | {_fmt(gen['median_s'], 2)} | {cells[0]} | {cells[1]} "
                f"| {_fmt(ratio.get('bare'), 2)} | {_fmt(ratio.get('bare_plugins'), 2)} |"
            )
        cpu_cells = [
            f"`{name}` "
            + " / ".join(
                _fmt((cli.get(label, {}).get(name) or {}).get("cpu_median_s"), 2)
                for label in ("generated", "bare", "bare_plugins")
            )
            for name in cli.get("generated", {})
        ]
        if any("cpu_median_s" in v for v in cli.get("generated", {}).values()):
            out += [
                "",
                "CPU time of the same runs (median, s; project / (a) / (b)), less sensitive to "
                "a busy machine: " + ", ".join(cpu_cells) + ".",
            ]
        difference = cli.get("importtime_b_vs_a")
        if difference:
            totals = difference.get("total_import_s", {})
            out += [
                "",
                "What (b) imports beyond (a) at `kedro --help` (`python -X importtime`, one run; "
                f"all imports {_fmt(totals.get('bare'), 2)} s in (a), "
                f"{_fmt(totals.get('bare_plugins'), 2)} s in (b)):",
                "",
                "| package | extra import time (s) | first imported by |",
                "|---|---:|---|",
                *(
                    f"| {row['package']} | {row['extra_s']:.2f} | `{row['first_imported_by']}` |"
                    for row in difference.get("packages", [])
                ),
            ]
            entry_points = difference.get("plugin_entry_points", [])
            if entry_points:
                out += [
                    "",
                    "Imports (b) makes at start-up that (a) does not, outermost only (cumulative, s): "
                    + ", ".join(f"`{e['module']}` {e['cumulative_s']:.2f}" for e in entry_points)
                    + ".",
                ]
        imports = cli.get("imports_generated", {})
        if imports:
            out += [
                "",
                "Imports in the generated project's environment (median, s): "
                + ", ".join(f"`{k}` {v['median_s']:.2f}" for k, v in imports.items())
                + ".",
            ]
        if cli.get("error"):
            out += ["", f"CLI timing error: {cli['error']}"]
    one_off = results.get("setup", {})
    if one_off:
        out += [
            "",
            "One-off costs before the runs (not in the figures above): "
            + ", ".join(
                f"{SETUP_LABELS.get(k, k)} {v:.1f} s" for k, v in one_off.items() if isinstance(v, float)
            )
            + ".",
        ]
    if results.get("cost_bounds"):
        out += [
            "",
            "Parameters that bound the cost of the stages that grow faster than the data "
            "(conf/base/parameters_*.yml): "
            + ", ".join(f"`{k}: {v}`" for k, v in results["cost_bounds"].items())
            + ".",
        ]
    out += ["", "## Targets", "", "| target | result | detail |", "|---|---|---|"]
    for t in results.get("targets", []):
        out.append(f"| {t['target']} | {_verdict(t['holds'])} | {t['detail']} |")
    if results.get("notes") or results.get("notes_text"):
        out += ["", "## Notes", "", *results.get("notes", [])]
        if results.get("notes_text"):
            out += [results["notes_text"].strip()]
    out += [
        "",
        "## Reproduce",
        "",
        "```",
        "make bench                                    # the working tree -> build/bench/results",
        "uv run python tools/bench.py --ref HEAD --publish --notes docs/bench/notes.md   # docs/bench",
        "```",
        "",
        "![Wall time per stage](results.png)",
        "",
    ]
    return "\n".join(out)


def write_plot(results: dict[str, Any], path: Path) -> None:
    """Left: where the time goes per size (stacked); right: wall and stage time against rows (log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    ok = [r for r in results["sizes"] if r.get("status") == "ok"]
    figure = Figure(figsize=(12, 5), layout="constrained")
    left, right = figure.subplots(1, 2)
    if not ok:
        left.text(0.5, 0.5, "no successful size", ha="center")
        figure.savefig(path, dpi=110)
        return
    labels = [human_rows(r["rows"]) for r in ok]
    stages = list(dict.fromkeys(s for r in ok for s in r["stages"]))
    bottom = [0.0] * len(ok)
    parts = [(f"{s}", [r["stages"].get(s, {}).get("total_s", 0.0) for r in ok]) for s in stages]
    parts.append(("overhead in pipeline", [max(r["overhead_in_pipeline_s"], 0.0) for r in ok]))
    parts.append(("outside pipeline (start-up, shut-down)", [max(r["outside_pipeline_s"], 0.0) for r in ok]))
    for name, values in parts:
        left.bar(labels, values, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    left.set_ylabel("seconds")
    left.set_xlabel("applicants")
    left.set_title("Where the time goes (compute + dataset I/O per stage)")
    left.legend(fontsize=8)
    rows = [r["rows"] for r in ok]
    right.loglog(rows, [r["wall_s"] for r in ok], "o-", color="black", linewidth=2, label="end to end")
    for stage in stages:
        values = [r["stages"].get(stage, {}).get("total_s", float("nan")) for r in ok]
        right.loglog(rows, values, ".--", label=stage)
    base = ok[0]["wall_s"]
    right.loglog(rows, [base * x / rows[0] for x in rows], ":", color="grey", label="linear from smallest")
    if any(r["rows"] == 1_000_000 for r in ok):
        right.axhline(TARGET_WALL_S, color="red", linewidth=0.8, label="10 min target (1M)")
    right.set_xlabel("applicants")
    right.set_ylabel("seconds")
    right.set_title("Scaling (log-log)")
    right.legend(fontsize=8)
    figure.suptitle(f"Machine: {machine_line(results['machine'])}", fontsize=8)
    figure.savefig(path, dpi=110)


def write_reports(results: dict[str, Any], out_dir: Path, project: Path | None) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    (out_dir / "results.md").write_text(render_markdown(results))
    png = out_dir / "results.png"
    try:
        write_plot(results, png)
    except ImportError:  # matplotlib is in the generated project, not in the template's dev env
        python = project / ".venv" / "bin" / "python" if project else None
        if python and python.exists():
            done = subprocess.run(
                [str(python), __file__, "--plot", str(out_dir / "results.json"), str(png)],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                print(f"plot failed: {done.stderr[-500:]}", file=sys.stderr)
        else:
            print("plot skipped: matplotlib not available", file=sys.stderr)


# --- main ------------------------------------------------------------------------------------


def prepare_project(reuse: bool, template: Path | None = None) -> tuple[Path, dict[str, float]]:
    """Render into build/bench/project and install (or reuse an installed one)."""
    setup: dict[str, float] = {}
    base = BUILD / "project"
    existing = (
        [p for p in base.glob("*") if (p / ".venv" / "bin" / "kedro").exists()] if base.exists() else []
    )
    if reuse and existing:
        print(f"reusing {existing[0]}", flush=True)
        return existing[0], setup
    shutil.rmtree(base, ignore_errors=True)
    start = time.perf_counter()
    if template is None:
        project = render(base)
    else:
        from cookiecutter.main import cookiecutter

        base.mkdir(parents=True)
        project = Path(cookiecutter(str(template), no_input=True, output_dir=str(base)))
    setup["render_s"] = time.perf_counter() - start
    print(f"rendered {project} ({setup['render_s']:.1f} s); installing ...", flush=True)
    setup["install_s"] = install(project, compile_bytecode=False)
    # First-run costs a team pays once, kept out of the measured runs: bytecode compilation
    # (uv sync does not compile) and the creation of the local MLflow store.
    start = time.perf_counter()
    subprocess.run(
        [
            str(project / ".venv" / "bin" / "python"),
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            str(project / ".venv" / "lib"),
        ],
        capture_output=True,
    )
    setup["bytecode_compile_s"] = time.perf_counter() - start
    print(
        f"installed ({setup['install_s']:.1f} s), bytecode compiled ({setup['bytecode_compile_s']:.1f} s)",
        flush=True,
    )
    return project, setup


def init_tracking_store(project: Path, package: str) -> float:
    """Create the project's local MLflow store and experiment, as its first run would."""
    code = (
        "import yaml; from pathlib import Path; "
        f"from {package}.tracking import resolve_tracking_uri; "
        "conf = yaml.safe_load(Path('conf/base/mlflow.yml').read_text()); "
        f"print(resolve_tracking_uri(conf['_default_tracking_uri'], {package!r}))"
    )
    start = time.perf_counter()
    subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", code],
        cwd=project,
        env=project_env(),
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - start


def project_python_json(project: Path, code: str, python: Path | None = None) -> dict[str, Any]:
    """Run ``code`` in the project's Python (Kedro logs to stdout): it writes JSON to argv[1]."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.json"
        done = subprocess.run(
            [str(python or project / ".venv" / "bin" / "python"), "-c", code, str(out)],
            cwd=project,
            env=project_env(),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"introspection failed in {project}:\n{done.stderr[-3000:]}")
        return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--engine" in argv:  # make bench ENGINE=spark: the Spark environment against pandas
        index = argv.index("--engine")
        engine, rest = argv[index + 1], argv[:index] + argv[index + 2 :]
        if engine == "spark":
            import bench_spark

            return bench_spark.main(rest)
        if engine != "pandas":
            parser_error = f"--engine {engine}: use pandas (the default) or spark"
            raise SystemExit(parser_error)
        argv = rest
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=parse_sizes(DEFAULT_SIZES),
        help=f"applicants per run, comma-separated (default {DEFAULT_SIZES})",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--publish", action="store_true", help=f"write into {PUBLISH_DIR.relative_to(TEMPLATE_DIR)}"
    )
    parser.add_argument(
        "--out", type=Path, help=f"results folder (default {RESULTS_DIR.relative_to(TEMPLATE_DIR)})"
    )
    parser.add_argument(
        "--ref", help="benchmark the template as committed at this git ref (default: the working tree)"
    )
    parser.add_argument("--reuse", action="store_true", help="reuse an installed build/bench project")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each CLI command (median)")
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI start-up timings")
    parser.add_argument(
        "--cli-only", action="store_true", help="only the CLI start-up timings (no pipeline runs)"
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per kedro run")
    parser.add_argument(
        "--notes", type=Path, help="a Markdown file: its text goes under 'Notes' in results.md"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="only rewrite results.md and results.png from the folder's results.json (with --notes)",
    )
    parser.add_argument("--plot", nargs=2, metavar=("RESULTS_JSON", "PNG"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cli_only:
        args.sizes = []
    if args.plot:
        write_plot(json.loads(Path(args.plot[0]).read_text()), Path(args.plot[1]))
        return 0

    out_dir = args.out or (PUBLISH_DIR if args.publish else RESULTS_DIR)
    notes_text = args.notes.read_text() if args.notes else None
    if args.report_only:
        results = json.loads((out_dir / "results.json").read_text())
        if notes_text is not None:
            results["notes_text"] = notes_text
        installed = sorted((BUILD / "project").glob("*/.venv/bin/python"))
        write_reports(results, out_dir, installed[0].parents[2] if installed else None)
        print(f"rewrote {out_dir / 'results.md'}")
        return 0
    out_dir.mkdir(parents=True, exist_ok=True)
    logs = BUILD / "logs"  # the runs' own logs stay out of the published folder
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    results: dict[str, Any] = {
        "machine": machine_info(),
        "template": template_commit(args.ref),
        "config": {
            "sizes": args.sizes,
            "seed": args.seed,
            "repeats": args.repeats,
            "timeout_s": args.timeout,
        },
        "sizes": [],
        "notes": [],
        "notes_text": notes_text,
    }
    print(f"machine: {machine_line(results['machine'])}", flush=True)
    template = export_template(args.ref) if args.ref else None
    generator = (template or TEMPLATE_DIR) / "tools" / "generate_sample_data.py"
    project, setup = prepare_project(args.reuse, template)
    package = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["kedro"]["package_name"]
    setup["mlflow_store_creation_s"] = init_tracking_store(project, package)
    results["setup"] = setup
    results["versions"] = project_python_json(project, VERSIONS)
    introspection = project_python_json(project, INTROSPECT)
    results["pipelines"] = introspection["pipelines"]
    results["catalog"] = introspection["catalog"]
    results["cost_bounds"] = introspection.get("cost_bounds", {})
    results["row_loop_findings"] = scan_row_loops(project / "src" / package)

    for rows in args.sizes:
        print(f"[{human_rows(rows)}] generating data and running ...", flush=True)
        result = bench_size(project, rows, args.seed, logs, introspection, args.timeout, generator=generator)
        results["sizes"].append(result)
        if result["status"] == "ok":
            print(
                f"  wall {result['wall_s']:.1f} s, compute {result['compute_s']:.1f} s, "
                f"I/O {result['io_s']:.1f} s, "
                f"overhead {result['overhead_s']:.1f} s, peak {result['peak_rss_mb']:.0f} MB",
                flush=True,
            )
        else:
            print(
                f"  FAILED: {(result['error'] or '').splitlines()[0] if result['error'] else ''}", flush=True
            )
        write_reports({**results, "targets": []}, out_dir, project)  # partial results survive a crash

    if not args.no_cli:
        print("timing the command line (generated project vs bare projects) ...", flush=True)
        try:
            baselines = make_baselines(project, results["versions"].get("kedro", "1.7.0"))
        except (subprocess.CalledProcessError, OSError) as error:
            baselines = {}
            results["notes"].append(f"- bare projects not made: {error}")
        try:
            results["cli"] = cli_timings(project, baselines, args.repeats)
        except (subprocess.CalledProcessError, OSError) as error:
            results["cli"] = {"error": str(error)}
        for name, medians in (results["cli"].get("ratios") or {}).items():
            print(f"  {name}: " + ", ".join(f"project/{k} x{v}" for k, v in medians.items()), flush=True)

    results["targets"] = check_targets(results["sizes"], results["catalog"], results["row_loop_findings"])
    results["targets"] += check_cli_target(results.get("cli") or {})
    write_reports(results, out_dir, project)
    print(f"\nresults: {out_dir / 'results.md'}\n\nTargets:")
    for target in results["targets"]:
        print(f"  [{_verdict(target['holds'])}] {target['target']}: {target['detail']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
