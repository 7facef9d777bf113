"""Claim the next due import job, safely when several workers share one database.

A job is due when it is queued and its ``next_attempt_at`` has passed, or when it is
running under a lease that expired (its worker died). Claiming runs in the caller's
transaction, in two steps:

1. pick a candidate with ``SELECT ... FOR UPDATE SKIP LOCKED``. On PostgreSQL the row stays
   locked until commit and concurrent claimers skip it; SQLite ignores the clause;
2. take it with a conditional ``UPDATE ... WHERE id = :id AND <still due> RETURNING``. On
   SQLite, where writes are serialised, a worker that lost the race updates no row and tries
   the next candidate.

A claim increments ``attempts``, so a job that keeps killing its worker runs out of them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import ImportJobRow, JobStatus

#: Candidates tried in one claim before giving up until the next poll.
MAX_CANDIDATES = 5


def _due(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        and_(ImportJobRow.status == JobStatus.QUEUED, ImportJobRow.next_attempt_at <= now),
        and_(ImportJobRow.status == JobStatus.RUNNING, ImportJobRow.lease_expires_at < now),
    )


async def claim_next(
    session: AsyncSession,
    owner: str,
    *,
    lease_s: float,
    now: dt.datetime,
    job_id: str | None = None,
) -> ImportJobRow | None:
    """Lease the oldest due job (or job ``job_id``, if due) to ``owner``; None if none is."""
    passed: list[str] = []
    for _ in range(MAX_CANDIDATES):
        candidate = await _candidate(session, now, job_id, passed)
        if candidate is None:
            return None
        if candidate.attempts >= candidate.max_attempts:
            await _give_up(session, candidate, now)
        else:
            job = await _take(session, candidate.id, owner, now, lease_s)
            if job is not None:
                return job
        passed.append(candidate.id)
    return None


async def _candidate(
    session: AsyncSession, now: dt.datetime, job_id: str | None, passed: list[str]
) -> ImportJobRow | None:
    query = select(ImportJobRow).where(_due(now))
    if job_id is not None:
        query = query.where(ImportJobRow.id == job_id)
    if passed:
        query = query.where(ImportJobRow.id.not_in(passed))
    query = (
        query.order_by(ImportJobRow.next_attempt_at, ImportJobRow.created_at, ImportJobRow.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).first()


async def _take(
    session: AsyncSession, job_id: str, owner: str, now: dt.datetime, lease_s: float
) -> ImportJobRow | None:
    statement = (
        update(ImportJobRow)
        .where(ImportJobRow.id == job_id, _due(now))
        .values(
            status=JobStatus.RUNNING,
            lease_owner=owner,
            lease_expires_at=now + dt.timedelta(seconds=lease_s),
            attempts=ImportJobRow.attempts + 1,
            started_at=now,
        )
        .returning(ImportJobRow)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def _give_up(session: AsyncSession, job: ImportJobRow, now: dt.datetime) -> None:
    """Fail a job whose worker kept stopping mid-import until it ran out of attempts."""
    last = f"; last error: {job.error}" if job.error else ""
    message = (
        f"gave up after {job.attempts} attempts: the worker running it stopped before "
        f"finishing (its lease expired){last}"
    )
    statement = (
        update(ImportJobRow)
        .where(ImportJobRow.id == job.id, _due(now))
        .values(
            status=JobStatus.FAILED,
            error=message,
            lease_owner=None,
            lease_expires_at=None,
            finished_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    await session.execute(statement)
