"""Worker heartbeats: POST /v1/imports queues a job only where some worker will run it.

Every test runs on SQLite and on PostgreSQL (``db_url``). The app under test runs no worker
(``importer_enabled=False``, as a replica on PostgreSQL does by default) unless it says so.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import anyio
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, select

from service.app import create_app
from service.db.models import ImporterHeartbeatRow
from service.db.types import utcnow
from service.importer.heartbeat import Heartbeats
from service.importer.worker import ImportWorker
from tests.api.conftest import assert_problem
from tests.fakehub import FakeHubServer
from tests.heartbeats import record_heartbeat
from tests.importer.conftest import AUTH, Sessions, app_settings

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Litestar]
STALE_S = 30.0
WAIT_S = 15


@pytest.fixture
async def no_worker_client(db_url: str, fake_hub: FakeHubServer) -> AsyncIterator[Client]:
    """The app without a worker of its own, heartbeats stale after STALE_S, no heartbeat yet."""
    settings = app_settings(db_url, fake_hub.url, importer_heartbeat_stale_s=STALE_S)
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


async def heartbeat_of(sessionmaker: Sessions, worker_id: str) -> dt.datetime | None:
    """When ``worker_id`` last beat, read straight from the table; None: it has no row."""
    async with sessionmaker() as session:
        row = await session.get(ImporterHeartbeatRow, worker_id)
        return None if row is None else row.beat_at


async def wait_for_heartbeat(sessionmaker: Sessions, worker_id: str, present: bool) -> None:
    """Poll until ``worker_id`` has a heartbeat row (or has none), for at most WAIT_S."""
    with anyio.fail_after(WAIT_S):
        while (await heartbeat_of(sessionmaker, worker_id) is not None) != present:  # noqa: ASYNC110 - polling the database
            await anyio.sleep(0.02)


async def test_import_without_a_live_worker_is_503(no_worker_client: Client) -> None:
    """No worker heartbeat: 503 with Retry-After, naming the setting, and no job is queued."""
    response = await no_worker_client.post(
        "/v1/imports", json={"repo_id": "org/model"}, headers=AUTH
    )

    problem = assert_problem(response, 503)
    assert "CAPPLAN_IMPORTER_ENABLED" in problem["detail"]
    assert int(response.headers["Retry-After"]) >= 1
    assert (await no_worker_client.get("/v1/imports")).json()["total"] == 0


@pytest.mark.parametrize(
    ("age_s", "status"),
    [(0.0, 202), (STALE_S - 5, 202), (STALE_S + 5, 503), (24 * 3600.0, 503)],
    ids=["just-now", "within-bound", "past-bound", "a-day-old"],
)
async def test_heartbeat_age_decides_the_answer(
    no_worker_client: Client, db_url: str, age_s: float, status: int
) -> None:
    """A heartbeat younger than the staleness bound lets the job be queued; an older one not."""
    await record_heartbeat(db_url, at=utcnow() - dt.timedelta(seconds=age_s))

    response = await no_worker_client.post(
        "/v1/imports", json={"repo_id": "org/model"}, headers=AUTH
    )

    assert response.status_code == status, response.text


async def test_a_running_worker_elsewhere_lets_imports_in_until_it_stops(
    no_worker_client: Client, worker: ImportWorker, sessionmaker: Sessions
) -> None:
    """A real worker (another replica) beats while it runs: 202; once it stopped: 503."""
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await wait_for_heartbeat(sessionmaker, worker.config.owner, present=True)
        accepted = await no_worker_client.post(
            "/v1/imports", json={"repo_id": "org/model-a"}, headers=AUTH
        )
    finally:
        stop.set()
        await running
    refused = await no_worker_client.post(
        "/v1/imports", json={"repo_id": "org/model-b"}, headers=AUTH
    )

    assert (accepted.status_code, refused.status_code) == (202, 503), refused.text


async def test_a_worker_removes_its_heartbeat_when_it_stops(
    worker: ImportWorker, sessionmaker: Sessions
) -> None:
    """The heartbeat row exists while the worker runs and is deleted at its stop."""
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await wait_for_heartbeat(sessionmaker, worker.config.owner, present=True)
    stop.set()
    await running

    assert await heartbeat_of(sessionmaker, worker.config.owner) is None


async def test_beating_again_moves_the_one_row_of_a_worker(sessionmaker: Sessions) -> None:
    """A worker has one row; each beat moves its time forward."""
    first = utcnow()
    later = first + dt.timedelta(seconds=7)
    for at in (first, later):
        async with sessionmaker.begin() as session:
            await Heartbeats(session).beat("w1", started_at=first, at=at)

    async with sessionmaker() as session:
        rows = (await session.scalars(select(ImporterHeartbeatRow))).all()
    assert [(row.worker_id, row.beat_at) for row in rows] == [("w1", later)]


async def test_the_replica_running_the_worker_accepts_without_consulting_heartbeats(
    db_url: str, fake_hub: FakeHubServer, sessionmaker: Sessions
) -> None:
    """With its own worker on, an import is queued even when the heartbeat table is empty."""
    settings = app_settings(
        db_url, fake_hub.url, importer_enabled=True, importer_worker_id="own-worker"
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        await wait_for_heartbeat(sessionmaker, "own-worker", present=True)
        async with sessionmaker.begin() as session:  # as if its heartbeat writes failed
            await session.execute(delete(ImporterHeartbeatRow))
        response = await client.post("/v1/imports", json={"repo_id": "org/model"}, headers=AUTH)

    assert response.status_code == 202, response.text
