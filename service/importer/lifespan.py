"""Run the import worker and the periodic sweep inside the service process.

The worker runs when ``CAPPLAN_IMPORTER_ENABLED`` is true, or is unset and the database is
the embedded SQLite one (a single process owns it); the sweep runs when
``CAPPLAN_SWEEP_INTERVAL_S`` is above 0. At shutdown the worker stops claiming jobs and
gets ``CAPPLAN_IMPORTER_SHUTDOWN_GRACE_S`` to finish its current one; after that it is
cancelled and hands the job back, so another replica can take it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import cast

from litestar import Litestar

from service.db.session import sessionmaker_from
from service.hub.client import HubClient
from service.importer.client_factory import HubClientFactory, hub_client_from_settings
from service.importer.config import WorkerConfig
from service.importer.sweep import sweep
from service.importer.worker import ImportWorker
from service.settings import Settings

logger = logging.getLogger("capplan.importer")


def hub_importer(
    settings: Settings,
) -> Callable[[Litestar], contextlib.AbstractAsyncContextManager[None]]:
    """The lifespan entry; it must come after the database one (it uses its sessionmaker)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if not settings.runs_importer and settings.sweep_interval_s <= 0:
            yield
            return
        factory = cast("HubClientFactory | None", app.state.get("hub_client_factory"))
        hub = factory(settings) if factory is not None else hub_client_from_settings(settings)
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        if settings.runs_importer:
            worker = ImportWorker(
                sessionmaker_from(app.state), hub, WorkerConfig.from_settings(settings)
            )
            tasks.append(asyncio.create_task(worker.run(stop), name="hub-import-worker"))
        if settings.sweep_interval_s > 0:
            tasks.append(
                asyncio.create_task(_sweep_loop(app, hub, settings, stop), name="hub-sweep")
            )
        try:
            yield
        finally:
            stop.set()
            await _stop(tasks, settings.importer_shutdown_grace_s)

    return lifespan


async def _stop(tasks: list[asyncio.Task[None]], grace_s: float) -> None:
    """Let the tasks finish within ``grace_s``, then cancel the rest and wait for them."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=grace_s)
    for task in pending:
        logger.info("%s did not stop within %g s: cancelling it", task.get_name(), grace_s)
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _sweep_loop(
    app: Litestar, hub: HubClient, settings: Settings, stop: asyncio.Event
) -> None:
    """Sweep now, then every ``sweep_interval_s`` until ``stop``."""
    while not stop.is_set():
        try:
            await sweep(
                sessionmaker_from(app.state),
                hub,
                settings.sweep_authors,
                limit=settings.sweep_limit,
                max_attempts=settings.importer_max_attempts,
            )
        except Exception:
            logger.exception("hub sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.sweep_interval_s)
