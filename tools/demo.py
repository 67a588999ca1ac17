"""The main job: render the template with its defaults, install it and run its whole pipeline."""

from __future__ import annotations

import shutil
import sys
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from project import TEMPLATE_DIR, install, kedro, render

BUILD = TEMPLATE_DIR / "build" / "demo"
GATES = ("gate.validation", "gate.benchmark", "gate.fairness")
HEADLINE_METRICS = (
    "ingestion.rows_raw_applications",
    "validation.rows_passed",
    "validation.rows_quarantined",
    "test.roc_auc",
    "test.average_precision",
    "benchmark.candidate.roc_auc_mean",
    "benchmark.logistic_regression.roc_auc_mean",
    "benchmark.dummy_prior.roc_auc_mean",
    "fairness.foreign_worker.demographic_parity_ratio",
    "fairness.foreign_worker.equalized_odds_difference",
    "fairness.sex.demographic_parity_ratio",
)


def main() -> int:
    """Render, install, run; print a summary and where the MLflow run is."""
    shutil.rmtree(BUILD, ignore_errors=True)
    start = time.perf_counter()
    project = render(BUILD)
    print(f"[1/3] rendered {project} ({time.perf_counter() - start:.1f} s)", flush=True)
    print("[2/3] installing its dependencies with uv sync ...", flush=True)
    print(f"      done ({install(project):.1f} s)", flush=True)
    print("[3/3] kedro run (the whole default pipeline) ...", flush=True)
    start = time.perf_counter()
    done = kedro(project, "run", check=False)
    print(done.stdout[-8000:], done.stderr[-8000:], sep="\n")
    if done.returncode != 0:
        print(f"kedro run failed (exit code {done.returncode}); the log is above.", file=sys.stderr)
        return done.returncode
    print(f"kedro run finished in {time.perf_counter() - start:.1f} s")
    return print_summary(project)


def print_summary(project: Path) -> int:
    """Read the run back from the project's MLflow store and say where it is."""
    import mlflow

    uri = f"sqlite:///{project / 'mlflow.db'}"
    client = mlflow.MlflowClient(tracking_uri=uri)
    package = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["kedro"]["package_name"]
    experiment = client.get_experiment_by_name(package)
    # The latest complete run of the default pipeline: FINISHED, with every gate recorded.
    finished = client.search_runs(
        [experiment.experiment_id],
        filter_string="attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
    )
    complete = [
        r
        for r in finished
        if r.data.tags.get("kedro.pipeline", r.data.tags.get("mlflow.runName")) == "__default__"
        and all(gate in r.data.tags for gate in GATES)
    ]
    if not complete:
        print(f"No FINISHED __default__ run with its gates in {uri}.", file=sys.stderr)
        return 1
    run = complete[0]
    print("\n=== Summary ===")
    print(f"project:     {project}")
    print(f"MLflow run:  {run.info.run_name!r} {run.info.run_id} ({run.info.status})")
    print(f"experiment:  {experiment.name!r}")
    print(f"store:       {uri}")
    tags, metrics = run.data.tags, run.data.metrics
    for key in sorted(k for k in tags if k.startswith(("gate.", "promotion."))):
        print(f"{key + ':':<20} {tags[key]}")
    print(f"key metrics (of {len(metrics)} logged):")
    for key in HEADLINE_METRICS:
        if key in metrics:
            print(f"  {key:<52} {metrics[key]:.6g}")
    print(f"model card:  {project / 'data/08_reporting/model_card.md'}")
    print(f"\nBrowse it:   cd {project} && uv run mlflow ui --backend-store-uri {uri}")
    print(f"Lineage:     cd {project} && uv run kedro viz run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
