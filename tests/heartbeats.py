"""A live import worker's heartbeat for apps that run no worker themselves.

Most API tests run the app with ``importer_enabled=False``; ``POST /v1/imports`` then queues a job
only while some worker's heartbeat is fresh (service/importer/heartbeat.py). These fixtures
record one, as a worker on another replica would, instead of loosening the check.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.pool import NullPool

from service.db.session import create_engine, create_sessionmaker
from service.db.types import utcnow
from service.importer.heartbeat import Heartbeats

FIXTURE_WORKER = "test-fixture-worker"


async def record_heartbeat(
    db_url: str, *, at: dt.datetime | None = None, worker_id: str = FIXTURE_WORKER
) -> None:
    """Record that ``worker_id`` was alive ``at`` (default: now) in the migrated database."""
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        async with create_sessionmaker(engine).begin() as session:
            beat_at = at or utcnow()
            await Heartbeats(session).beat(worker_id, started_at=beat_at, at=beat_at)
    finally:
        await engine.dispose()
