"""The benchmark harness (tools/bench.py): its sums, target checks and report on fake results.

The slow test runs one small size through the harness on the session's installed project.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import bench

MACHINE = {
    "cores": 2,
    "memory_gb": 23.5,
    "cpu_model": "Test CPU",
    "os": "Linux",
    "python": "3.11.7",
    "date_utc": "2026-01-01T00:00:00Z",
    "load_average_at_start": [0.1, 0.1, 0.1],
}
INTROSPECTION = {
    "pipelines": ["ingestion", "training"],
    "nodes": {
        "parse": {"stage": "ingestion", "tags": ["ingestion"]},
        "fit": {"stage": "training", "tags": ["training"]},
        "report": {"stage": "training", "tags": ["training"]},
    },
    "catalog": {
        "primary": {"type": "pandas.ParquetDataset", "inner_type": None, "layer": "primary"},
        "ids": {"type": "pandas.CSVDataset", "inner_type": None, "layer": "model_input"},
        "raw": {"type": "pandas.CSVDataset", "inner_type": None, "layer": "raw"},
        "plot": {
            "type": "kedro_mlflow.io.artifacts.MlflowArtifactDataset",
            "inner_type": "matplotlib.MatplotlibDataset",
            "layer": "reporting",
        },
    },
}


def fake_timings(scale: float) -> dict:
    """run_timings.json as RunTimingHooks writes it, with times proportional to ``scale``."""
    return {
        "pipeline_wall_s": 9.0 * scale + 2.0,  # compute + I/O + 1 s
        "peak_rss_mb": 300.0 * scale,
        "nodes": {
            "parse": {"compute_s": 2.0 * scale, "load_s": 1.0 * scale, "save_s": 0.5 * scale},
            "fit": {"compute_s": 5.0 * scale, "load_s": 0.5 * scale},
            "report": {"compute_s": 0.5, "save_s": 0.5},
        },
        "datasets": {
            "raw": {"load_s": 1.0 * scale},
            "primary": {"save_s": 0.5 * scale, "load_s": 0.5 * scale},
            "plot": {"save_s": 0.5},
        },
    }


def fake_size(rows: int, scale: float, extra_wall: float = 5.0) -> dict:
    timings = fake_timings(scale)
    wall = timings["pipeline_wall_s"] + extra_wall
    return {
        "rows": rows,
        "status": "ok",
        "error": None,
        "wall_s": wall,
        "cpu_s": wall,
        "peak_rss_mb": 500.0 * scale,
        "peak_rss_largest_process_mb": 500.0 * scale,
        "peak_rss_tree_sampled_mb": 480.0 * scale,
        "bureau_records": rows * 3,
        **bench.summarise_timings(timings, wall, INTROSPECTION),
    }


def test_sizes_are_parsed():
    assert bench.parse_sizes("1M, 10k,100k") == [10_000, 100_000, 1_000_000]
    assert bench.parse_size("2500") == 2500
    assert bench.parse_size("2.5k") == 2500
    assert bench.human_rows(1_000_000) == "1M"
    assert bench.human_rows(30_000) == "30k"
    with pytest.raises(Exception, match="not a size"):
        bench.parse_size("many")


def test_timings_are_summed_per_stage_with_overhead():
    summary = bench.summarise_timings(fake_timings(1.0), 20.0, INTROSPECTION)
    assert summary["compute_s"] == pytest.approx(7.5)
    assert summary["io_s"] == pytest.approx(2.5)  # from the datasets table, not counted twice
    assert summary["tracking_io_s"] == pytest.approx(0.5)  # the MLflow artifact dataset
    assert summary["overhead_s"] == pytest.approx(20.0 - 7.5 - 2.5)
    assert summary["outside_pipeline_s"] == pytest.approx(20.0 - 11.0)
    assert summary["overhead_in_pipeline_s"] == pytest.approx(11.0 - 10.0)
    assert summary["overhead_budget_s"] == pytest.approx(10.0 + 0.05 * 20.0)
    training = summary["stages"]["training"]
    assert training["nodes"] == 2
    assert training["compute_s"] == pytest.approx(5.5)
    assert training["io_s"] == pytest.approx(1.0)
    assert list(summary["stages"]) == ["training", "ingestion"]  # slowest first
    assert summary["nodes"]["parse"]["stage"] == "ingestion"


def test_targets_hold_for_linear_growth_and_fail_when_broken():
    sizes = [fake_size(100_000, 1.0), fake_size(1_000_000, 10.0)]
    targets = {t["target"]: t for t in bench.check_targets(sizes, INTROSPECTION["catalog"], [])}
    assert targets["1M applicants end to end in under 10 min"]["holds"] is True
    assert targets["1M applicants: peak memory under 4 GB"]["holds"] is False  # 5000 MB
    assert targets["time(1M) / time(100k) <= 12"]["holds"] is True
    assert targets["framework + tracking overhead <= 10 s + 5 % of wall, at every size"]["holds"]
    parquet = next(t for name, t in targets.items() if name.startswith("intermediate layers"))
    assert parquet["holds"] is False and "ids (pandas.CSVDataset, model_input)" in parquet["detail"]
    assert targets["no row-wise Python loops in nodes (static scan)"]["holds"] is True

    slow = [fake_size(100_000, 1.0), fake_size(1_000_000, 20.0, extra_wall=500.0)]
    targets = {
        t["target"]: t for t in bench.check_targets(slow, {}, [{"file": "x", "line": 1, "kind": "iterrows"}])
    }
    assert targets["time(1M) / time(100k) <= 12"]["holds"] is False
    assert targets["1M applicants end to end in under 10 min"]["holds"] is False
    assert "1M" in targets["framework + tracking overhead <= 10 s + 5 % of wall, at every size"]["detail"]
    assert targets["no row-wise Python loops in nodes (static scan)"]["holds"] is False
    stage = next(t for name, t in targets.items() if name.startswith("every stage scales"))
    assert stage["holds"] is False and "training" in stage["detail"]


def test_a_failed_size_is_reported_not_raised():
    failed = {
        "rows": 1_000_000,
        "status": "failed",
        "error": "kedro run exit code 1\nMemoryError",
        "log": "x",
    }
    sizes = [fake_size(10_000, 0.1), failed]
    targets = bench.check_targets(sizes, {}, [])
    by_name = {t["target"]: t for t in targets}
    assert by_name["1M applicants end to end in under 10 min"]["holds"] is False
    assert "MemoryError" in by_name["1M applicants end to end in under 10 min"]["detail"]
    assert by_name["every size runs"]["holds"] is False
    results = {"machine": MACHINE, "config": {"seed": 42}, "sizes": sizes, "targets": targets}
    text = bench.render_markdown(results)
    assert "**1M failed**" in text and "MemoryError" in text


def test_markdown_states_the_machine_and_every_size():
    sizes = [fake_size(10_000, 0.1), fake_size(100_000, 1.0)]
    results = {
        "machine": MACHINE,
        "template": {"commit": "abc123", "project_dirty": False},
        "config": {"seed": 42},
        "pipelines": ["ingestion", "training"],
        "versions": {"kedro": "1.7.0"},
        "sizes": sizes,
        "cli": {
            "repeats": 5,
            "generated": {"kedro --help": {"median_s": 3.0, "runs_s": [3.0], "error": None}},
            "bare": {"kedro --help": {"median_s": 1.0, "runs_s": [1.0], "error": None}},
            "bare_plugins": {"kedro --help": {"median_s": 2.5, "runs_s": [2.5], "error": None}},
            "imports_generated": {"import mlflow": {"median_s": 1.5, "runs_s": [1.5], "error": None}},
            "importtime_b_vs_a": {
                "total_import_s": {"bare": 0.4, "bare_plugins": 2.1},
                "packages": [
                    {
                        "package": "mlflow",
                        "extra_s": 0.9,
                        "first_imported_by": "kedro_mlflow.framework.cli.cli",
                    }
                ],
                "plugin_entry_points": [{"module": "kedro_mlflow.framework.cli.cli", "cumulative_s": 1.6}],
            },
        },
        "targets": bench.check_targets(sizes, INTROSPECTION["catalog"], []),
    }
    text = bench.render_markdown(results)
    assert "2 cores (Test CPU), 23.5 GB memory" in text and "Python 3.11.7" in text
    assert "| 10,000 |" in text and "| 100,000 |" in text
    assert "| training |" in text and "| ingestion |" in text
    assert "| `kedro --help` | 3.00 | 1.00 | 2.50 | 3.00 | 1.20 |" in text  # ratios to (a), (b)
    assert "| mlflow | 0.90 | `kedro_mlflow.framework.cli.cli` |" in text
    assert "DOES NOT HOLD" in text  # the CSV in model_input
    json.dumps(results)  # the JSON report is plain data


IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |   _io
import time:       200 |        300 | io
import time:      1000 |       1000 |       mlflow.utils
import time:       500 |       1500 |     mlflow
import time:       300 |       1800 |   kedro_mlflow.framework
import time:       200 |       2000 | kedro_mlflow.framework.cli.cli
import time:       400 |        400 | pandas
"""


