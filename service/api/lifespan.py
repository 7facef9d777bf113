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
        engine = create_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        try:
            if settings.migrate_on_start:
                await migrate_to_head(engine)
            if settings.sync_catalog_on_start:
                report = await sync_catalog(
                    app.state.sessionmaker, load_catalog(settings.catalog_dir)
                )
                logger.info("catalog sync: %s", str(report).replace("\n", "; "))
            yield
        finally:
            await engine.dispose()

    return lifespan
