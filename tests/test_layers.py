"""The layers of docs/architecture.md, enforced: nothing lower imports anything higher."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parent.parent / "service"

#: Top-level packages (and modules) of ``service`` each layer may not import.
FORBIDDEN: dict[str, frozenset[str]] = {
    "domain": frozenset(
        {"api", "gate", "slack", "cli", "planning", "contract", "db", "hub", "importer",
         "validation", "observability", "catalog_files", "settings", "app"}
    ),
    "contract": frozenset({"api", "gate", "slack", "cli", "planning", "db", "hub", "importer"}),
    "db": frozenset({"api", "gate", "slack", "cli", "planning", "importer"}),
    "hub": frozenset({"api", "gate", "slack", "cli", "planning", "db", "importer"}),
    "planning": frozenset({"api", "gate", "slack", "cli", "importer"}),
    "importer": frozenset({"api", "gate", "slack", "cli"}),
    "gate": frozenset({"api", "cli"}),
    "slack": frozenset({"api", "cli"}),
    "validation": frozenset({"api", "gate", "slack", "cli"}),
}  # fmt: skip

#: Third-party packages that would give the pure domain I/O, a web or a database.
DOMAIN_FORBIDDEN_LIBRARIES = frozenset(
    {"litestar", "sqlalchemy", "huggingface_hub", "httpx", "yaml", "asyncpg", "aiosqlite"}
)


def imported_modules(path: Path) -> set[str]:
    """Every absolute module name ``path`` imports, at any depth of the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "service":
                names.update(f"service.{alias.name}" for alias in node.names)
    return names


def service_layer_imports(layer: str) -> list[tuple[str, str]]:
    """``(file, imported service package)`` for every service import under ``layer``."""
    found = []
    for path in sorted((SERVICE / layer).rglob("*.py")):
        for name in imported_modules(path):
            parts = name.split(".")
            if parts[0] == "service" and len(parts) > 1:
                found.append((str(path.relative_to(SERVICE)), parts[1]))
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN), ids=sorted(FORBIDDEN))
def test_layer_imports_nothing_above_it(layer: str) -> None:
    """No module of a layer imports a package above it."""
    violations = [
        f"{file} imports service.{package}"
        for file, package in service_layer_imports(layer)
        if package in FORBIDDEN[layer]
    ]
    assert violations == []


def test_domain_imports_no_io_library() -> None:
    """service/domain stays pure arithmetic: no web, database, Hub, HTTP or file-format library."""
    violations = [
        f"{path.relative_to(SERVICE)} imports {name}"
        for path in sorted((SERVICE / "domain").rglob("*.py"))
        for name in imported_modules(path)
        if name.split(".")[0] in DOMAIN_FORBIDDEN_LIBRARIES
    ]
    assert violations == []


def test_every_layer_in_the_table_exists() -> None:
    """The table names real packages, so a rename cannot silently empty a rule."""
    assert all((SERVICE / layer).is_dir() for layer in FORBIDDEN)
