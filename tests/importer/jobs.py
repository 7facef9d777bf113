"""Helpers to set up and inspect import jobs and the catalog directly in the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import ImportJobRow, ModelRow
from service.db.types import utcnow
from service.importer.queue import JobQueue

Sessions = async_sessionmaker[AsyncSession]


async def enqueue(
    sessionmaker: Sessions,
    repo_id: str,
    *,
    revision: str | None = None,
    max_attempts: int = 3,
    clock: Callable[[], dt.datetime] = utcnow,
) -> str:
    """Queue an import job; its id."""
    async with sessionmaker.begin() as session:
        job, _ = await JobQueue(session, clock).enqueue(
            repo_id, revision, max_attempts=max_attempts
        )
    return job.id


async def set_job(sessionmaker: Sessions, job_id: str, **values: Any) -> None:
    """Overwrite columns of a job (to stage a crashed worker's leftovers)."""
    async with sessionmaker.begin() as session:
        job = await session.get(ImportJobRow, job_id)
        assert job is not None
        for name, value in values.items():
            setattr(job, name, value)


async def get_job(sessionmaker: Sessions, job_id: str) -> ImportJobRow:
    async with sessionmaker() as session:
        job = await JobQueue(session).get(job_id)
    assert job is not None
    return job


async def catalog(sessionmaker: Sessions) -> dict[str, ModelRow]:
    """Every model row by id."""
    async with sessionmaker() as session:
        rows = (await session.scalars(select(ModelRow))).all()
    return {row.id: row for row in rows}
