"""Data versions (DVC's hash of each raw file, kept in the DVC store) and what `kedro reproduce`
refuses before it starts."""

import importlib.util
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


def _commit_something(folder: Path) -> str:
    """A git repository in ``folder`` with one commit (of a file ``a.txt``); its hash."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=folder, check=True)
    (folder / "a.txt").write_text("a\n")
    subprocess.run([*git, "add", "a.txt"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-qm", "a"], cwd=folder, check=True)
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_reproduce_refuses_in_one_line_what_it_cannot_recreate(tmp_path: Path) -> None:
    reproduction = import_module(f"{PACKAGE}.reproduction")
    head = _commit_something(tmp_path)
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


def _config_loader(tmp_path: Path, base: str, local: str = "", base_credentials: str = ""):
    """Kedro's config loader, as the project sets it up, on a ``conf`` folder of its own."""
    from kedro.config import OmegaConfigLoader

    settings = import_module(f"{PACKAGE}.settings")
    conf = tmp_path / "conf"
    (conf / "base").mkdir(parents=True, exist_ok=True)
    (conf / "local").mkdir(exist_ok=True)
    (conf / "base" / "data_store.yml").write_text(base)
    (conf / "local" / "credentials.yml").write_text(local or "{}\n")
    (conf / "base" / "credentials.yml").write_text(base_credentials or "{}\n")
    patterns = settings.CONFIG_LOADER_ARGS["config_patterns"]
    return OmegaConfigLoader(conf_source=str(conf), config_patterns=patterns)


def test_a_folder_remote_gets_each_kept_version_and_gives_it_back(tmp_path: Path) -> None:
    reproduction = import_module(f"{PACKAGE}.reproduction")
    (tmp_path / ".dvc").mkdir()
    raw = tmp_path / "table.csv"
    raw.write_text("a,b\n1,2\n")
    version = data_versions.file_version(raw)
    loader = _config_loader(
        tmp_path,
        "data_store:\n  remote: shared/store\n  credentials: data_store\n",
        local="data_store: {}\n",
    )
    remote = data_versions.configured_remote(loader, tmp_path)
    assert remote.path == str(tmp_path / "shared" / "store")  # relative to the project

    data_versions.store(tmp_path, raw, version)
    assert data_versions.push(tmp_path, remote, version)
    on_remote = tmp_path / "shared/store/files/md5" / version[:2] / version[2:]  # DVC's layout
    assert on_remote.read_bytes() == raw.read_bytes()
    assert not data_versions.push(tmp_path, remote, version)  # pushed once

    kept = data_versions.stored_path(tmp_path, version)
    kept.chmod(0o644)
    kept.unlink()  # the local store emptied: the reproduction pulls the version back
    head = _commit_something(tmp_path)
    tags = {"mlflow.source.git.commit": head, "data.raw_table.version": version}
    tags["data.raw_table.path"] = "table.csv"
    assert reproduction.check_reproducible(_run(tags), tmp_path, False, remote)[0] == head
    assert kept.read_bytes() == raw.read_bytes()

    kept.chmod(0o644)
    kept.unlink()
    on_remote.unlink()  # and the remote emptied too
    with pytest.raises(ProjectError) as refused:
        reproduction.check_reproducible(_run(tags), tmp_path, False, remote)
    message = str(refused.value)
    assert "\n" not in message and version in message
    assert ".dvc/cache" in message and remote.url in message


def test_the_data_store_configuration_is_refused_in_one_line(tmp_path: Path) -> None:
    ConfigError = import_module(f"{PACKAGE}.errors").ConfigError

    def refusal(base: str, **files: str) -> str:
        with pytest.raises(ConfigError) as refused:
            data_versions.configured_remote(_config_loader(tmp_path, base, **files), tmp_path)
        assert "\n" not in str(refused.value)
        return str(refused.value)

    valid = "data_store:\n  remote: {remote}\n  credentials: data_store\n"
    assert (
        data_versions.configured_remote(
            _config_loader(tmp_path, valid.format(remote="null")), tmp_path
        )
        is None
    )
    secret = valid.format(remote="null") + "  secret_access_key: abc\n"
    assert "conf/local/credentials.yml" in refusal(secret)
    assert "is not a key" in refusal(valid.format(remote="null") + "  bucket: b\n")
    assert "data_store.credentials" in refusal("data_store:\n  remote: null\n")
    assert "conf/local/credentials.yml" in refusal(
        valid.format(remote="/shared"), base_credentials="data_store:\n  password: abc\n"
    )
    assert "password" in refusal(valid.format(remote="ssh://alice:abc@host/store"))
    # A cloud scheme whose filesystem package is not installed here (the Spark extra brings s3fs).
    packages = {"s3": "s3fs", "gs": "gcsfs", "az": "adlfs"}
    scheme = next(s for s, package in packages.items() if importlib.util.find_spec(package) is None)
    assert packages[scheme] in refusal(valid.format(remote=f"{scheme}://bucket/store"))
    assert "fsspec does not know" in refusal(valid.format(remote="nosuch://bucket/store"))
    assert "must be a mapping" in refusal(valid.format(remote="/shared"), local="data_store: abc\n")


def test_a_remote_behind_an_fsspec_filesystem_gets_and_gives_back_versions(tmp_path: Path) -> None:
    """Cloud remotes go through fsspec (s3fs, gcsfs, ...): here its in-memory filesystem."""
    (tmp_path / ".dvc").mkdir()
    raw = tmp_path / "table.csv"
    raw.write_text("a,b\n5,6\n")
    version = data_versions.file_version(raw)
    data_versions.store(tmp_path, raw, version)
    remote = data_versions.remote_at("memory://team-store/data", tmp_path, {})
    assert data_versions.push(tmp_path, remote, version)
    on_remote = f"/team-store/data/files/md5/{version[:2]}/{version[2:]}"  # DVC's layout
    assert remote.filesystem.fs.cat_file(on_remote) == raw.read_bytes()
    assert not data_versions.push(tmp_path, remote, version)
    kept = data_versions.stored_path(tmp_path, version)
    kept.chmod(0o644)
    kept.unlink()
    assert data_versions.pull(tmp_path, remote, version)
    assert kept.read_bytes() == raw.read_bytes()
    remote.filesystem.fs.rm(on_remote)
    assert not data_versions.pull(tmp_path, remote, "0" * 32)
