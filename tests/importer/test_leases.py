"""Leases: jobs of dead workers are reclaimed, live ones are not, stale results are discarded."""

from __future__ import annotations

import asyncio
import datetime as dt

import anyio
import pytest

from service.db.models import JobStatus
from service.importer.claim import claim_next
from service.importer.errors import LeaseLost
from service.importer.queue import JobQueue
from service.importer.worker import ImportWorker
from tests.fakehub import FakeHubServer
from tests.importer.conftest import Clock, Sessions, worker_config
from tests.importer.jobs import catalog, enqueue, get_job, set_job
from tests.importer.memory_hub import BlockingHub
from tests.importer.models import REPO

pytestmark = pytest.mark.anyio


async def stage_running(
    sessionmaker: Sessions, clock: Clock, *, expires_in_s: float, attempts: int = 1
) -> str:
    """A job left running by 'dead-worker', its lease ending ``expires_in_s`` from now."""
    job_id = await enqueue(sessionmaker, REPO, clock=clock)
    await set_job(
        sessionmaker,
        job_id,
        status=JobStatus.RUNNING,
        lease_owner="dead-worker",
        lease_expires_at=clock.now + dt.timedelta(seconds=expires_in_s),
        attempts=attempts,
        started_at=clock.now,
    )
    return job_id


async def test_expired_lease_is_reclaimed(
    worker: ImportWorker, llama: FakeHubServer, sessionmaker: Sessions, clock: Clock
) -> None:
    """A job stuck running after its lease expired is taken over and completed."""
    job_id = await stage_running(sessionmaker, clock, expires_in_s=-1)

    await worker.drain()

    job = await get_job(sessionmaker, job_id)
    assert (job.status, job.attempts, job.lease_owner) == ("succeeded", 2, None)
    assert REPO in await catalog(sessionmaker)


async def test_live_lease_is_left_alone(
    worker: ImportWorker, llama: FakeHubServer, sessionmaker: Sessions, clock: Clock
) -> None:
    """A running job whose lease has not expired is not claimed."""
    job_id = await stage_running(sessionmaker, clock, expires_in_s=30)

    assert await worker.run_once() is None

    job = await get_job(sessionmaker, job_id)
    assert (job.status, job.lease_owner) == ("running", "dead-worker")


async def test_job_that_keeps_losing_its_worker_fails(
    worker: ImportWorker, llama: FakeHubServer, sessionmaker: Sessions, clock: Clock
) -> None:
    """An expired lease on the last allowed attempt fails the job instead of running it again."""
    job_id = await stage_running(sessionmaker, clock, expires_in_s=-1, attempts=3)

    assert await worker.drain() == []

    job = await get_job(sessionmaker, job_id)
    assert job.status == JobStatus.FAILED
    assert job.error is not None
    assert "lease expired" in job.error
    assert await catalog(sessionmaker) == {}


async def test_stale_worker_cannot_settle_a_reclaimed_job(
    sessionmaker: Sessions, clock: Clock
) -> None:
    """After another worker took the job over, the first worker's completion is refused."""
    job_id = await enqueue(sessionmaker, REPO, clock=clock)
    async with sessionmaker.begin() as session:
        assert await claim_next(session, "first", lease_s=10, now=clock.now) is not None
    clock.advance(11)
    async with sessionmaker.begin() as session:
        assert await claim_next(session, "second", lease_s=10, now=clock.now) is not None

    with pytest.raises(LeaseLost):
        async with sessionmaker.begin() as session:
            await JobQueue(session, clock).succeed(job_id, "first")

    assert (await get_job(sessionmaker, job_id)).lease_owner == "second"


async def test_cancelled_import_hands_the_job_back(
    blocking_hub: BlockingHub, sessionmaker: Sessions, clock: Clock
) -> None:
    """Cancelling the worker mid-import (shutdown) requeues the job without using an attempt."""
    worker = ImportWorker(sessionmaker, blocking_hub, worker_config(), clock=clock)
    job_id = await enqueue(sessionmaker, REPO, clock=clock)
    task = asyncio.create_task(worker.run_once())
    assert await anyio.to_thread.run_sync(blocking_hub.entered.wait, 5)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    job = await get_job(sessionmaker, job_id)
    assert (job.status, job.attempts, job.lease_owner) == ("queued", 0, None)
    assert job.next_attempt_at == clock.now
