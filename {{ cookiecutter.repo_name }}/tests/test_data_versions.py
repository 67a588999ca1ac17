"""Data versions (DVC's hash of each raw file, kept in the DVC store) and what `kedro reproduce`
refuses before it starts."""

import subprocess
import tomllib
from importlib import import_module
from pathlib import Path
from types import SimpleNamespace

import pytest

from .conftest import PROJECT_ROOT

PACKAGE = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["kedro"][
    "package_name"
]
data_versions = import_module(f"{PACKAGE}.data_versions")
ProjectError = import_module(f"{PACKAGE}.errors").ProjectError


def test_the_version_is_the_hash_dvc_gives_the_file(tmp_path: Path) -> None:
    from dvc_data.hashfile.hash import file_md5

    raw = tmp_path / "table.csv"
    raw.write_bytes(b"a,b\r\n1,2\r\n" * 300_000)  # more than one read chunk; Windows line ends
    assert data_versions.file_version(raw) == file_md5(str(raw))


def test_a_version_is_kept_once_in_the_dvc_store_and_restores_the_file(tmp_path: Path) -> None:
    raw = tmp_path / "data" / "table.csv"
    raw.parent.mkdir()
    raw.write_text("a,b\n1,2\n")
    version = data_versions.file_version(raw)
    assert data_versions.store(tmp_path, raw, version) == data_versions.NO_STORE

    (tmp_path / ".dvc").mkdir()  # as the generated project ships it: no git needed
    (tmp_path / ".dvc" / "config").write_text("# comments only\n")
    assert data_versions.store(tmp_path, raw, version) == "dvc"
    kept = data_versions.stored_path(tmp_path, version)
    assert kept.read_bytes() == raw.read_bytes()
    raw.write_text("a,b\n3,4\n")  # the file changes; the version the run read stays
    assert data_versions.store(tmp_path, raw, version) == "dvc"
    assert kept.read_text() == "a,b\n1,2\n"


def _run(tags: dict[str, str]) -> SimpleNamespace:
    """The parts of an MLflow run that ``kedro reproduce`` reads before it starts."""
    return SimpleNamespace(info=SimpleNamespace(run_id="r1"), data=SimpleNamespace(tags=tags))


def test_reproduce_refuses_in_one_line_what_it_cannot_recreate(tmp_path: Path) -> None:
    reproduction = import_module(f"{PACKAGE}.reproduction")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "a.txt").write_text("a\n")
    subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "a"], cwd=tmp_path, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.strip()
    raw = tmp_path / "table.csv"
    raw.write_text("a,b\n1,2\n")
    version = data_versions.file_version(raw)
    tags = {
        "mlflow.source.git.commit": head,
        "git.dirty": "false",
        "data.raw_table.version": version,
        "data.raw_table.path": "table.csv",
    }

    def refusal(**changed: str) -> str:
        with pytest.raises(ProjectError) as refused:
            reproduction.check_reproducible(_run({**tags, **changed}), tmp_path, False)
        assert "\n" not in str(refused.value)
        return str(refused.value)

    assert "uvx dvc pull" in refusal() and version in refusal()  # not in the store
    (tmp_path / ".dvc").mkdir()
    data_versions.store(tmp_path, raw, version)
    assert reproduction.check_reproducible(_run(tags), tmp_path, False)[0] == head
    assert "--allow-dirty" in refusal(**{"git.dirty": "true"})
    assert reproduction.check_reproducible(_run({**tags, "git.dirty": "true"}), tmp_path, True)
    assert "git fetch" in refusal(**{"mlflow.source.git.commit": "0" * 40})
    assert "--in-place" in refusal(**{"mlflow.source.git.commit": ""})
