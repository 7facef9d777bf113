"""Several workers, one database: each job is claimed and imported exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from service.db.session import create_engine, create_sessionmaker, migrate_to_head
from service.hub.client import HfHubClient
from service.importer.claim import claim_next
from service.importer.worker import ImportWorker
from tests.fakehub import FakeHubServer
from tests.importer.conftest import Clock, Sessions, worker_config
from tests.importer.jobs import enqueue, get_job
from tests.importer.models import REPO, SHA_1, llama_1b_config, llama_tensors

pytestmark = pytest.mark.anyio


@pytest.fixture
async def second_engine(engine: AsyncEngine, db_url: str) -> AsyncIterator[AsyncEngine]:
    """Another engine on the same database, as a second replica would have."""
    other = create_engine(db_url)
    yield other
    await other.dispose()


def make_worker(sessionmaker: Sessions, hub_url: str, name: str, clock: Clock) -> ImportWorker:
    hub = HfHubClient(hub_url, token=None, timeout_s=5.0)
    return ImportWorker(sessionmaker, hub, worker_config(owner=name), clock=clock)


async def test_two_workers_race_for_one_job(
    llama: FakeHubServer,
    sessionmaker: Sessions,
    second_engine: AsyncEngine,
    clock: Clock,
) -> None:
    """Two workers on separate engines claim at once: one wins, the model is fetched once."""
    job_id = await enqueue(sessionmaker, REPO, clock=clock)
    first = make_worker(sessionmaker, llama.url, "first", clock)
    second = make_worker(create_sessionmaker(second_engine), llama.url, "second", clock)

    results = await asyncio.gather(first.run_once(), second.run_once())

    assert sum(result is not None for result in results) == 1
    job = await get_job(sessionmaker, job_id)
    assert (job.status, job.attempts) == ("succeeded", 1)
    assert len(llama.hub.requests_to(f"/{REPO}/resolve/{SHA_1}/config.json")) == 1


async def test_two_workers_drain_a_queue_without_overlap(
    fake_hub: FakeHubServer,
    sessionmaker: Sessions,
    second_engine: AsyncEngine,
    clock: Clock,
) -> None:
    """Draining concurrently, two workers split the jobs: each is imported exactly once."""
    config = llama_1b_config()
    repos = [f"org/model-{i}" for i in range(6)]
    for repo in repos:
        fake_hub.hub.add_model(repo, config, safetensors=llama_tensors(config))
    job_ids = [await enqueue(sessionmaker, repo, clock=clock) for repo in repos]
    first = make_worker(sessionmaker, fake_hub.url, "first", clock)
    second = make_worker(create_sessionmaker(second_engine), fake_hub.url, "second", clock)

    done = await asyncio.gather(first.drain(), second.drain())

    processed = [p.job.id for results in done for p in results]
    assert sorted(processed) == sorted(job_ids)
    for job_id in job_ids:
        job = await get_job(sessionmaker, job_id)
        assert (job.status, job.attempts) == ("succeeded", 1)


async def test_locked_job_is_skipped_on_postgresql(postgres_url: str, clock: Clock) -> None:
    """While one claimer holds the row (uncommitted), another skips it instead of waiting."""
    engines = [create_engine(postgres_url), create_engine(postgres_url)]
    try:
        await migrate_to_head(engines[0])
        first, second = (create_sessionmaker(engine) for engine in engines)
        job_id = await enqueue(first, REPO, clock=clock)
        async with first.begin() as holding:
            claimed = await claim_next(holding, "first", lease_s=60, now=clock.now)
            assert claimed is not None
            assert claimed.id == job_id
            async with second.begin() as other:
                assert await claim_next(other, "second", lease_s=60, now=clock.now) is None
        job = await get_job(first, job_id)
        assert (job.status, job.lease_owner) == ("running", "first")
    finally:
        for engine in engines:
            await engine.dispose()
