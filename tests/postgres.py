"""Throwaway PostgreSQL databases for tests, on the server `.ci/run` starts.

Locally without ``CAPPLAN_TEST_POSTGRES_URL`` the PostgreSQL cases are skipped; in CI (``CI``
set) a missing server fails the run instead, so PostgreSQL is never silently untested.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.pool import NullPool

from service.db.session import create_engine

POSTGRES_ENV = "CAPPLAN_TEST_POSTGRES_URL"


def postgres_server() -> str:
    """The server URL, or skip (locally) / fail (in CI) when none is configured."""
    server = os.environ.get(POSTGRES_ENV, "")
    if not server:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"CI is set but {POSTGRES_ENV} is not: PostgreSQL must be tested in CI")
        pytest.skip(f"PostgreSQL: set {POSTGRES_ENV} (.ci/run starts a server and sets it)")
    return server


@contextlib.contextmanager
def fresh_database(prefix: str = "capplan_test", template: str | None = None) -> Iterator[str]:
    """A new database on the test server, empty or a copy of ``template`` (a database URL on
    the same server, with no open connections); dropped afterwards."""
    server = postgres_server()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy_of = f' TEMPLATE "{make_url(template).database}"' if template else ""
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"{copy_of}'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(server_url: str, statement: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()
