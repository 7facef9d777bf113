"""Every response carries X-Request-ID: the caller's when safe, else a fresh one."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.observability.request_id import MAX_LENGTH
from tests.db.conftest import CatalogWriter
from tests.ops.conftest import ops_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(
    tmp_path: Path, write_catalog: CatalogWriter
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(ops_settings(f"sqlite+aiosqlite:///{tmp_path}/t.db", write_catalog()))
    async with AsyncTestClient(app=app) as client:
        yield client


async def test_incoming_request_id_is_echoed(client: AsyncTestClient[Litestar]) -> None:
    """A well-formed X-Request-ID comes back unchanged."""
    response = await client.get("/health", headers={"X-Request-ID": "req-42.a:b/c=+~_"})
    assert response.headers["x-request-id"] == "req-42.a:b/c=+~_"


async def test_missing_request_id_is_generated(client: AsyncTestClient[Litestar]) -> None:
    """Without one, each response gets a fresh 32-hex-digit id."""
    first = (await client.get("/health")).headers["x-request-id"]
    second = (await client.get("/health")).headers["x-request-id"]
    assert first != second
    assert re.fullmatch(r"[0-9a-f]{32}", first)


@pytest.mark.parametrize(
    "unsafe",
    ["x" * (MAX_LENGTH + 1), "has space", 'quote"s', "semi;colon", "ünïcode"],
    ids=["too-long", "space", "quote", "semicolon", "non-ascii"],
)
async def test_unsafe_request_id_is_replaced(
    client: AsyncTestClient[Litestar], unsafe: str
) -> None:
    """An overlong or unsafe id is not echoed (log injection); a fresh one is used."""
    response = await client.get("/health", headers={"X-Request-ID": unsafe.encode()})
    echoed = response.headers["x-request-id"]
    assert echoed != unsafe
    assert len(echoed) == 32


async def test_errors_carry_the_request_id(client: AsyncTestClient[Litestar]) -> None:
    """Problem responses from the router (404) carry it too."""
    response = await client.get("/nowhere", headers={"X-Request-ID": "trace-404"})
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "trace-404"
