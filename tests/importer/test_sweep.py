"""The discovery sweep: new models per author past a watermark, skips, and the replica lock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from service.db.model_repository import ModelRepository
from service.db.models import HubSweepStateRow, ImportJobRow, Origin
from service.db.session import create_engine, create_sessionmaker, migrate_to_head
from service.hub.client import HfHubClient
from service.importer.sweep import SWEEP_LOCK_KEY, SweepReport, sweep
from service.importer.worker import ImportWorker
from tests.fakehub import FakeHubServer
from tests.importer.conftest import Clock, Sessions
from tests.importer.jobs import enqueue
from tests.importer.models import REPO, llama_1b_config

pytestmark = pytest.mark.anyio

T0 = datetime(2025, 6, 1, tzinfo=UTC)


def add(hub: FakeHubServer, repo_id: str, day: int, tag: str = "text-generation") -> None:
    created_at = T0 + timedelta(days=day)
    hub.hub.add_model(repo_id, llama_1b_config(), created_at=created_at, pipeline_tag=tag)


async def run_sweep(sessionmaker: Sessions, hub: FakeHubServer, *authors: str) -> SweepReport:
    client = HfHubClient(hub.url, token=None, timeout_s=5.0)
    return await sweep(sessionmaker, client, authors or ("org",), limit=50, max_attempts=3)


async def queued_repos(sessionmaker: Sessions) -> list[str]:
    async with sessionmaker() as session:
        query = select(ImportJobRow.repo_id).order_by(ImportJobRow.created_at, ImportJobRow.id)
        return list((await session.scalars(query)).all())


async def test_first_sweep_enqueues_new_text_generation_models(
    fake_hub: FakeHubServer, sessionmaker: Sessions
) -> None:
    """Every text-generation model of the author is queued, oldest first; others are not."""
    add(fake_hub, "org/a", 0)
    add(fake_hub, "org/b", 1)
    add(fake_hub, "org/embedder", 2, tag="feature-extraction")
    add(fake_hub, "someone-else/c", 3)

    report = await run_sweep(sessionmaker, fake_hub)

    assert report.enqueued == ["org/a", "org/b"]
    assert await queued_repos(sessionmaker) == ["org/a", "org/b"]


async def test_watermark_limits_the_next_sweep_to_newer_models(
    fake_hub: FakeHubServer, sessionmaker: Sessions
) -> None:
    """A second sweep queues only models created after the newest one already seen."""
    add(fake_hub, "org/a", 0)
    await run_sweep(sessionmaker, fake_hub)
    add(fake_hub, "org/b", 5)

    report = await run_sweep(sessionmaker, fake_hub)

    assert report.enqueued == ["org/b"]
    async with sessionmaker() as session:
        state = await session.get(HubSweepStateRow, "org")
    assert state is not None
    assert state.watermark == T0 + timedelta(days=5)
    assert state.last_run_at is not None


async def test_repo_with_an_active_job_is_skipped(
    fake_hub: FakeHubServer, sessionmaker: Sessions
) -> None:
    """A repo already queued is not queued twice."""
    add(fake_hub, "org/a", 0)
    await enqueue(sessionmaker, "org/a")

    report = await run_sweep(sessionmaker, fake_hub)

    assert report.enqueued == []
    assert report.skipped == {"org/a": "an import is already queued or running"}


async def test_repo_in_the_catalog_at_that_sha_is_skipped(
    llama: FakeHubServer, sessionmaker: Sessions, worker: ImportWorker, clock: Clock
) -> None:
    """A model already imported at the listed commit is not queued again."""
    await enqueue(sessionmaker, REPO, clock=clock)
    await worker.drain()

    report = await run_sweep(sessionmaker, llama, REPO.split("/")[0])

    assert report.skipped == {REPO: "already in the catalog at this commit"}


async def test_operator_owned_repo_is_skipped(
    fake_hub: FakeHubServer, sessionmaker: Sessions
) -> None:
    """A model an operator wrote is never queued for import."""
    add(fake_hub, "org/a", 0)
    async with sessionmaker.begin() as session:
        values = {"config": {}, "architecture": {}, "total_params": 1, "active_params": 1}
        await ModelRepository(session).upsert("org/a", values, origin=Origin.OPERATOR)

    report = await run_sweep(sessionmaker, fake_hub)

    assert report.skipped == {"org/a": "the catalog entry is operator-owned"}


async def test_failing_author_is_reported_and_others_proceed(
    fake_hub: FakeHubServer, sessionmaker: Sessions
) -> None:
    """A Hub error listing one author is reported; the other authors are still swept."""
    add(fake_hub, "org/a", 0)
    add(fake_hub, "other/b", 1)
    fake_hub.hub.fail_next("/api/models", 503)

    report = await run_sweep(sessionmaker, fake_hub, "org", "other")

    assert report.enqueued == ["other/b"]
    assert "503" in report.errors["org"]
    async with sessionmaker() as session:
        assert await session.get(HubSweepStateRow, "org") is None


async def test_second_replica_does_not_sweep_on_postgresql(
    postgres_url: str, fake_hub: FakeHubServer
) -> None:
    """While another replica holds the sweep lock, a sweep does nothing and says why."""
    add(fake_hub, "org/a", 0)
    holder, sweeper = create_engine(postgres_url), create_engine(postgres_url)
    try:
        await migrate_to_head(holder)
        async with holder.begin() as connection:
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": SWEEP_LOCK_KEY}
            )
            report = await run_sweep(create_sessionmaker(sweeper), fake_hub)
        assert report.locked_out
        assert await queued_repos(create_sessionmaker(sweeper)) == []
    finally:
        await holder.dispose()
        await sweeper.dispose()
