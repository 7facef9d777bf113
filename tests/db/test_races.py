"""Concurrent catalog writes and import requests: none lost, none duplicated, none a crash.

Each writer has its own session (its own connection), as concurrent requests or replicas
do; on PostgreSQL they really overlap. Every case runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.gpu_repository import GpuRepository
from service.db.model_repository import ModelRepository
from service.db.models import GpuRow, ImportJobRow, JobStatus, ModelRow, Origin
from service.db.repository import AlreadyExists, NotFound, Repository, StaleVersion
from service.importer.queue import JobQueue

pytestmark = pytest.mark.anyio

Sessions = async_sessionmaker[AsyncSession]
WRITERS = 8


def gpu_values(name: str) -> dict[str, Any]:
    """A valid GPU whose ``name`` tells the writers apart."""
    return {
        "name": name,
        "vendor": "nvidia",
        "memory_bytes": 80 * 10**9,
        "memory_bandwidth_bytes_per_s": 2e12,
        "dense_tflops_bf16": 300.0,
        "dense_tflops_fp16": 300.0,
        "interconnect": "pcie",
        "interconnect_bandwidth_bytes_per_s": 32e9,
        "max_gpus_per_node": 8,
        "sources": ["https://example.org"],
    }


def model_values(name: str) -> dict[str, Any]:
    """A model row whose ``notes`` tell the writers apart (columns only; no derivation)."""
    return {
        "config": {"model_type": "llama"},
        "architecture": {"model_type": "llama"},
        "total_params": 1,
        "active_params": 1,
        "notes": name,
    }


CATALOGS: list[tuple[type[Repository[Any]], Callable[[str], dict[str, Any]], str]] = [
    (GpuRepository, gpu_values, "name"),
    (ModelRepository, model_values, "notes"),
]
CATALOG_IDS = ["gpus", "models"]


async def each_in_own_session(
    sessionmaker: Sessions, count: int, work: Callable[[AsyncSession, int], Awaitable[Any]]
) -> list[Any]:
    """Run ``work`` ``count`` times at once, each in its own committed transaction."""

    async def one(index: int) -> Any:
        try:
            async with sessionmaker.begin() as session:
                return await work(session, index)
        except (AlreadyExists, NotFound, StaleVersion) as exc:
            return exc

    return await asyncio.gather(*(one(index) for index in range(count)))


async def rows(sessionmaker: Sessions, row_type: type[GpuRow | ModelRow]) -> list[Any]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(row_type))).all())


@pytest.mark.parametrize(("repository", "values", "column"), CATALOGS, ids=CATALOG_IDS)
async def test_concurrent_creates_of_one_id_insert_exactly_once(
    sessionmaker: Sessions,
    repository: type[Repository[Any]],
    values: Callable[[str], dict[str, Any]],
    column: str,
) -> None:
    """Of concurrent creates with different bodies, one inserts; the rest hear AlreadyExists."""
    results = await each_in_own_session(
        sessionmaker,
        WRITERS,
        lambda session, i: repository(session).create("x", values(f"w{i}"), origin=Origin.OPERATOR),
    )

    winners = [i for i, result in enumerate(results) if not isinstance(result, Exception)]
    assert len(winners) == 1
    assert all(isinstance(r, AlreadyExists) for i, r in enumerate(results) if i != winners[0])
    [stored] = await rows(sessionmaker, repository.row_type)
    assert (getattr(stored, column), stored.version) == (f"w{winners[0]}", 1)


@pytest.mark.parametrize(("repository", "values", "column"), CATALOGS, ids=CATALOG_IDS)
async def test_create_never_overwrites(
    sessionmaker: Sessions,
    repository: type[Repository[Any]],
    values: Callable[[str], dict[str, Any]],
    column: str,
) -> None:
    """Creating an id that exists changes nothing and says so."""
    async with sessionmaker.begin() as session:
        await repository(session).create("x", values("first"), origin=Origin.OPERATOR)

    with pytest.raises(AlreadyExists):
        async with sessionmaker.begin() as session:
            await repository(session).create("x", values("second"), origin=Origin.OPERATOR)

    [stored] = await rows(sessionmaker, repository.row_type)
    assert (getattr(stored, column), stored.version) == ("first", 1)


@pytest.mark.parametrize(("repository", "values", "column"), CATALOGS, ids=CATALOG_IDS)
async def test_concurrent_deletes_delete_once_and_the_rest_are_not_found(
    sessionmaker: Sessions,
    repository: type[Repository[Any]],
    values: Callable[[str], dict[str, Any]],
    column: str,
) -> None:
    """Of concurrent deletes of one row, one deletes it; the others find nothing (NotFound)."""
    async with sessionmaker.begin() as session:
        await repository(session).create("x", values("only"), origin=Origin.OPERATOR)

    results = await each_in_own_session(
        sessionmaker, WRITERS, lambda session, _: repository(session).delete("x")
    )

    assert sum(result is None for result in results) == 1
    assert sum(isinstance(result, NotFound) for result in results) == WRITERS - 1
    assert await rows(sessionmaker, repository.row_type) == []


@pytest.mark.parametrize(("repository", "values", "column"), CATALOGS, ids=CATALOG_IDS)
async def test_concurrent_updates_of_one_version_apply_once(
    sessionmaker: Sessions,
    repository: type[Repository[Any]],
    values: Callable[[str], dict[str, Any]],
    column: str,
) -> None:
    """Of concurrent updates from version 1, one applies; the others are StaleVersion."""
    async with sessionmaker.begin() as session:
        await repository(session).create("x", values("v1"), origin=Origin.OPERATOR)

    results = await each_in_own_session(
        sessionmaker,
        WRITERS,
        lambda session, i: repository(session).update("x", {column: f"w{i}"}, expected_version=1),
    )

    winners = [i for i, result in enumerate(results) if not isinstance(result, Exception)]
    assert len(winners) == 1
    assert sum(isinstance(result, StaleVersion) for result in results) == WRITERS - 1
    [stored] = await rows(sessionmaker, repository.row_type)
    assert (getattr(stored, column), stored.version) == (f"w{winners[0]}", 2)


async def test_deleting_with_a_stale_version_keeps_the_row(sessionmaker: Sessions) -> None:
    """A delete naming an old version is StaleVersion and leaves the row in place."""
    async with sessionmaker.begin() as session:
        await GpuRepository(session).create("x", gpu_values("v1"), origin=Origin.OPERATOR)
    async with sessionmaker.begin() as session:
        await GpuRepository(session).update("x", {"name": "v2"}, expected_version=1)

    with pytest.raises(StaleVersion):
        async with sessionmaker.begin() as session:
            await GpuRepository(session).delete("x", expected_version=1)

    assert [row.name for row in await rows(sessionmaker, GpuRow)] == ["v2"]


@pytest.mark.parametrize(
    ("repos", "requests_per_repo"), [(1, 12), (6, 3)], ids=["one-repo", "six-repos"]
)
async def test_concurrent_imports_queue_one_job_per_repo(
    sessionmaker: Sessions, repos: int, requests_per_repo: int
) -> None:
    """Concurrent enqueues of the same repositories (any case) queue exactly one job each."""
    names = [f"org/Model-{n}" for n in range(repos)]
    spelled = [name if k % 2 else name.lower() for name in names for k in range(requests_per_repo)]

    results = await each_in_own_session(
        sessionmaker,
        len(spelled),
        lambda session, i: JobQueue(session).enqueue(spelled[i], None, max_attempts=3),
    )

    job_of: dict[str, set[str]] = {}
    for name, (job, _) in zip(spelled, results, strict=True):
        job_of.setdefault(name.lower(), set()).add(job.id)
    assert all(len(ids) == 1 for ids in job_of.values())
    assert sum(created for _, created in results) == repos
    async with sessionmaker() as session:
        count = select(func.count()).select_from(ImportJobRow)
        assert (await session.execute(count)).scalar_one() == repos


async def test_a_finished_job_does_not_block_a_new_import(sessionmaker: Sessions) -> None:
    """Only queued and running jobs count: after a job failed, the repo can be queued again."""
    async with sessionmaker.begin() as session:
        first, _ = await JobQueue(session).enqueue("org/m", None, max_attempts=3)
        first.status = JobStatus.FAILED

    async with sessionmaker.begin() as session:
        second, created = await JobQueue(session).enqueue("org/m", None, max_attempts=3)

    assert created
    assert second.id != first.id


async def test_another_revision_is_another_job(sessionmaker: Sessions) -> None:
    """The same repository at two revisions gets two active jobs."""
    async with sessionmaker.begin() as session:
        queue = JobQueue(session)
        main, _ = await queue.enqueue("org/m", None, max_attempts=3)
        pinned, created = await queue.enqueue("org/m", "v2", max_attempts=3)

    assert created
    assert pinned.id != main.id
