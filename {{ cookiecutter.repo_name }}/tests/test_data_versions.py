"""Data versions: DVC's hash of each raw file, and the file kept in the project's DVC store."""

import tomllib
from importlib import import_module
from pathlib import Path

from .conftest import PROJECT_ROOT

PACKAGE = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["kedro"][
    "package_name"
]
data_versions = import_module(f"{PACKAGE}.data_versions")


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
