"""Data versions: each raw file a run reads, named by DVC's hash and kept in DVC's data store.

DVC names a file by the MD5 of its bytes (``dvc add`` writes that hash to the ``.dvc`` file), so
the run computes it with hashlib, and keeps a version it has not kept yet in ``.dvc/cache`` (under
the project, git-ignored) with dvc-data, DVC's own storage library: the store the ``dvc`` command
pushes to and pulls from a remote. The full ``dvc`` command is not a dependency: its hydra-core
pins omegaconf below what Kedro's settings use; run it from its own tool environment.

A remote named in ``conf/base/data_store.yml`` (its credentials in ``conf/local/credentials.yml``)
gets each version a run keeps, in DVC's remote layout (``files/md5/ab/cdef…``, so ``dvc pull``
reads it), and gives ``kedro reproduce`` the versions missing from the local store.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .errors import ConfigError, DataError

logger = logging.getLogger(__name__)

DVC_FOLDER = ".dvc"
CHUNK_BYTES = 1 << 20
NOT_A_FILE = "unversioned (not a single local file)"
NO_STORE = "recorded only: the project has no .dvc folder (uvx dvc init)"
CONFIG_FILE = "conf/base/data_store.yml"
CONFIG_KEYS = ("remote", "credentials")
CREDENTIALS_FILE = "conf/local/credentials.yml"
# Words that mark a key as a secret, wherever it is written.
SECRET_WORDS = ("key", "secret", "password", "token", "credential", "passphrase", "user")


def file_version(path: Path) -> str:
    """DVC's hash of a file: the MD5 of its bytes, as ``dvc add`` writes it to the .dvc file."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def stored_path(root: Path, version: str) -> Path:
    """Where DVC's default local store keeps a file version (``.dvc/cache/files/md5/ab/cdef…``)."""
    return root / DVC_FOLDER / "cache" / "files" / "md5" / version[:2] / version[2:]


def store(root: Path, path: Path, version: str) -> str:
    """Keep ``path`` (of hash ``version``) in the project's DVC store; say where it is kept.

    Returns ``dvc`` when the version is in the store, else the reason it is only recorded. The
    store is DVC's default local cache; a team that moves it (``dvc cache dir``) keeps a copy here.
    """
    if not (root / DVC_FOLDER).is_dir():
        return NO_STORE
    kept = stored_path(root, version)
    if kept.is_file():
        return "dvc"
    from dvc_data.hashfile.db.local import LocalHashFileDB
    from dvc_objects.fs.local import LocalFileSystem

    filesystem = LocalFileSystem()
    LocalHashFileDB(filesystem, str(kept.parents[1])).add(str(path), filesystem, version)
    logger.info("Data version %s of %s kept in the DVC store", version, path)
    return "dvc"


@dataclass
class Remote:
    """The team's copy of the data store: a folder or a cloud location, in DVC's layout."""

    url: str
    path: str  # the remote's folder, as its filesystem names it
    open_filesystem: Callable[[], Any]  # a dvc_objects FileSystem, opened when first needed

    @cached_property
    def filesystem(self) -> Any:
        return self.open_filesystem()

    def database(self) -> Any:
        from dvc_data.hashfile.db import HashFileDB

        return HashFileDB(self.filesystem, self.filesystem.join(self.path, "files", "md5"))


def _config_section(config_loader: Any, key: str) -> Any:
    from kedro.config import MissingConfigException

    try:
        return config_loader[key] or {}
    except (KeyError, MissingConfigException):  # no such file: nothing configured
        return {}


def _credentials_in_base(conf_source: Path, key: str) -> Path | None:
    """A ``credentials*`` file of ``conf/base`` that holds ``key``, if any."""
    import yaml

    for path in sorted((conf_source / "base").glob("credentials*")):
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(content, dict) and key in content:
            return path
    return None


