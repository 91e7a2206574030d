"""What a folder holds, to check that a command left it exactly as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path


def snapshot(folder: Path) -> dict[str, str]:
    """Every path under ``folder`` (hidden ones too): the sha256 of a file's bytes, "dir" for a folder."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
            for p in sorted(folder.rglob("*"))}
