#!/usr/bin/env python
"""Spark against pandas: the default pipeline on both engines (``make bench ENGINE=spark``).

Renders and installs the project as ``make bench`` does (``build/bench/``), adds its ``spark``
extra, and for each size generates seeded data and runs ``kedro run --env spark`` (default 1M
and 10M rows, ``local[2]`` from ``conf/spark/spark.yml``) and ``kedro run`` on pandas (default
1M). Each run gets its wall time, the peak memory of its whole process tree (the Python driver
and the JVM it starts), and the per-stage time from the project's RunTimingHooks (on Spark a
stage's work shows up where Spark computes it: when a node counts or collects, and when its
outputs are saved). Writes ``results.json`` and ``results.md`` into ``build/bench/spark``
(``--publish``: ``docs/bench/spark``) and checks the issue's targets: 10M rows within 20
minutes, driver peak below 4 GB, no Spark stage growing faster than the rows from 1M to 10M.

    python tools/bench_spark.py [--sizes 1M,10M] [--pandas-sizes 1M] [--reuse] [--publish]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import (
    BUILD,
    GENERATOR,
    INTROSPECT,
    PUBLISH_DIR,
    VERSIONS,
    bench_size,
    human_rows,
    init_tracking_store,
    machine_info,
    machine_line,
    parse_sizes,
    prepare_project,
    project_python_json,
    template_commit,
)
from project import project_env, uv

RESULTS = BUILD / "spark"
TARGET_WALL_S = 1200.0  # 10M rows end to end on Spark
TARGET_PEAK_MB = 4096.0  # driver (Python + JVM) peak
GROWTH_TOLERANCE = 1.2  # a stage may grow 1.2 x the ratio of rows (timing noise)
STAGES = ("ingestion", "validation", "training", "benchmarking", "fairness_review", "release")


def install_spark_extra(project: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [*uv(), "sync", "--extra", "spark", "--python", sys.executable, "--quiet"],
        cwd=project,
        env=project_env(),
        check=True,
    )
    return time.perf_counter() - start


def check_targets(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets, each with what was measured."""
    spark = {r["rows"]: r for r in runs if r["engine"] == "spark" and r["status"] == "ok"}
    targets = []
    largest = max(spark) if spark else None
    if largest:
        run = spark[largest]
        targets.append(
            {
                "target": f"{human_rows(largest)} rows on Spark end to end < 20 min",
                "holds": run["wall_s"] < TARGET_WALL_S if largest >= 10_000_000 else None,
                "detail": f"{run['wall_s']:.0f} s",
            }
        )
        driver = max(r.get("peak_rss_driver_sampled_mb") or float("nan") for r in spark.values())
        tree = max(r.get("peak_pss_tree_sampled_mb") or float("nan") for r in spark.values())
        targets.append(
            {
                "target": "driver peak memory < 4 GB",
                "holds": driver < TARGET_PEAK_MB,
                "detail": f"{driver:.0f} MB: the Python driver and its JVM, largest Spark run; "
                f"with Spark's Python workers, the whole process tree peaked at {tree:.0f} MB "
                "(PSS: pages the forked workers share counted once)",
            }
        )
    sizes = sorted(spark)
    if len(sizes) >= 2:
        small, large = spark[sizes[0]], spark[sizes[-1]]
        ratio = sizes[-1] / sizes[0]
        growth = {
            stage: large["stages"][stage]["total_s"] / small["stages"][stage]["total_s"]
            for stage in STAGES
            if stage in large.get("stages", {}) and small["stages"].get(stage, {}).get("total_s")
        }
        worst = max(growth.items(), key=lambda kv: kv[1]) if growth else (None, None)
        targets.append(
            {
                "target": f"Spark stages grow at most linearly ({human_rows(sizes[0])} -> "
                f"{human_rows(sizes[-1])}: x{ratio:.0f})",
                "holds": bool(growth) and worst[1] <= ratio * GROWTH_TOLERANCE,
                "detail": ", ".join(f"{k} x{v:.1f}" for k, v in growth.items()),
            }
        )
    return targets


