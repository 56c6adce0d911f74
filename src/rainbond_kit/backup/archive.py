"""Pack a finished backup directory into one ``.tar.gz`` (streamed, file by file)."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

__all__ = ["make_archive"]


def make_archive(source: Path, dest: Path | None = None) -> Path:
    """Write ``source`` as ``<dest>`` (default ``<source>.tar.gz``), its top folder named ``source.name``.

    :mod:`tarfile` copies each file in chunks, so memory does not grow with the backup. The
    archive is written under a temporary name and renamed when complete.
    """
    dest = dest or source.with_name(f"{source.name}.tar.gz")
    partial = dest.with_name(f".{dest.name}.partial")
    try:
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(source, arcname=source.name)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return dest
