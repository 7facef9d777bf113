"""GET /health (liveness, no I/O) and GET /ready (database reachable and at head); HEAD on both."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from tests.api.conftest import assert_problem, settings_for

pytestmark = pytest.mark.anyio


async def test_health_is_ok(client: AsyncTestClient[Litestar]) -> None:
    """/health answers 200 {"status": "ok"}."""
    response = await client.get("/health")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}


async def test_ready_once_migrated(client: AsyncTestClient[Litestar]) -> None:
    """/ready is 200 once the lifespan has migrated the database to head."""
    response = await client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "database": "ok", "migrations": "head"}


@pytest.mark.parametrize("path", ["/health", "/ready"], ids=["health", "ready"])
async def test_head_answers_as_get_without_a_body(
    client: AsyncTestClient[Litestar], path: str
) -> None:
    """HEAD (what load balancers probe with) gets GET's status and content type, no body."""
    get = await client.get(path)
    head = await client.head(path)
    assert (head.status_code, head.content) == (get.status_code, b"")
    assert head.headers["content-type"] == get.headers["content-type"]


@pytest.mark.parametrize("path", ["/health", "/ready"], ids=["health", "ready"])
async def test_allow_lists_get_and_head(client: AsyncTestClient[Litestar], path: str) -> None:
    """OPTIONS and a 405 both list GET and HEAD in Allow (one handler serves the two)."""
    options = await client.options(path)
    refused = await client.post(path)
    assert (options.status_code, refused.status_code) == (204, 405)
    for response in (options, refused):
        assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


async def test_not_ready_before_migrations(db_url: str) -> None:
    """An empty database that was not migrated is a 503 problem saying so."""
    settings = settings_for(db_url, migrate_on_start=False, sync_catalog_on_start=False)
    async with AsyncTestClient(app=create_app(settings)) as client:
        problem = assert_problem(await client.get("/ready"), 503)
    assert "migration" in problem["detail"]


async def test_head_not_ready_before_migrations(db_url: str) -> None:
    """HEAD /ready on a database that was not migrated is GET's 503, without a body."""
    settings = settings_for(db_url, migrate_on_start=False, sync_catalog_on_start=False)
    async with AsyncTestClient(app=create_app(settings)) as client:
        head = await client.head("/ready")
    assert (head.status_code, head.content) == (503, b"")
    assert head.headers["content-type"].startswith("application/problem+json")


async def test_not_ready_when_the_database_is_unreachable() -> None:
    """A database nobody listens for is a 503 problem naming no secret (URL, password)."""
    url = "postgresql+asyncpg://capplan:s3cret@127.0.0.1:9/capplan"
    settings = settings_for(url, migrate_on_start=False, sync_catalog_on_start=False)
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get("/ready")
        liveness = await client.get("/health")
    problem = assert_problem(response, 503)
    assert "unreachable" in problem["detail"]
    assert "s3cret" not in response.text
    assert liveness.status_code == 200