def configured_remote(config_loader: Any, root: Path) -> Remote | None:
    """The remote of ``conf/*/data_store.yml``, or None; a ConfigError names a wrong key.

    Credentials come from ``conf/local/credentials.yml`` (the key ``data_store.credentials``
    names) and are passed to the remote's filesystem; a credential written in ``conf/base``, in
    the URL or in ``data_store.yml`` is refused.
    """
    section = _config_section(config_loader, "data_store").get("data_store")
    if section is None:
        return None
    if not isinstance(section, dict):
        raise ConfigError(
            f"data_store in {CONFIG_FILE} must be a mapping with {list(CONFIG_KEYS)}."
        )
    for name in sorted(set(section) - set(CONFIG_KEYS)):
        hint = (
            f"the remote's credentials go in {CREDENTIALS_FILE}, never in conf/base"
            if any(word in name.lower() for word in SECRET_WORDS)
            else f"use {list(CONFIG_KEYS)}"
        )
        raise ConfigError(f"data_store.{name} in {CONFIG_FILE} is not a key: {hint}.")
    for name in CONFIG_KEYS:
        if name not in section:
            raise ConfigError(f"data_store.{name} in {CONFIG_FILE} is missing.")
    url, key = section["remote"], section["credentials"]
    if key is not None and (not isinstance(key, str) or not key):
        raise ConfigError(
            f"data_store.credentials in {CONFIG_FILE} is {key!r}: name a key of "
            f"{CREDENTIALS_FILE}, or null."
        )
    if key:
        in_base = _credentials_in_base(Path(config_loader.conf_source), key)
        if in_base is not None:
            raise ConfigError(
                f"the data store's credentials '{key}' are in conf/base/{in_base.name}, "
                f"which git shares: move them to {CREDENTIALS_FILE}."
            )
    if url is None:
        return None
    if not isinstance(url, str) or not url.strip():
        raise ConfigError(
            f"data_store.remote in {CONFIG_FILE} is {url!r}: a folder, s3://, gs://, ssh://... "
            "URL, or null for the local store only."
        )
    credentials = _config_section(config_loader, "credentials").get(key) if key else None
    if credentials is not None and not isinstance(credentials, dict):
        raise ConfigError(
            f"'{key}' in {CREDENTIALS_FILE} must be a mapping of the remote's options."
        )
    return remote_at(url.strip(), root, credentials or {})


def remote_at(url: str, root: Path, credentials: dict[str, Any]) -> Remote:
    """The remote at ``url`` (a folder, relative to ``root`` unless absolute, or a URL)."""
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if parsed.password:
        raise ConfigError(
            f"data_store.remote in {CONFIG_FILE} holds a password: put it in {CREDENTIALS_FILE}."
        )
    if scheme in ("", "file") or len(scheme) == 1:  # a folder (C:\... included)
        from dvc_objects.fs.local import LocalFileSystem

        folder = Path(parsed.path if scheme == "file" else url).expanduser()
        return Remote(url, str(folder if folder.is_absolute() else root / folder), LocalFileSystem)
    import fsspec
    from dvc_objects.fs.base import FileSystem

    try:
        filesystem_class = fsspec.get_filesystem_class(scheme)
    except ValueError:
        raise ConfigError(
            f"data_store.remote in {CONFIG_FILE} is a {scheme}:// URL, which fsspec does not "
            "know; use a folder, s3://, gs://, az://, ssh://, ..."
        ) from None
    except ImportError as error:  # fsspec's message names the package to install
        raise ConfigError(
            f"data_store.remote in {CONFIG_FILE} is a {scheme}:// remote, whose filesystem is not "
            f"installed: {str(error).strip().rstrip('.')} (uv add it to the project)"
        ) from None
    options = {**filesystem_class._get_kwargs_from_urls(url), **credentials}
    # DVC's plugins (dvc-s3, ...) depend on the dvc command, which the project cannot install
    # (data_versions' docstring): fsspec's filesystem, in dvc-objects' wrapper, does their work.
    attributes = {"protocol": scheme, "PARAM_CHECKSUM": "md5"}
    wrapper = type(f"{scheme.capitalize()}Remote", (FileSystem,), attributes)
    return Remote(
        url,
        filesystem_class._strip_protocol(url),
        lambda: wrapper(fs=filesystem_class(**options)),  # some connect at once (ssh)
    )


def push(root: Path, remote: Remote, version: str) -> bool:
    """Copy a version of the local store to the remote; False if the remote has it already."""
    from dvc_objects.fs.local import localfs

    database = remote.database()
    if database.exists(version):
        return False
    database.add(str(stored_path(root, version)), localfs, version, check_exists=False)
    return True


def pull(root: Path, remote: Remote, version: str) -> bool:
    """Copy a version from the remote into the local store; False if the remote lacks it.

    The copy is checked against its hash, so a damaged file never enters the store.
    """
    from dvc_data.hashfile.db.local import LocalHashFileDB
    from dvc_objects.fs.local import LocalFileSystem

    database = remote.database()
    if not database.exists(version):
        return False
    kept = stored_path(root, version)
    local = LocalHashFileDB(LocalFileSystem(), str(kept.parents[1]))
    local.add(database.oid_to_path(version), remote.filesystem, version, check_exists=False)
    if file_version(kept) != version:
        kept.chmod(0o644)
        kept.unlink()
        raise DataError(
            f"data version {version} on the remote {remote.url} does not match its hash: "
            "the remote's copy is damaged; push the file again from a clone that has it"
        )
    return True
