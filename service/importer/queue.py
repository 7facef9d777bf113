"""The ``import_jobs`` table: enqueue, read, and finish jobs under the worker's lease.

Like the catalog repositories it never commits; the caller owns the transaction. Every
transition out of ``running`` is fenced by the lease owner, so a worker whose lease passed to
another worker cannot overwrite that worker's result (it gets :class:`LeaseLost`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import ImportJobRow, JobStatus
from service.db.types import utcnow
from service.importer.errors import LeaseLost

ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
#: Insert-or-read rounds before giving up (each lost round means a job finished meanwhile).
ENQUEUE_ATTEMPTS = 5
MAX_ERROR_CHARS = 4000


@dataclass(frozen=True, slots=True)
class JobPage:
    """One slice of the job listing, newest first, with the size of the whole listing."""

    items: list[ImportJobRow]
    total: int
    limit: int
    offset: int


class JobQueue:
    """Import jobs in one session."""

    def __init__(self, session: AsyncSession, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.session = session
        self.clock = clock

    async def enqueue(
        self, repo_id: str, revision: str | None, *, max_attempts: int
    ) -> tuple[ImportJobRow, bool]:
        """A new queued job, or the queued/running one for the same repo and revision.

        Returns ``(job, created)``. Race-free: the partial unique index of migration 0002
        refuses a second active job, and ``INSERT ... ON CONFLICT DO NOTHING`` then hands back
        the one that won (it may have finished meanwhile: then insert again).
        """
        for _ in range(ENQUEUE_ATTEMPTS):
            existing = await self.active(repo_id, revision)
            if existing is not None:
                return existing, False
            now = self.clock()
            values = {
                "id": uuid.uuid4().hex,
                "repo_id": repo_id,
                "revision": revision,
                "status": JobStatus.QUEUED,
                "attempts": 0,
                "max_attempts": max_attempts,
                "next_attempt_at": now,
                "created_at": now,
            }
            insert = _insert_for(self.session).values(values).on_conflict_do_nothing()
            inserted = (await self.session.execute(insert.returning(ImportJobRow.id))).first()
            if inserted is not None:
                job = await self.get(inserted[0])
                if job is not None:
                    return job, True
        raise RuntimeError(f"{repo_id}: could not enqueue after {ENQUEUE_ATTEMPTS} attempts")

    async def get(self, job_id: str) -> ImportJobRow | None:
        return await self.session.get(ImportJobRow, job_id, populate_existing=True)

    async def active(self, repo_id: str, revision: str | None) -> ImportJobRow | None:
        """The queued or running job for ``repo_id`` at ``revision`` (ids are case-blind)."""
        query = select(ImportJobRow).where(
            func.lower(ImportJobRow.repo_id) == repo_id.lower(),
            ImportJobRow.revision.is_(None)
            if revision is None
            else ImportJobRow.revision == revision,
            ImportJobRow.status.in_(ACTIVE),
        )
        return (await self.session.scalars(query.limit(1))).first()

    async def active_repos(self, repo_ids: Iterable[str]) -> set[str]:
        """Which of ``repo_ids`` (lower-cased) have a queued or running job."""
        wanted = {repo_id.lower() for repo_id in repo_ids}
        if not wanted:
            return set()
        query = select(func.lower(ImportJobRow.repo_id)).where(
            func.lower(ImportJobRow.repo_id).in_(wanted), ImportJobRow.status.in_(ACTIVE)
        )
        return set((await self.session.scalars(query)).all())

    async def find(
        self, *, status: JobStatus | None = None, limit: int = 50, offset: int = 0
    ) -> JobPage:
        """Jobs newest first, optionally in one status."""
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        where: list[ColumnElement[bool]] = []
        if status is not None:
            where.append(ImportJobRow.status == status)
        count = select(func.count()).select_from(ImportJobRow).where(*where)
        total = (await self.session.execute(count)).scalar_one()
        query = (
            select(ImportJobRow)
            .where(*where)
            .order_by(ImportJobRow.created_at.desc(), ImportJobRow.id.desc())
            .limit(limit)
            .offset(offset)
        )
        items = list((await self.session.scalars(query)).all())
        return JobPage(items=items, total=total, limit=limit, offset=offset)

    async def succeed(self, job_id: str, owner: str) -> ImportJobRow:
        """Mark the leased job succeeded."""
        return await self._settle(
            job_id, owner, status=JobStatus.SUCCEEDED, error=None, finished_at=self.clock()
        )

    async def fail(self, job_id: str, owner: str, message: str) -> ImportJobRow:
        """Mark the leased job failed for good, with ``message`` as its error."""
        return await self._settle(
            job_id,
            owner,
            status=JobStatus.FAILED,
            error=message[:MAX_ERROR_CHARS],
            finished_at=self.clock(),
        )

    async def retry(self, job_id: str, owner: str, message: str, at: dt.datetime) -> ImportJobRow:
        """Queue the leased job again, due at ``at``; ``message`` says why it failed."""
        return await self._settle(
            job_id,
            owner,
            status=JobStatus.QUEUED,
            error=message[:MAX_ERROR_CHARS],
            next_attempt_at=at,
        )

    async def release(self, job_id: str, owner: str) -> ImportJobRow:
        """Hand the leased job back, due now, without counting the interrupted attempt."""
        return await self._settle(
            job_id,
            owner,
            status=JobStatus.QUEUED,
            attempts=ImportJobRow.attempts - 1,
            next_attempt_at=self.clock(),
        )

    async def _settle(self, job_id: str, owner: str, **values: Any) -> ImportJobRow:
        statement = (
            update(ImportJobRow)
            .where(
                ImportJobRow.id == job_id,
                ImportJobRow.status == JobStatus.RUNNING,
                ImportJobRow.lease_owner == owner,
            )
            .values(lease_owner=None, lease_expires_at=None, **values)
            .returning(ImportJobRow)
            .execution_options(populate_existing=True)
        )
        job = (await self.session.scalars(statement)).one_or_none()
        if job is None:
            raise LeaseLost(job_id, owner)
        return job


def _insert_for(session: AsyncSession) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` into ``import_jobs`` in the session's dialect (both have ON CONFLICT)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(ImportJobRow)
    return sqlite.insert(ImportJobRow)
