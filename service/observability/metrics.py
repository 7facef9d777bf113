"""Prometheus metrics, one registry per app (tests build many apps in one process).

Request metrics are labelled by method, route *template* (``/v1/gpus/{gpu_id:str}``, or
``unmatched`` when no route matched) and status, which keeps their cardinality bounded.
Catalog sizes and import jobs are read from the database at scrape time, so every replica
reports the same shared numbers (aggregate them with ``max``, not ``sum``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import GpuRow, ImportJobRow, JobStatus, ModelRow

UNMATCHED = "unmatched"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: A scrape never waits longer than this for the database.
SCRAPE_DB_TIMEOUT_S = 2.0
logger = logging.getLogger("capplan.metrics")


@dataclass(frozen=True, slots=True)
class DatabaseSnapshot:
    """Counts read from the database at scrape time; ``up`` False when it could not be read."""

    up: bool
    gpus: int = 0
    models: int = 0
    jobs: Mapping[str, int] = field(default_factory=dict)


class DatabaseCollector(Collector):
    """Exposes the last :class:`DatabaseSnapshot` (the scrape handler refreshes it first)."""

    def __init__(self) -> None:
        self.snapshot = DatabaseSnapshot(up=False)

    def collect(self) -> Iterator[Metric]:
        snapshot = self.snapshot
        yield GaugeMetricFamily(
            "capplan_database_up",
            "1 if this scrape could read the database, else 0",
            value=int(snapshot.up),
        )
        if not snapshot.up:
            return
        yield GaugeMetricFamily("capplan_catalog_gpus", "GPUs in the catalog", value=snapshot.gpus)
        yield GaugeMetricFamily(
            "capplan_catalog_models", "Models in the catalog", value=snapshot.models
        )
        jobs = GaugeMetricFamily(
            "capplan_import_jobs", "Import jobs by status (outcome)", labels=["status"]
        )
        for status in JobStatus:
            jobs.add_metric([status.value], snapshot.jobs.get(status.value, 0))
        yield jobs
        yield GaugeMetricFamily(
            "capplan_import_queue_depth",
            "Import jobs waiting for a worker (queued)",
            value=snapshot.jobs.get(JobStatus.QUEUED.value, 0),
        )


class Metrics:
    """The registry of one app and its request metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ["method", "route", "status"]
        self.requests = Counter(
            "capplan_http_requests",
            "HTTP requests by method, route template and status",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "capplan_http_request_duration_seconds",
            "HTTP request latency by method, route template and status",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.database = DatabaseCollector()
        self.registry.register(self.database)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route, str(status)).observe(seconds)

    async def render(self, sessionmaker: async_sessionmaker[AsyncSession] | None) -> bytes:
        """The text exposition, after reading the database counts (bounded in time)."""
        self.database.snapshot = await read_snapshot(sessionmaker)
        return generate_latest(self.registry)


async def read_snapshot(sessionmaker: async_sessionmaker[AsyncSession] | None) -> DatabaseSnapshot:
    """Catalog sizes and import jobs by status; ``up=False`` if the database fails or stalls."""
    if sessionmaker is None:
        return DatabaseSnapshot(up=False)
    try:
        async with asyncio.timeout(SCRAPE_DB_TIMEOUT_S), sessionmaker() as session:
            gpus = await session.scalar(select(func.count()).select_from(GpuRow))
            models = await session.scalar(select(func.count()).select_from(ModelRow))
            rows = await session.execute(
                select(ImportJobRow.status, func.count()).group_by(ImportJobRow.status)
            )
            jobs = {str(status): int(count) for status, count in rows}
    except (SQLAlchemyError, OSError, TimeoutError) as exc:  # down: say so, serve the rest
        logger.warning("metrics: database not readable: %s", type(exc).__name__)
        return DatabaseSnapshot(up=False)
    return DatabaseSnapshot(up=True, gpus=gpus or 0, models=models or 0, jobs=jobs)