def test_importtime_is_parsed_and_attributed():
    entries = bench.parse_importtime(IMPORTTIME)
    assert [e["depth"] for e in entries] == [1, 0, 3, 2, 1, 0, 0]
    costs = bench.import_costs(entries)
    assert costs["mlflow"] == pytest.approx(0.0015) and costs["kedro_mlflow"] == pytest.approx(0.0005)
    assert bench.first_importer(entries, "mlflow") == "kedro_mlflow.framework"  # nearest other package
    assert bench.first_importer(entries, "pandas") == "pandas"
    assert bench.first_importer(entries, "numpy") is None


def test_cli_ratios_and_target():
    def medians(value: float) -> dict:
        return {name: {"median_s": value, "runs_s": [value], "error": None} for name in bench.CLI_COMMANDS}

    cli = {"generated": medians(4.2), "bare": medians(1.0), "bare_plugins": medians(4.0)}
    cli["ratios"] = bench.cli_ratios(cli)
    assert cli["ratios"]["kedro --help"] == {"bare": 4.2, "bare_plugins": 1.05}
    [target] = bench.check_cli_target(cli)
    assert target["holds"] is True and "x1.05" in target["detail"]
    cli["generated"] = medians(4.8)
    cli["ratios"] = bench.cli_ratios(cli)
    assert bench.check_cli_target(cli)[0]["holds"] is False
    del cli["bare_plugins"]
    cli["ratios"] = bench.cli_ratios(cli)
    assert bench.check_cli_target(cli)[0]["holds"] is None


