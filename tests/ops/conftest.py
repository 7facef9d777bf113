"""Operations tests: containers, metrics, logs, limits, outages, replicas and killed workers.

Apps run in-process (AsyncTestClient) where that shows the behaviour; real ``capplan serve``
subprocesses where signals, processes or several replicas are the point. Databases come from
``tests/db`` (SQLite, and PostgreSQL via ``CAPPLAN_TEST_POSTGRES_URL``); the Hub is the
loopback fake Hub.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.settings import Settings
from tests.db.conftest import anyio_backend, db_url, postgres_url, write_catalog
from tests.fakehub.fixtures import fake_hub, fake_hub_server
from tests.ops.servers import ADMIN_TOKEN, Servers

__all__ = [
    "anyio_backend",
    "db_url",
    "fake_hub",
    "fake_hub_server",
    "postgres_url",
    "write_catalog",
]


def ops_settings(database_url: str, catalog_dir: Path, **changes: Any) -> Settings:
    """Writes on, a small catalog (tests/db seeds: h100-sxm, l4, a tiny llama), no rate limit."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "admin_token": ADMIN_TOKEN,
        "catalog_dir": catalog_dir,
        "rate_limit_per_minute": 0,
        "importer_enabled": False,
    }
    return Settings(**{**values, **changes})


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    """Start ``capplan serve`` processes; all are stopped afterwards (pytest shows their logs
    when the test fails)."""
    started = Servers(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()
        print(started.logs())
