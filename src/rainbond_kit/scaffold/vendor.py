"""Carry the running rainbond-kit into a new component as a wheel (``vendor/``).

A component's ``requirements.txt`` then installs the exact rainbond-kit it was made with
from its own folder (``--find-links vendor``), with no package index that has rainbond-kit.

The wheel comes from the running installation: an installed wheel is packed again from
the files its ``RECORD`` lists (same contents, fresh ``RECORD``); an editable install (a
source checkout) is built with ``pip wheel``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from pathlib import Path
from urllib.parse import unquote, urlsplit

from rainbond_kit.errors import RainbondError

__all__ = ["DISTRIBUTION", "VendorError", "vendor_wheel"]

DISTRIBUTION = "rainbond-kit"
# dist-info files an installer writes; a wheel does not carry them
_INSTALLER_FILES = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


class VendorError(RainbondError):
    """The running rainbond-kit cannot be packed as a wheel."""


def _editable_source(dist: Distribution) -> Path | None:
    raw = dist.read_text("direct_url.json")
    if not raw:
        return None
    info = json.loads(raw)
    if not info.get("dir_info", {}).get("editable"):
        return None
    url = urlsplit(info["url"])
    return Path(unquote(url.path)) if url.scheme == "file" else None


def _build(source: Path, folder: Path) -> Path:
    result = subprocess.run(  # noqa: S603 - fixed argv: this interpreter's pip
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    wheels = sorted(folder.glob("rainbond_kit-*.whl"))
    if result.returncode != 0 or not wheels:
        last = (result.stderr.strip().splitlines() or ["pip wheel failed"])[-1]
        raise VendorError(f"cannot build a wheel from {source}: {last}")
    return wheels[-1]


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _repack(dist: Distribution, folder: Path) -> Path:
    files = dist.files or []
    dist_info = next((f.parts[0] for f in files if f.parts[0].endswith(".dist-info")), None)
    if dist_info is None:
        raise VendorError("the installed rainbond-kit lists no files (no RECORD)")
    tags = [
        line.split(":", 1)[1].strip()
        for line in (dist.read_text("WHEEL") or "").splitlines()
        if line.startswith("Tag:")
    ]
    name = f"rainbond_kit-{dist.version}-{tags[0] if tags else 'py3-none-any'}.whl"
    target = folder / name
    record: list[str] = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as wheel:
        for path in files:
            arcname = path.as_posix()
            if (
                arcname.startswith("..")  # console scripts: the installer makes them
                or "__pycache__" in path.parts
                or (path.parts[0] == dist_info and path.name in _INSTALLER_FILES)
            ):
                continue
            data = Path(str(dist.locate_file(path))).read_bytes()
            wheel.writestr(arcname, data)
            record.append(_record_line(arcname, data))
        record.append(f"{dist_info}/RECORD,,")
        wheel.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    return target


@functools.cache
def _running_wheel() -> Path:
    """The running rainbond-kit as a wheel in a temporary folder (made once per process)."""
    try:
        dist = distribution(DISTRIBUTION)
    except PackageNotFoundError:
        raise VendorError("rainbond-kit is not installed (no package metadata)") from None
    folder = Path(tempfile.mkdtemp(prefix="rainbond-kit-wheel-"))
    source = _editable_source(dist)
    return _build(source, folder) if source is not None else _repack(dist, folder)


def vendor_wheel(folder: Path) -> Path:
    """Copy the running rainbond-kit's wheel into ``folder``; return the copy's path.

    :raises VendorError: the installation cannot be packed (say so, suggest another source).
    """
    wheel = _running_wheel()
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(wheel, folder / wheel.name))
