"""Data versions: each raw file a run reads, named by DVC's hash and kept in DVC's data store.

DVC names a file by the MD5 of its bytes (``dvc add`` writes that hash to the ``.dvc`` file), so
the run computes it with hashlib, and keeps a version it has not kept yet in ``.dvc/cache`` (under
the project, git-ignored) with dvc-data, DVC's own storage library: the store the ``dvc`` command
pushes to and pulls from a remote. The full ``dvc`` command is not a dependency: its hydra-core
pins omegaconf below what Kedro's settings use; run it from its own tool environment.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

DVC_FOLDER = ".dvc"
CHUNK_BYTES = 1 << 20
NOT_A_FILE = "unversioned (not a single local file)"
NO_STORE = "recorded only: the project has no .dvc folder (uvx dvc init)"


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
