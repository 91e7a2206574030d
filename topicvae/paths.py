"""Where topicvae reads and writes: folders, safe names and atomic writes.

Defaults are folders under the current directory; each can be moved with an
environment variable or the matching CLI flag.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Iterator

from .errors import ConfigError

CORPORA_ENV = "TOPICVAE_CORPORA_DIR"
RUNS_ENV = "TOPICVAE_RUNS_DIR"

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def corpora_dir(override: str | os.PathLike | None = None) -> Path:
    """The corpora folder: ``override``, else ``$TOPICVAE_CORPORA_DIR``, else ``./corpora``."""
    return Path(override or os.environ.get(CORPORA_ENV) or "corpora")


def runs_dir(override: str | os.PathLike | None = None) -> Path:
    """The runs folder: ``override``, else ``$TOPICVAE_RUNS_DIR``, else ``./runs``."""
    return Path(override or os.environ.get(RUNS_ENV) or "runs")


def check_name(name: str, what: str = "name") -> str:
    """Return ``name`` if it is a safe folder name (letters, digits, ``. _ -``), else raise."""
    if not isinstance(name, str) or not _SAFE_NAME.match(name) or ".." in name:
        raise ConfigError(
            f"invalid {what} {name!r}: use letters, digits, '.', '_' and '-' only "
            "(no '/', no '..', at most 128 characters, starting with a letter or digit)"
        )
    return name


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def atomic_dir(final: Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``final``; rename it to ``final`` when the block succeeds.

    On an exception the temporary folder is removed and ``final`` is untouched. With
    ``force`` an existing ``final`` is replaced only after the new one is complete.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if final.exists():
        if not force:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ConfigError(f"{final} already exists; pass --force to replace it")
        old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def check_output_path(path: str | os.PathLike) -> Path:
    """Raise a clear error if ``path`` cannot be written (missing or read-only folder)."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ConfigError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise ConfigError(f"cannot write {path}: folder {parent} is not writable")
    return path
