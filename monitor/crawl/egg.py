"""The project's egg, as Scrapyd runs it: the three packages pqwatch is made of (from where this
pqwatch is installed, so an installed `pqwatch deploy` needs no checkout) and the metadata
Scrapyd's runner reads (EGG-INFO/entry_points.txt names the Scrapy settings module).

What scrapyd-deploy builds with setuptools' bdist_egg, without a setup.py or a build step: the
egg is a zip of pure Python and package data, which Python imports from the zip."""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from importlib import import_module
from importlib.metadata import requires
from pathlib import Path

from monitor.config import pqwatch_version

PACKAGES = ("monitor", "spiders", "storage")


def build_egg() -> tuple[str, bytes]:
    """The egg's version and bytes. The version is the time and the content's hash,
    `1796303834_4519e52d`: Scrapyd runs a project's newest version, and sorts versions that are not
    PEP 440 ones (it turns the dots of those into underscores) as text, which orders these by time."""
    files = sorted(_package_files())
    digest = hashlib.sha256()
    for archive_name, path in files:
        digest.update(archive_name.encode() + b"\0" + path.read_bytes())
    egg_version = f"{int(time.time())}_{digest.hexdigest()[:8]}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as egg:
        for archive_name, path in files:
            egg.write(path, archive_name)
        metadata = f"Metadata-Version: 2.1\nName: pqwatch\nVersion: {pqwatch_version()}\n"
        egg.writestr("EGG-INFO/PKG-INFO", metadata)
        egg.writestr("EGG-INFO/entry_points.txt", "[scrapy]\nsettings = spiders.settings\n")
        egg.writestr("EGG-INFO/top_level.txt", "".join(f"{package}\n" for package in PACKAGES))
        egg.writestr("EGG-INFO/zip-safe", "\n")
    return egg_version, buffer.getvalue()


def _package_files() -> list[tuple[str, Path]]:
    """(name in the egg, file on disk) of every source and data file of the packages."""
    found = []
    for package in PACKAGES:
        root = Path(import_module(package).__file__ or "").parent
        for path in root.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                found.append((f"{package}/{path.relative_to(root).as_posix()}", path))
    return found


def node_requirements() -> list[str]:
    """What a node needs installed to run the egg: pqwatch's dependencies and its `node` extra,
    but not pqwatch itself (an installed pqwatch would come before the egg on the job's path, and
    a deploy would change nothing)."""
    needed = []
    for requirement in requires("pqwatch") or ():
        wanted, _, marker = requirement.partition(";")
        if not marker.strip() or marker.replace(" ", "") in ('extra=="node"', "extra=='node'"):
            needed.append(wanted.strip())
    return list(dict.fromkeys(needed))
