"""A team's own data by configuration alone: domain-neutral code, and bad configuration refused
with one line naming the file and key before any node has read data."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest
import yaml

# The sample's vocabulary: it may live in its data and configuration, never in the package's code.
DOMAIN_WORDS = re.compile(
    r"\b(loans?|applicants?|applications?_(?:id|date)|bureaus?|defaulted|defaulting|defaulters?"
    r"|default_probability|predicted_default|likely to default)\b",
    re.IGNORECASE,
)


def code_without_comments(source: str) -> list[tuple[int, str]]:
    """(line, text) of every token of a Python file but its comments."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [(t.start[0], t.string) for t in tokens if t.type != tokenize.COMMENT]


def test_the_generated_package_never_speaks_of_the_sample_domain(render_project) -> None:
    project = render_project()
    package = next((project / "src").iterdir())
    found = [
        f"{path.relative_to(project)}:{line}: {text.strip()[:80]}"
        for path in sorted(package.rglob("*.py"))
        for line, text in code_without_comments(path.read_text())
        if DOMAIN_WORDS.search(text)
    ]
    assert not found, "\n".join(found)
    assert DOMAIN_WORDS.search('summarise_bureau_records("applicant")')  # the check can fail


# --- bad configuration, refused before any data is read ------------------------------------------


def edit_yaml(path: Path, change) -> None:
    config = yaml.safe_load(path.read_text())
    change(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def drop_suite(config: dict) -> None:
    del config["validation_suites"]["raw_bureau_records"]


def empty_aggregations(config: dict) -> None:
    config["ingestion"]["related_sources"]["bureau_records"]["aggregations"] = {}


def bad_threshold(config: dict) -> None:
    config["training"]["decision_threshold"] = 1.5


def unknown_positive(config: dict) -> None:
    config["dataset"]["target"]["positive"] = 2


def missing_key(config: dict) -> None:
    config["ingestion"]["related_sources"]["bureau_records"]["key"] = "customer_ref"


def misspelt_key(config: dict) -> None:
    proxies = config["fairness_review"]["proxies"]
    proxies["numeric_bin"] = proxies.pop("numeric_bins")


def dangling_reference(config: dict) -> None:
    """Rename a key another file refers to (monitoring's min_group_size is the review's)."""
    config["fairness_review"]["min_group_sise"] = config["fairness_review"].pop("min_group_size")


def sensitive_feature(config: dict) -> None:
    config["dataset"]["features"]["categorical"].append("sex")


def misspelt_problem_type(config: dict) -> None:
    config["dataset"]["problem_type"] = "regresion"


def unknown_dataset_key(config: dict) -> None:
    config["dataset"]["targets"] = config["dataset"]["target"]


def positive_for_a_regression(config: dict) -> None:
    config["dataset"]["problem_type"] = "regression"


BAD_CONFIGS = {
    "dataset without a suite": (
        "parameters_validation_suites.yml",
        drop_suite,
        ["conf/base/parameters_validation_suites.yml", "no suite for ['raw_bureau_records']"],
    ),
    "empty aggregation map": (
        "parameters_ingestion.yml",
        empty_aggregations,
        ["conf/base/parameters_ingestion.yml", "related_sources.bureau_records.aggregations"],
    ),
    "threshold outside (0, 1)": (
        "parameters_training.yml",
        bad_threshold,
        ["conf/base/parameters_training.yml", "training.decision_threshold", "1.5"],
    ),
    "positive value the target never takes": (
        "parameters_dataset.yml",
        unknown_positive,
        ["conf/base/parameters_dataset.yml", "dataset.target.positive", "is 2"],
    ),
    "join key the main source lacks": (
        "parameters_ingestion.yml",
        missing_key,
        ["conf/base/parameters_ingestion.yml", "related_sources.bureau_records.key", "customer_ref"],
    ),
    "misspelt key": (
        "parameters_fairness_review.yml",
        misspelt_key,
        ["conf/base/parameters_fairness_review.yml", "fairness_review.proxies.numeric_bin", "not a key"],
    ),
    "reference to a renamed key": (
        "parameters_fairness_review.yml",
        dangling_reference,
        # monitoring's and labels' min_group_size both lead to it; the first one resolved is named
        [".min_group_size refers to ${fairness_review.min_group_size}", "no file in conf/"],
    ),
    "sensitive attribute as a feature": (
        "parameters_dataset.yml",
        sensitive_feature,
        ["conf/base/parameters_dataset.yml", "['sex']", "use_sensitive_features"],
    ),
    "misspelt problem type": (
        "parameters_dataset.yml",
        misspelt_problem_type,
        ["conf/base/parameters_dataset.yml", "dataset.problem_type", "'regresion'", "regression"],
    ),
    "unknown key under dataset": (
        "parameters_dataset.yml",
        unknown_dataset_key,
        ["conf/base/parameters_dataset.yml", "dataset.targets", "not a key"],
    ),
    "positive value for a regression": (
        "parameters_dataset.yml",
        positive_for_a_regression,
        ["conf/base/parameters_dataset.yml", "dataset.target.positive", "regression target"],
    ),
}


def assert_one_line_refusal(done, expected: list[str]) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    stopped = [line for line in done.stderr.splitlines() if line.startswith("Run stopped:")]
    assert len(stopped) == 1, done.stderr[-3000:]
    for text in expected:
        assert text in stopped[0], stopped[0]
    assert "Loading data from raw_" not in output, "a node read data before the refusal"


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_bad_configuration_is_refused_before_any_data_is_read(default_copy, case: str) -> None:
    copy, kedro_in_copy = default_copy
    file, change, expected = BAD_CONFIGS[case]
    edit_yaml(copy / "conf/base" / file, change)
    assert_one_line_refusal(kedro_in_copy("run", COLUMNS="250"), expected)


@pytest.mark.slow
def test_a_yaml_syntax_error_names_the_file_line_and_column(default_copy) -> None:
    copy, kedro_in_copy = default_copy
    path = copy / "conf/base/parameters_training.yml"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, "  broken: [1, 2", ""]))
    done = kedro_in_copy("run", COLUMNS="250")
    assert_one_line_refusal(done, ["conf/base/parameters_training.yml", f"line {len(lines) + 2}", "column 1"])


