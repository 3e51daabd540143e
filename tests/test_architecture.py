"""The layout's rules, checked on the tree: which package may import which (ARCHITECTURE.md draws
them), and what the wheel ships (no test stand-in, no test)."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("spiders", "storage", "monitor")
OURS = (*PRODUCT, "tests", "bench")
# monitor's rooms and the rooms each may import. The entry points (cli, web, scheduler) are
# imported by no room but the CLI, which starts the others.
ROOMS: dict[str, set[str]] = {
    "config": set(),
    "changes": set(),
    "queries": {"changes"},
    "notify": {"config", "changes", "queries"},
    "crawl": {"config", "changes"},
    "jobs": {"config", "crawl", "notify"},
    "demo": {"crawl", "queries"},
    "scheduler": {"config", "crawl", "jobs", "notify"},
    "web": {"config", "changes", "queries", "notify"},
    "cli": {"config", "changes", "queries", "notify", "crawl", "jobs", "demo", "scheduler", "web"},
}


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every module a file imports, at the top or inside a function (lazy imports count too)."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # a relative import, resolved against the file's package
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in OURS}


def room_of(module: str) -> str | None:
    """The monitor room a module belongs to ("monitor.notify.digest" -> "notify")."""
    parts = module.split(".")
    return parts[1] if parts[0] == "monitor" and len(parts) > 1 else None


def violations(root: Path = ROOT) -> list[str]:
    """Every import in the product packages that breaks a layout rule, one line each."""
    broken = []
    for package in PRODUCT:
        for path in sorted((root / package).rglob("*.py")):
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            for target in sorted(imported_modules(path, root)):
                top = target.split(".")[0]
                if top in ("tests", "bench"):
                    broken.append(f"{name} imports {target}: product code never imports tests or bench")
                elif package == "storage" and top != "storage":
                    broken.append(f"{name} imports {target}: storage imports nothing of ours")
                elif package == "spiders" and top == "monitor":
                    broken.append(f"{name} imports {target}: spiders never import monitor")
                elif (
                    package == "spiders"
                    and top == "storage"
                    and name != "spiders.pipelines"
                    and target not in ("storage", "storage.terms")
                    and not target.startswith("storage.terms.")
                ):
                    broken.append(f"{name} imports {target}: spiders reach storage only through the pipeline")
                elif package == "monitor" and top == "monitor":
                    source, destination = room_of(name), room_of(target)
                    allowed = ROOMS.get(source or "", set())
                    if source and destination and source != destination and destination not in allowed:
                        broken.append(f"{name} imports {target}: room {source} may not import {destination}")
    return broken


def test_the_product_packages_keep_the_import_rules() -> None:
    assert violations() == []


def test_every_room_of_monitor_is_named_in_the_rules() -> None:
    rooms = {path.stem if path.is_file() else path.name for path in (ROOT / "monitor").iterdir()}
    rooms = {room for room in rooms if not room.startswith("__") and room not in ("pqwatch",)}
    assert rooms <= set(ROOMS), f"rooms without rules: {rooms - set(ROOMS)}"


def test_the_checker_catches_each_kind_of_broken_rule(tmp_path: Path) -> None:
    planted = {
        "storage/leak.py": "from monitor.config import Settings\n",
        "spiders/peek.py": "def f():\n    from storage.record import record_page\n",
        "spiders/up.py": "import monitor.cli\n",
        "monitor/changes/back.py": "from monitor.notify import digest\n",
        "monitor/notify/test_use.py": "from tests.support.helpers import ANSWER\n",
    }
    allowed = {
        "spiders/pipelines.py": "from storage.record import record_page\n",
        "spiders/words.py": "from storage.terms import SourceKind\n",
        "monitor/notify/ok.py": "from monitor.queries.views import change_events\n",
    }
    for name, source in {**planted, **allowed}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(source)
    for package in PRODUCT:
        (tmp_path / package).mkdir(exist_ok=True)
    found = violations(tmp_path)
    offenders = {line.split(" imports ")[0] for line in found}
    assert offenders == {name.removesuffix(".py").replace("/", ".") for name in planted}, found


def cross_test_imports(root: Path = ROOT) -> list[str]:
    """Every import, in a test module, of another tests module that is not under tests.support."""
    broken = []
    for path in sorted((root / "tests").rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[:2] == ("tests", "support") or path.name == "conftest.py":
            continue
        name = ".".join(relative.with_suffix("").parts)
        for target in sorted(imported_modules(path, root)):
            if target.startswith("tests.") and target.split(".")[1] != "support":
                broken.append(f"{name} imports {target}: shared test helpers live in tests/support")
    return broken


def test_no_test_module_imports_another_test_module() -> None:
    assert cross_test_imports() == []


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel `pip install .` would install, built offline from the tracked files."""
    source = tmp_path_factory.mktemp("source")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in tracked.stdout.splitlines():
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes((ROOT / name).read_bytes())
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*command, "--wheel-dir", str(out), str(source)], check=True, capture_output=True)
    (built,) = out.glob("pqwatch-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_ships_the_product_and_no_test_stand_in(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    packages = {name.split("/")[0] for name in names if not name.startswith("pqwatch-")}
    assert packages == set(PRODUCT)
    assert not [name for name in names if "standin" in name or name.startswith(("tests/", "bench/"))]
    for needed in (
        "monitor/pqwatch.toml",
        "monitor/notify/templates/digest.html",
        "monitor/web/templates/question.html",
        "storage/migrations/env.py",
        "storage/migrations/versions/0001_initial_schema.py",
        "monitor/demo/sample_blog.py",
    ):
        assert needed in names
