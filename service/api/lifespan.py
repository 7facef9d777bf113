"""Start-up and shut-down: the database engine, migrations and the seed catalog."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from litestar import Litestar

from service.db.catalog_sync import sync_catalog
from service.db.seed_loader import load_catalog
from service.db.session import create_engine, create_sessionmaker, migrate_to_head
from service.settings import Settings

logger = logging.getLogger("capplan")


def database(
    settings: Settings,
) -> Callable[[Litestar], contextlib.AbstractAsyncContextManager[None]]:
    """Engine and sessionmaker on ``app.state``; migrate and seed when configured to."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if settings.migrate_on_start or settings.sync_catalog_on_start:
            await _prepare(settings)
        # Requests get deadlines (CAPPLAN_DB_STATEMENT_TIMEOUT_S, CAPPLAN_DB_POOL_TIMEOUT_S);
        # migrations and the seed sync above do not: they wait for each other's locks.
        engine = create_engine(
            settings.database_url,
            statement_timeout_s=settings.db_statement_timeout_s,
            pool_timeout_s=settings.db_pool_timeout_s,
        )
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        try:
            yield
        finally:
            await engine.dispose()

    return lifespan


async def _prepare(settings: Settings) -> None:
    """Migrate and seed over an engine of their own, without statement deadlines."""
    engine = create_engine(settings.database_url)
    try:
        if settings.migrate_on_start:
            await migrate_to_head(engine)
        if settings.sync_catalog_on_start:
            catalog = load_catalog(settings.catalog_dir)
            report = await sync_catalog(create_sessionmaker(engine), catalog)
            logger.info("catalog sync: %s", str(report).replace("\n", "; "))
    finally:
        await engine.dispose()
