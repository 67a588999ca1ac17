"""Fast: after ``kedro draft-config --force`` on a team's own file, no name of the bundled sample
is left anywhere in ``conf/`` (every environment: base and spark), and the sources of each
environment are the drafted file's, read as its type is (a Parquet source's batches as Parquet).

The project is rendered under a neutral name (the default one names the sample's domain) and
the command runs from its ``src/`` with the template's own Python (no install needed).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from generate_shapes import generate
from project import project_env

# The sample's sources, target, id and distinctive columns (its data and conf may name them;
# a drafted configuration may not).
SAMPLE_NAMES = re.compile(
    r"applications?|bureau|applicants?|defaulted|defaulters?|foreign_worker|\bloans?\b"
    r"|loan_|region_code|annual_income|credit_utilisation|late_payments|employment_years"
    r"|num_dependents|n_closed_accounts|max_months_on_book",
    re.IGNORECASE,
)
PACKAGE = "ticket_triage"
CASES = {
    "regression": ["--id", "listing_id", "--sensitive", "seller_sex", "--sensitive", "seller_age"],
    "multiclass": ["--id", "ticket_id", "--sensitive", "requester_gender", "--sensitive", "requester_age"],
}


def draft_config(project: Path, *args: str) -> subprocess.CompletedProcess:
    code = f"from {PACKAGE}.draft_config import draft_config; draft_config(prog_name='kedro draft-config')"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env=project_env(PYTHONPATH=str(project / "src")),
    )


@pytest.mark.parametrize(
    ("shape", "suffix"), [("regression", ".csv"), ("multiclass", ".csv"), ("regression", ".parquet")]
)
def test_drafted_conf_names_nothing_of_the_sample(render_project, shape: str, suffix: str) -> None:
    project = render_project(project_name="Ticket Triage")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)  # --force keeps the old files
    manifest = generate(shape, project / "data" / "01_raw" / shape, rows=500, seed=7)
    source = Path("data/01_raw") / shape / manifest["main_source"]["file"]
    if suffix == ".parquet":
        frame = pd.read_csv(project / source, dtype=str, keep_default_na=False)
        source = source.with_suffix(".parquet")
        frame.to_parquet(project / source)
    target = manifest["target"]["column"]
    assert SAMPLE_NAMES.search((project / "conf/spark/catalog.yml").read_text())  # it can fail

    done = draft_config(project, str(source), "--target", target, *CASES[shape], "--force")

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"problem type: {shape}" in done.stdout
    survivors = [
        f"{path.relative_to(project)}:{number}: {line.strip()}"
        for path in sorted((project / "conf").rglob("*"))
        if path.is_file()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if SAMPLE_NAMES.search(line)
    ]
    assert not survivors, "\n".join(survivors)

    name = Path(source).stem
    base = yaml.safe_load((project / "conf/base/catalog.yml").read_text())
    spark = yaml.safe_load((project / "conf/spark/catalog.yml").read_text())
    assert list(base) == list(spark) == [f"raw_{name}", f"scoring_raw_{name}"]
    pandas_type = "pandas.ParquetDataset" if suffix == ".parquet" else "pandas.CSVDataset"
    assert {entry["type"] for entry in base.values()} == {pandas_type}
    assert base[f"scoring_raw_{name}"]["filepath"].endswith(f"/{source.name}")
    if suffix == ".parquet":
        assert {entry.get("file_format") for entry in spark.values()} == {"parquet"}
    for env in ("base", "spark"):  # no other environment file names a source
        for path in (project / "conf" / env).glob("catalog_*.yml"):
            entries = yaml.safe_load(path.read_text()) or {}
            assert not [e for e in entries if re.match(r"(scoring_)?raw_", e)], path
    fairness = yaml.safe_load((project / "conf/base/parameters_fairness_review.yml").read_text())
    assert fairness["fairness_review"]["mitigation"]["sensitive_feature"] == CASES[shape][3]
