"""Import worker heartbeats: running workers say they are alive; ``POST /v1/imports`` asks.

A worker upserts its row of ``importer_heartbeats`` (migration 0006) every ``interval_s`` (a
third of ``CAPPLAN_IMPORTER_HEARTBEAT_STALE_S``) and deletes it when it stops. A replica that
runs no worker itself accepts an import only while some heartbeat is younger than
``stale_s``: otherwise no worker would ever run the job. Times are the beating process's
clock, so replicas' clocks must agree to well within ``stale_s`` (NTP keeps them within
milliseconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
from collections.abc import Callable

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import ImporterHeartbeatRow
from service.db.types import utcnow

logger = logging.getLogger("capplan.importer")

#: Heartbeats per staleness bound: two may be lost before a live worker looks dead.
BEATS_PER_STALE = 3


def beat_interval_s(stale_s: float) -> float:
    """Seconds between two heartbeats of one worker: ``stale_s / 3``."""
    return stale_s / BEATS_PER_STALE


def retry_after_s(stale_s: float) -> int:
    """Whole seconds a client should wait before asking again: one heartbeat interval (a
    worker that starts now has beaten by then)."""
    return max(1, math.ceil(beat_interval_s(stale_s)))


class Heartbeats:
    """The ``importer_heartbeats`` table in one session (the caller owns the transaction)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def beat(self, worker_id: str, *, started_at: dt.datetime, at: dt.datetime) -> None:
        """Record that ``worker_id`` (running since ``started_at``) was alive ``at``."""
        insert = _insert_for(self.session).values(
            worker_id=worker_id, started_at=started_at, beat_at=at
        )
        upsert = insert.on_conflict_do_update(
            index_elements=[ImporterHeartbeatRow.worker_id], set_={"beat_at": at}
        )
        await self.session.execute(upsert)

    async def forget(self, worker_id: str) -> None:
        """Remove ``worker_id``'s row: it stopped and will run no more jobs."""
        await self.session.execute(
            delete(ImporterHeartbeatRow).where(ImporterHeartbeatRow.worker_id == worker_id)
        )

    async def latest(self) -> dt.datetime | None:
        """The freshest heartbeat of any worker; None when no worker has one."""
        newest = select(ImporterHeartbeatRow.beat_at).order_by(ImporterHeartbeatRow.beat_at.desc())
        return (await self.session.scalars(newest.limit(1))).first()

    async def live_worker(self, *, now: dt.datetime, stale_s: float) -> bool:
        """Whether some worker beat within the last ``stale_s`` seconds before ``now``."""
        latest = await self.latest()
        return latest is not None and now - latest <= dt.timedelta(seconds=stale_s)


async def beat_until(
    sessionmaker: async_sessionmaker[AsyncSession],
    worker_id: str,
    *,
    interval_s: float,
    stop: asyncio.Event,
    clock: Callable[[], dt.datetime] = utcnow,
) -> None:
    """Beat now and every ``interval_s`` until ``stop``; then delete the row.

    A failed beat (the database is down, say) is logged and tried again next interval.
    """
    started_at = clock()
    try:
        while not stop.is_set():
            try:
                async with sessionmaker.begin() as session:
                    await Heartbeats(session).beat(worker_id, started_at=started_at, at=clock())
            except Exception:
                logger.exception("import worker %s: recording its heartbeat failed", worker_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
    finally:
        try:
            async with sessionmaker.begin() as session:
                await Heartbeats(session).forget(worker_id)
        except Exception:  # its heartbeat goes stale instead
            logger.exception("import worker %s: could not remove its heartbeat", worker_id)


def _insert_for(session: AsyncSession) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` into ``importer_heartbeats`` in the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(ImporterHeartbeatRow)
    return sqlite.insert(ImporterHeartbeatRow)
