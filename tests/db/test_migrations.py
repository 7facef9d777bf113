"""The Alembic history builds the schema the ORM models describe, on both backends."""

from __future__ import annotations

import asyncio
from pathlib import Path

import anyio
import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from service.db.models import Base
from service.db.session import create_engine, is_at_head, migrate_to_head, run_alembic

pytestmark = pytest.mark.anyio


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    return set(names) - {"alembic_version"}


async def test_upgrade_from_empty_creates_every_table(db_url: str) -> None:
    """Upgrading an empty database to head creates all the model tables."""
    engine = create_engine(db_url)
    try:
        await migrate_to_head(engine)
        assert await _tables(engine) == set(Base.metadata.tables)
    finally:
        await engine.dispose()


async def test_head_matches_the_models(engine: AsyncEngine) -> None:
    """After upgrading, autogenerate finds nothing to do (``alembic check`` passes)."""
    await run_alembic(engine, command.check)


async def test_downgrade_to_base_and_back(engine: AsyncEngine) -> None:
    """Every migration can be undone and redone."""
    await run_alembic(engine, command.downgrade, "base")
    assert await _tables(engine) == set()
    await migrate_to_head(engine)
    assert await _tables(engine) == set(Base.metadata.tables)


async def test_upgrading_twice_is_harmless(engine: AsyncEngine) -> None:
    """Running the migrations on an up-to-date database changes nothing."""
    await migrate_to_head(engine)
    assert await is_at_head(engine)


async def test_is_at_head_only_after_migrating(db_url: str) -> None:
    """The readiness check is false on an empty database and true once migrated."""
    engine = create_engine(db_url)
    try:
        assert not await is_at_head(engine)
        await migrate_to_head(engine)
        assert await is_at_head(engine)
    finally:
        await engine.dispose()


async def test_migrations_run_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The migrations are found from the package, not from the working directory."""
    monkeypatch.chdir(tmp_path)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'elsewhere.db'}")
    try:
        await migrate_to_head(engine)
        assert await is_at_head(engine)
    finally:
        await engine.dispose()


async def test_replicas_starting_together_on_postgres_both_migrate(postgres_url: str) -> None:
    """Two processes migrating one PostgreSQL database at once take turns; both succeed."""
    engines = [create_engine(postgres_url) for _ in range(2)]
    try:
        with anyio.fail_after(60):  # without the lock the two sessions can wait on each other
            await asyncio.gather(*(migrate_to_head(engine) for engine in engines))
        assert await is_at_head(engines[0])
    finally:
        for engine in engines:
            await engine.dispose()