@pytest.mark.slow
def test_an_unknown_pipeline_names_the_registered_ones(default_copy) -> None:
    _, kedro_in_copy = default_copy
    done = kedro_in_copy("run", "--pipelines", "no_such_pipeline", COLUMNS="250")
    assert_one_line_refusal(done, ["'no_such_pipeline'", "ingestion", "validation", "inference"])


@pytest.mark.slow
def test_an_environment_that_names_other_sources_builds_their_pipeline(default_copy) -> None:
    """`kedro run --env other`: the pipeline is built from conf/other's sources, not base's."""
    copy, kedro_in_copy = default_copy
    ingestion = yaml.safe_load((copy / "conf/base/parameters_ingestion.yml").read_text())
    dataset = yaml.safe_load((copy / "conf/base/parameters_dataset.yml").read_text())["dataset"]
    # Kedro resolves ${...} within one environment: an environment's file writes values out.
    ingestion["ingestion"]["id_column"] = dataset["id_column"]
    ingestion["ingestion"]["target"] = dataset["target"]
    ingestion["ingestion"]["related_sources"] = {}  # the main table alone
    ingestion["ingestion"]["ratios"] = {"loan_to_income": ["loan_amount", "annual_income"]}
    (copy / "conf/other").mkdir()
    (copy / "conf/other/parameters_ingestion.yml").write_text(yaml.safe_dump(ingestion))
    done = kedro_in_copy("run", "--env", "other", "--pipelines", "ingestion", COLUMNS="250")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "summarise_bureau_records" not in output
    assert "Loading data from raw_bureau_records" not in output
    base = kedro_in_copy("run", "--pipelines", "ingestion", COLUMNS="250")
    assert "summarise_bureau_records" in base.stdout + base.stderr  # the check can fail
