#!/usr/bin/env python
"""Wall time of the default run for each problem type, side by side (part of ``make bench``).

In the bench project (``build/bench/project``, rendered and installed as ``tools/bench.py``
does), three copies get data of one size (default 10k rows):

* ``binary``: the bundled sample's generator (``tools/generate_sample_data.py``), the shipped
  configuration;
* ``regression`` and ``multiclass``: ``tools/generate_shapes.py``, configured by
  ``kedro draft-config`` alone (the command a team runs on its own file).

Each copy runs ``kedro run`` ``--repeats`` times, the types alternated, and the medians and the
ratios to binary are printed and written to ``build/bench/problem_types/results.json``. The
target (issue "Every supervised tabular problem"): regression and multiclass at most 1.2x binary.

    python tools/bench_problem_types.py [--rows 10k] [--repeats 3] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import BUILD, clear_outputs, generate_data, parse_size, prepare_project
from generate_shapes import generate
from project import project_env

OUT = BUILD / "problem_types"
TARGET_RATIO = 1.2
# What `kedro draft-config` is told for each generated shape (the rest it infers).
DRAFT_ARGS = {
    "regression": ["--id", "listing_id", "--sensitive", "seller_sex", "--sensitive", "seller_age"],
    "multiclass": [
        "--id",
        "ticket_id",
        "--sensitive",
        "requester_gender",
        "--sensitive",
        "requester_age",
    ],
}


def copy_project(project: Path, name: str) -> Path:
    """A copy of the bench project's files (its venv is shared: the code is identical)."""
    copy = OUT / name / project.name
    shutil.rmtree(copy.parent, ignore_errors=True)
    shutil.copytree(
        project,
        copy,
        ignore=shutil.ignore_patterns(".venv", "mlflow.db", "mlartifacts", "run.log*"),
    )
    clear_outputs(copy)
    return copy


def kedro(project: Path, venv: Path, *args: str, log: Path | None = None) -> float:
    """Run ``kedro`` of ``venv`` in ``project``; raise with the log's tail on failure."""
    env = project_env(MLFLOW_TRACKING_URI=f"sqlite:///{project / 'mlflow.db'}")
    start = time.perf_counter()
    done = subprocess.run(
        [str(venv / "bin" / "kedro"), *args], cwd=project, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if log is not None:
        log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"kedro {' '.join(args)} failed in {project}:\n{done.stderr[-3000:]}")
    return seconds


def prepare(project: Path, kind: str, rows: int) -> Path:
    """A copy of the bench project holding ``rows`` rows of data of problem type ``kind``."""
    copy = copy_project(project, kind)
    venv = project / ".venv"
    if kind == "binary":
        generate_data(copy, rows, seed=42)
        return copy
    folder = copy / "data" / "01_raw" / kind
    manifest = generate(kind, folder, rows=rows, seed=42)
    source = f"data/01_raw/{kind}/{manifest['main_source']['file']}"
    target = manifest["target"]["column"]
    args = ["draft-config", source, "--target", target, *DRAFT_ARGS[kind], "--force"]
    kedro(copy, venv, *args, log=copy.parent / "draft.log")
    return copy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=parse_size, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="reuse an installed build/bench project")
    args = parser.parse_args(argv)
    project, _ = prepare_project(args.reuse)
    venv = project / ".venv"
    kinds = ("binary", "regression", "multiclass")
    copies = {kind: prepare(project, kind, args.rows) for kind in kinds}
    kedro(copies["binary"], venv, "run")  # a first run warms the caches, not measured
    walls: dict[str, list[float]] = {kind: [] for kind in kinds}
    for repeat in range(args.repeats):
        for kind in kinds:
            clear_outputs(copies[kind])
            log = copies[kind].parent / f"run-{repeat}.log"
            walls[kind].append(round(kedro(copies[kind], venv, "run", log=log), 2))
            print(f"{kind}: run {repeat + 1}/{args.repeats}: {walls[kind][-1]:.1f} s", flush=True)
    medians = {kind: statistics.median(values) for kind, values in walls.items()}
    results: dict[str, Any] = {
        "rows": args.rows,
        "repeats": args.repeats,
        "wall_s": walls,
        "median_wall_s": medians,
        "ratio_to_binary": {k: round(medians[k] / medians["binary"], 3) for k in kinds},
        "target_ratio": TARGET_RATIO,
    }
    results["holds"] = all(results["ratio_to_binary"][k] <= TARGET_RATIO for k in kinds)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\ndefault run at {args.rows} rows, median of {args.repeats} (alternated):")
    for kind in kinds:
        ratio = results["ratio_to_binary"][kind]
        print(f"  {kind:<11} {medians[kind]:6.1f} s   {ratio:.2f} x binary")
    print(f"target: regression and multiclass <= {TARGET_RATIO} x binary: {results['holds']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