def test_row_wise_loops_are_found(tmp_path: Path):
    package = tmp_path / "src" / "pkg"
    (package / "pipelines" / "demo").mkdir(parents=True)
    (package / "pipelines" / "demo" / "nodes.py").write_text(
        "def a(df):\n"
        "    for _, row in df.iterrows():\n"
        "        pass\n"
        "    df.apply(lambda r: r.x + 1, axis=1)\n"
        "    df['y'] = df['x'].map(lambda v: str(v))\n"
        "    return df.groupby('k').agg('sum')\n"
    )
    found = bench.scan_row_loops(package)
    assert [(f["line"], f["kind"]) for f in found] == [
        (2, "iterrows"),
        (4, "apply(axis=1)"),
        (5, "map(lambda)"),
    ]
    assert found[0]["file"] == "src/pkg/pipelines/demo/nodes.py"


def test_a_process_is_measured(tmp_path: Path):
    code = "import sys; x = bytearray(60 * 1024 * 1024); print('ok'); sys.exit(3)"
    measured = bench.run_measured([sys.executable, "-c", code], tmp_path, tmp_path / "log", timeout=60)
    assert measured["exit_code"] == 3 and not measured["timed_out"]
    assert measured["peak_rss_largest_process_mb"] > 60
    assert measured["wall_s"] > 0
    assert (tmp_path / "log").read_text().strip() == "ok"
    killed = bench.run_measured(
        [sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, tmp_path / "l2", 1
    )
    assert killed["timed_out"] and killed["wall_s"] < 10


@pytest.mark.slow
def test_one_small_size_through_the_harness(default_project, default_copy, tmp_path: Path):
    """2k applicants through bench_size on a copy of the session's installed project."""
    from project import project_env

    copy, _ = default_copy
    python = default_project.root / ".venv" / "bin" / "python"
    introspection = bench.project_python_json(copy, bench.INTROSPECT, python=python)
    assert {"ingestion", "validation", "training", "benchmarking"} <= set(introspection["pipelines"])
    env = project_env(MLFLOW_TRACKING_URI=f"sqlite:///{copy / 'mlflow.db'}")
    kedro = default_project.root / ".venv" / "bin" / "kedro"
    result = bench.bench_size(copy, 2000, 42, tmp_path, introspection, 600, kedro=kedro, env=env)
    assert result["status"] == "ok", result["error"]
    assert result["rows"] == 2000 and result["bureau_records"] > 2000
    assert result["compute_s"] > 0 and result["wall_s"] > result["pipeline_wall_s"] > result["compute_s"]
    assert "ingestion" in result["stages"] and "other" not in result["stages"]
    results = {"machine": bench.machine_info(), "config": {"seed": 42}, "sizes": [result], "targets": []}
    assert "| 2,000 |" in bench.render_markdown(results)
