"""Template databases: migrate (and seed) once per session, copy per test.

Migrating a database and syncing the seed catalog costs far more than copying the result, so
each backend builds a template once per session (per xdist worker) and every test gets a copy
of its own: SQLite copies the file, PostgreSQL runs ``CREATE DATABASE … TEMPLATE …``. A copy
holds exactly what migrating and syncing would have written, so tests see the same state.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.pool import NullPool

from service.db.catalog_sync import sync_catalog
from service.db.seed_loader import load_catalog
from service.db.session import create_engine, create_sessionmaker, migrate_to_head
from tests.postgres import fresh_database

MIGRATED = "migrated"
"""The template kind of a database at the Alembic head with no rows."""

DbTemplate = str | Path | None
"""What a test's database starts as: ``None`` (empty), ``MIGRATED``, or a catalog dir to seed."""


async def build_database(url: str, catalog_dir: Path | None) -> None:
    """Migrate the database at ``url`` to head; sync ``catalog_dir`` into it when given."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        await migrate_to_head(engine)
        if catalog_dir is not None:
            await sync_catalog(create_sessionmaker(engine), load_catalog(catalog_dir))
    finally:
        await engine.dispose()


class Templates:
    """Templates built on first use, keyed by backend and kind (``MIGRATED`` or the seed
    catalog's directory); PostgreSQL templates are dropped by :meth:`close`."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._urls: dict[tuple[str, str], str] = {}
        self._stack = contextlib.ExitStack()

    def url(self, backend: str, seed_catalog: Path | None = None) -> str:
        """The template of ``backend`` ("sqlite" or "postgresql"), migrated, seeded from
        ``seed_catalog`` when one is given."""
        kind = MIGRATED if seed_catalog is None else str(seed_catalog.resolve())
        key = (backend, kind)
        if key not in self._urls:
            if backend == "sqlite":
                path = self._directory / f"template-{len(self._urls)}.db"
                url = f"sqlite+aiosqlite:///{path}"
            else:
                url = self._stack.enter_context(fresh_database("capplan_template"))
            asyncio.run(build_database(url, seed_catalog))
            self._urls[key] = url
        return self._urls[key]

    @contextlib.contextmanager
    def copy(
        self, backend: str, sqlite_path: Path, seed_catalog: Path | None = None
    ) -> Iterator[str]:
        """A database of its own copied from the template (SQLite: at ``sqlite_path``)."""
        template = self.url(backend, seed_catalog)
        if backend == "sqlite":
            source = Path(template.removeprefix("sqlite+aiosqlite:///"))
            sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, sqlite_path)
            yield f"sqlite+aiosqlite:///{sqlite_path}"
            return
        with fresh_database(template=template) as url:
            yield url

    def close(self) -> None:
        self._stack.close()