def render_markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Spark against pandas: the default pipeline",
        "",
        f"Machine: {machine_line(results['machine'])}. Template commit "
        f"{results['template'].get('commit', '?')}. Spark: `local[2]`, `conf/spark/spark.yml`.",
        "",
        "| engine | rows | status | wall (s) | driver peak (MB) | tree peak, PSS (MB) | "
        "tree peak, RSS sum (MB) | " + " | ".join(STAGES) + " |",
        "|---|---:|---|---:|---:|---:|---:|" + "---:|" * len(STAGES),
    ]
    for run in results["runs"]:
        stages = run.get("stages") or {}
        cells = [f"{stages[s]['total_s']:.1f}" if s in stages else "" for s in STAGES]
        memory = [
            run.get(key) or float("nan")
            for key in (
                "peak_rss_driver_sampled_mb",
                "peak_pss_tree_sampled_mb",
                "peak_rss_tree_sampled_mb",
            )
        ]
        lines.append(
            f"| {run['engine']} | {human_rows(run['rows'])} | {run['status']} | "
            f"{run.get('wall_s', float('nan')):.0f} | "
            + " | ".join(f"{m:.0f}" for m in memory)
            + " | "
            + " | ".join(cells)
            + " |"
        )
    lines += [
        "",
        "Stage columns: seconds of compute plus dataset loads and saves of the stage's nodes "
        "(RunTimingHooks). On Spark, work is lazy: a stage's time is where Spark computes it.",
        "Memory, sampled every 0.5 s: the driver is the `kedro` process and the JVM it starts "
        "(Spark's driver and, on `local[2]`, its executors); the tree adds Spark's Python "
        "workers, which fork from one daemon and share most pages (their RSS sum counts the "
        "shared pages once per fork, PSS once). Each run's load average is in results.json.",
        "",
        "## Targets",
        "",
    ]
    for target in results["targets"]:
        verdict = {True: "holds", False: "MISSED", None: "not measured"}[target["holds"]]
        lines.append(f"- **{verdict}**: {target['target']} ({target['detail']})")
    failed = [r for r in results["runs"] if r["status"] != "ok"]
    for run in failed:
        lines += ["", f"### {run['engine']} {human_rows(run['rows'])} failed", "", "```"]
        lines += [(run.get("error") or "")[-2000:], "```"]
    if results.get("notes_text"):
        lines += ["", "## Notes", "", results["notes_text"].strip()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("1M,10M"))
    parser.add_argument("--pandas-sizes", type=parse_sizes, default=parse_sizes("1M"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reuse", action="store_true", help="reuse an installed build/bench project")
    parser.add_argument("--publish", action="store_true", help="write into docs/bench/spark")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per kedro run")
    parser.add_argument("--notes", type=Path, help="Markdown for the results' Notes section")
    args = parser.parse_args(argv)
    out_dir = PUBLISH_DIR / "spark" if args.publish else RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    logs = BUILD / "logs-spark"
    logs.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "machine": machine_info(),
        "template": template_commit(None),
        "config": {"spark_sizes": args.sizes, "pandas_sizes": args.pandas_sizes, "seed": args.seed},
        "runs": [],
        "notes_text": args.notes.read_text() if args.notes else None,
    }
    print(f"machine: {machine_line(results['machine'])}", flush=True)
    project, setup = prepare_project(args.reuse)
    setup["spark_extra_install_s"] = install_spark_extra(project)
    package = project.name.replace("-", "_")
    setup["mlflow_store_creation_s"] = init_tracking_store(project, package)
    results["setup"] = setup
    results["versions"] = project_python_json(project, VERSIONS)
    introspection = project_python_json(project, INTROSPECT)
    plan = [("pandas", rows, ("run",)) for rows in args.pandas_sizes]
    plan += [("spark", rows, ("run", "--env", "spark")) for rows in args.sizes]
    for engine, rows, run_args in sorted(plan, key=lambda p: p[1]):
        print(f"[{engine} {human_rows(rows)}]", flush=True)
        result = bench_size(
            project,
            rows,
            args.seed,
            logs,
            introspection,
            args.timeout,
            generator=GENERATOR,
            run_args=run_args,
        )
        result["engine"] = engine
        result.pop("datasets", None)
        results["runs"].append(result)
        if result["status"] == "ok":
            print(
                f"  wall {result['wall_s']:.0f} s, driver peak "
                f"{result.get('peak_rss_driver_sampled_mb') or 0:.0f} MB, tree peak (PSS) "
                f"{result.get('peak_pss_tree_sampled_mb') or 0:.0f} MB",
                flush=True,
            )
        else:
            print(f"  FAILED: {(result.get('error') or '').splitlines()[:1]}", flush=True)
        results["targets"] = check_targets(results["runs"])
        (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        (out_dir / "results.md").write_text(render_markdown(results))
    print(f"\nresults: {out_dir / 'results.md'}")
    for target in results["targets"]:
        print(f"  [{target['holds']}] {target['target']}: {target['detail']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
