"""Where the bundled data directories are: inside an installed wheel, or in a checkout.

``catalog/`` and ``migrations/`` are top-level, human-edited directories of the repository.
The wheel carries a copy of each inside the package (``service/_catalog``,
``service/_migrations``; see ``[tool.hatch.build.targets.wheel.force-include]`` in
``pyproject.toml``), found with :mod:`importlib.resources`. A checkout or an editable install
has no such copy and uses the repository's own directories, next to the ``service`` package.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE = "service"
PACKAGED_CATALOG = "_catalog"
"""The catalog's directory name inside the installed package."""
PACKAGED_MIGRATIONS = "_migrations"
"""The migrations' directory name inside the installed package."""


def source_root() -> Path:
    """The directory holding the ``service`` package (the repository root in a checkout)."""
    return _package_dir().parent


def bundled_catalog_dir() -> Path:
    """The catalog shipped with this installation: the wheel's copy, else ``catalog/``."""
    return _bundled(PACKAGED_CATALOG, "catalog")


def bundled_migrations_dir() -> Path:
    """The Alembic migrations shipped with this installation, like :func:`bundled_catalog_dir`."""
    return _bundled(PACKAGED_MIGRATIONS, "migrations")


def _bundled(packaged_name: str, checkout_name: str) -> Path:
    packaged = _package_dir() / packaged_name
    if packaged.is_dir():
        return packaged
    return source_root() / checkout_name


def _package_dir() -> Path:
    """The installed ``service`` package as a directory on disk.

    Wheels are installed unpacked (pip, uv and pipx all do), so the package's resources are
    a real directory; a zipped import would need extracting, which nothing here supports.
    """
    root = resources.files(PACKAGE)
    if not isinstance(root, Path):
        raise RuntimeError(f"package {PACKAGE!r} is not installed as a directory: {root!r}")
    return root
