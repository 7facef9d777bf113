"""Discovery: enqueue imports of the newest text-generation models of chosen Hub authors.

Each author has a watermark in ``hub_sweep_state``: the creation time of the newest model
seen. A sweep lists what is newer, skips repos already queued or running and repos the
catalog already holds at that commit (or that an operator owns), enqueues the rest, and
moves the watermarks, all in one transaction. Only the newest ``limit`` models per author
are considered (on the first sweep too): older ones beyond that fall behind the watermark
and are left to ``capplan hub import``. On PostgreSQL a
transaction-scoped advisory lock keeps two replicas from sweeping at once; the loser
returns at once with ``locked_out``. The report also counts the imports refused since the
last sweep per model family and missing feature (:mod:`service.importer.refusals`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from anyio import to_thread
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import HubSweepStateRow, ImportJobRow, JobStatus, ModelRow, Origin
from service.db.types import utcnow
from service.hub.client import HubClient
from service.hub.errors import HubError
from service.hub.models import HubListing
from service.importer.queue import JobQueue
from service.importer.refusals import refusals_by_family

logger = logging.getLogger("capplan.importer")

#: The advisory lock naming "a sweep is running" (b"cpsweep").
SWEEP_LOCK_KEY = int.from_bytes(b"cpsweep", "big")


@dataclass
class SweepReport:
    """What one sweep did; ``errors`` maps an author to why its listing failed."""

    enqueued: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    refused: dict[tuple[str, str], int] = field(default_factory=dict)
    locked_out: bool = False

    def __str__(self) -> str:
        if self.locked_out:
            return "another replica is sweeping; nothing done"
        lines = [f"enqueued {len(self.enqueued)}: {', '.join(self.enqueued) or '-'}"]
        lines += [f"skipped {repo}: {why}" for repo, why in self.skipped.items()]
        lines += [f"error listing {author}: {why}" for author, why in self.errors.items()]
        lines += [
            f"refused {count} import(s) of model_type '{family}': {feature}"
            for (family, feature), count in self.refused.items()
        ]
        return "\n".join(lines)


async def sweep(
    sessionmaker: async_sessionmaker[AsyncSession],
    hub: HubClient,
    authors: Sequence[str],
    *,
    limit: int,
    max_attempts: int,
    clock: Callable[[], dt.datetime] = utcnow,
) -> SweepReport:
    """List each author's new models and enqueue their imports; see the module docstring."""
    report = SweepReport()
    async with sessionmaker.begin() as session:
        if not await _try_lock(session):
            report.locked_out = True
            return report
        listings: dict[str, list[HubListing]] = {}
        for author in dict.fromkeys(authors):  # Hub calls first: no SQLite write lock held
            state = await session.get(HubSweepStateRow, author)
            since = state.watermark if state is not None else None
            try:
                listings[author] = await to_thread.run_sync(
                    hub.list_new_models, author, since, limit, abandon_on_cancel=True
                )
            except HubError as exc:
                report.errors[author] = str(exc)
        report.refused = await _refusals_since_last_run(session, authors)
        queue = JobQueue(session, clock)
        for author, found in listings.items():
            for listing in sorted(found, key=lambda item: item.created_at):
                reason = await _skip_reason(session, queue, listing)
                if reason is not None:
                    report.skipped[listing.repo_id] = reason
                    continue
                await queue.enqueue(listing.repo_id, None, max_attempts=max_attempts)
                report.enqueued.append(listing.repo_id)
            await _advance(session, author, found, clock())
    logger.info("hub sweep: %s", str(report).replace("\n", "; "))
    return report


async def _refusals_since_last_run(
    session: AsyncSession, authors: Sequence[str]
) -> dict[tuple[str, str], int]:
    """Imports refused for an unmodelled architecture since these authors' last sweep."""
    runs = [
        state.last_run_at
        for author in dict.fromkeys(authors)
        if (state := await session.get(HubSweepStateRow, author)) is not None
        and state.last_run_at is not None
    ]
    statement = select(ImportJobRow.error).where(ImportJobRow.status == JobStatus.FAILED)
    if runs:
        statement = statement.where(ImportJobRow.finished_at >= min(runs))
    return refusals_by_family(await session.scalars(statement))


async def _try_lock(session: AsyncSession) -> bool:
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        return True
    statement = text("SELECT pg_try_advisory_xact_lock(:key)")
    return bool(await session.scalar(statement, {"key": SWEEP_LOCK_KEY}))


async def _skip_reason(session: AsyncSession, queue: JobQueue, listing: HubListing) -> str | None:
    if await queue.active_repos([listing.repo_id]):
        return "an import is already queued or running"
    row = await session.get(ModelRow, listing.repo_id)
    if row is None:
        return None
    if row.origin == Origin.OPERATOR:
        return "the catalog entry is operator-owned"
    if listing.sha is not None and row.revision == listing.sha:
        return "already in the catalog at this commit"
    return None


async def _advance(
    session: AsyncSession, author: str, found: list[HubListing], now: dt.datetime
) -> None:
    state = await session.get(HubSweepStateRow, author)
    if state is None:
        state = HubSweepStateRow(author=author)
        session.add(state)
    newest = max((item.created_at for item in found), default=None)
    if newest is not None and (state.watermark is None or newest > state.watermark):
        state.watermark = newest
    state.last_run_at = now
    await session.flush()
