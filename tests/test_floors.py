"""The house's floors: each package imports only the floors below it, and the HTTP layer
asks the services rather than reading tables itself.

workflow (the engine) <- states (journeys) <- services (the service layer) <- notifications
<- panels <- app (the shell: FastAPI, the API, the pages, the CLI, the demo). Every import
counts, at the top of a module or inside a function. Read from the source with ``ast``, so
the check needs nothing installed and cannot be fooled by what happens to be imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ("workflow", "states", "services", "notifications", "panels", "app")
# Web frameworks belong to the shell: nothing below it serves HTTP.
HTTP_LIBRARIES = ("fastapi", "starlette", "uvicorn")
# What a page or an API route must not touch: it asks a service instead.
STORAGE = (
    "sqlalchemy",
    "sqlmodel",
    "services.db",
    "services.models",
    "services.prepared",
    "notifications.models",
    "panels.models",
    "app.web.models",
)
# Imported for annotations only: the shell's services hold the engine they were built with.
TYPES_ONLY = frozenset({"sqlalchemy.Engine"})
# The web package's own table and the store that reads and writes it (browser sessions).
HTTP_STORAGE_OWNERS = ("app/web/models.py", "app/web/session.py")


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imports_of(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """Every module ``path`` imports, with its line (relative imports resolved).

    ``from pkg import name`` counts as importing ``pkg`` and ``pkg.name`` (name may be a
    module); :data:`TYPES_ONLY` names are left out, being types and not a way to storage.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parts = path.relative_to(root).with_suffix("").parts
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = ".".join(parts[: len(parts) - node.level])
                module = ".".join(p for p in (base, module) if p)
            names = [f"{module}.{a.name}" for a in node.names]
            names = [n for n in names if n not in TYPES_ONLY]
            if names:
                found.append((node.lineno, module))
                found.extend((node.lineno, n) for n in names)
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> str | None:
    for prefix in prefixes:
        if name == prefix or name.startswith(prefix + "."):
            return prefix
    return None


def test_every_source_folder_is_on_a_floor() -> None:
    """A new top-level package must be given its floor here (or be tests, tools, data)."""
    others = {"tests", "benchmarks", "migrations", "build", "dist", "test-artifacts"}
    packages = {
        p.parent.name
        for p in ROOT.glob("*/__init__.py")
        if not p.parent.name.startswith(".") and p.parent.name not in others
    }
    assert packages <= set(FLOORS), f"packages without a floor: {sorted(packages - set(FLOORS))}"


@pytest.mark.parametrize("floor", FLOORS)
def test_a_floor_imports_only_the_floors_below(floor: str) -> None:
    higher = FLOORS[FLOORS.index(floor) + 1 :]
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules(floor)
        for line, name in imports_of(path)
        if _within(name, higher)
    ]
    assert not wrong, "imports that run up the floors:\n" + "\n".join(wrong)


@pytest.mark.parametrize("floor", FLOORS[:-1])
def test_nothing_below_the_shell_speaks_http(floor: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules(floor)
        for line, name in imports_of(path)
        if _within(name, HTTP_LIBRARIES)
    ]
    assert not wrong, "HTTP below the shell:\n" + "\n".join(wrong)


@pytest.mark.parametrize("folder", ["app/api", "app/web"])
def test_pages_and_routes_ask_services_not_tables(folder: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules(folder)
        if str(path.relative_to(ROOT)) not in HTTP_STORAGE_OWNERS
        for line, name in imports_of(path)
        if _within(name, STORAGE)
    ]
    assert not wrong, "the HTTP layer reads storage directly:\n" + "\n".join(wrong)


def test_the_check_sees_a_wrong_import(tmp_path: Path) -> None:
    """The checker itself: a function-level import up the floors is found, relative too."""
    (tmp_path / "services").mkdir()
    probe = tmp_path / "services" / "probe.py"
    probe.write_text(
        "def f():\n    from app.main import create_app\n    from ..panels import models\n",
        encoding="utf-8",
    )
    names = [name for _, name in imports_of(probe, tmp_path)]
    assert "app.main" in names and "panels.models" in names
    assert _within("app.main", ("notifications", "panels", "app")) == "app"
    assert _within("applications", ("app",)) is None
