"""Engines: the embedded SQLite database is created on demand and tuned for concurrency."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import HubSweepStateRow
from service.db.session import create_engine, create_sessionmaker

pytestmark = pytest.mark.anyio


async def test_sqlite_data_directory_is_created(tmp_path: Path) -> None:
    """A SQLite URL under a missing directory creates that directory."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'nested' / 'c.db'}")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        assert (tmp_path / "data" / "nested" / "c.db").exists()
    finally:
        await engine.dispose()


async def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    """Every SQLite connection runs in WAL mode, waits 5 s on locks and enforces foreign keys."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    try:
        async with engine.connect() as connection:
            pragmas = [
                (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()
                for name in ("journal_mode", "busy_timeout", "foreign_keys")
            ]
        assert pragmas == ["wal", 5000, 1]
    finally:
        await engine.dispose()


async def test_timestamps_come_back_timezone_aware_utc(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A timestamp written in any zone is read back as the same instant in UTC."""
    paris = dt.timezone(dt.timedelta(hours=1))
    written = dt.datetime(2026, 1, 2, 13, 0, tzinfo=paris)
    async with sessionmaker.begin() as session:
        session.add(HubSweepStateRow(author="Qwen", watermark=written))
    async with sessionmaker() as session:
        row = await session.get(HubSweepStateRow, "Qwen")
    assert row is not None
    assert row.watermark == written
    assert row.watermark.tzinfo == dt.UTC
    assert row.watermark.hour == 12


async def test_naive_timestamps_are_rejected(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Writing a timestamp without a zone is an error, not a silent guess."""
    with pytest.raises(StatementError, match="naive datetime"):
        async with sessionmaker.begin() as session:
            session.add(HubSweepStateRow(author="Qwen", watermark=dt.datetime(2026, 1, 2)))  # noqa: DTZ001


async def test_sessions_keep_rows_readable_after_commit(tmp_path: Path) -> None:
    """Committed rows can still be read without a lazy reload (expire_on_commit=False)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    assert create_sessionmaker(engine).kw["expire_on_commit"] is False
    await engine.dispose()
