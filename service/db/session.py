"""Engines, sessions and in-process migrations for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, make_url, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from service.settings import default_migrations_dir

MIGRATIONS_DIR = default_migrations_dir()

#: Arbitrary constant naming capplan's migration lock among PostgreSQL advisory locks.
MIGRATION_LOCK_KEY = 0x63_6170_706C_616E  # b"capplan"


CONNECT_TIMEOUT_S = 5.0
"""Seconds to wait for a new PostgreSQL connection."""
CLIENT_GRACE_S = 1.0
"""Seconds the client waits past the server's statement timeout before giving up itself."""


def sessionmaker_from(state: Any) -> async_sessionmaker[AsyncSession]:
    """The session factory an application keeps in its ``state`` (Litestar's or the CLI's)."""
    return cast("async_sessionmaker[AsyncSession]", state.sessionmaker)


def create_engine(
    url: str,
    *,
    statement_timeout_s: float | None = None,
    pool_timeout_s: float | None = None,
    **kwargs: Any,
) -> AsyncEngine:
    """An async engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys.

    On PostgreSQL (asyncpg) ``statement_timeout_s`` bounds every statement twice: the server
    cancels it (``statement_timeout``) and the client stops waiting a second later
    (``command_timeout``), which is what ends the wait when the server does not answer at
    all. ``pool_timeout_s`` bounds the wait for a pooled connection. Without them (migrations,
    the CLI) statements may take as long as they need.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if pool_timeout_s is not None:
            kwargs.setdefault("pool_timeout", pool_timeout_s)
        # asyncpg waits 60 s for a connection by default; fail fast so /ready and requests
        # answer 503 promptly during a network partition.
        if parsed.get_driver_name() == "asyncpg":
            connect_args: dict[str, Any] = {"timeout": CONNECT_TIMEOUT_S}
            if statement_timeout_s is not None:
                timeout_ms = max(1, round(statement_timeout_s * 1000))
                connect_args["server_settings"] = {"statement_timeout": str(timeout_ms)}
                connect_args["command_timeout"] = statement_timeout_s + CLIENT_GRACE_S
            kwargs.setdefault("connect_args", connect_args)
        return create_async_engine(parsed, **kwargs)
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(parsed, **kwargs)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose rows stay readable after commit (no lazy reloads under asyncio)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config() -> Config:
    """Alembic configuration without an ini file, so the app's logging is left alone."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


async def migrate_to_head(engine: AsyncEngine) -> None:
    """Upgrade the database to the newest revision, in one transaction."""
    await run_alembic(engine, command.upgrade, "head")


async def run_alembic(engine: AsyncEngine, operation: Callable[..., Any], *args: Any) -> None:
    """Run an ``alembic.command`` function in-process over one of the engine's connections."""
    async with engine.begin() as connection:
        await connection.run_sync(_run_with_connection, operation, *args)


async def is_at_head(engine: AsyncEngine) -> bool:
    """Whether the database is at the newest migration (a readiness check)."""
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    async with engine.connect() as connection:
        current = await connection.run_sync(
            lambda sync: set(MigrationContext.configure(sync).get_current_heads())
        )
    return current == heads


def _run_with_connection(connection: Connection, operation: Callable[..., Any], *args: Any) -> None:
    """Alembic's connection-sharing recipe: ``migrations/env.py`` uses this connection.

    On PostgreSQL a transaction-scoped advisory lock makes replicas that start together
    migrate one after the other; the later ones then find the schema already at head.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    config = alembic_config()
    config.attributes["connection"] = connection
    operation(config, *args)
