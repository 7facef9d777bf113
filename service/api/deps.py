"""Per-request dependencies: the database session and the engine/efficiency assumptions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import cast

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from service.catalog_files import default_calibration, default_engine_profile, engine_catalog
from service.db.session import sessionmaker_from
from service.domain.calibration import Calibration
from service.domain.engine import EngineCatalog, EngineProfile
from service.settings import Settings


def settings_from(state: State) -> Settings:
    return cast("Settings", state.settings)


async def provide_session(state: State) -> AsyncIterator[AsyncSession]:
    """One session per request, committed when the handler returns without error."""
    async with sessionmaker_from(state)() as session:
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise


def provide_engine_profile(state: State) -> EngineProfile:
    """The default engine profile of the configured catalog directory."""
    return default_engine_profile(settings_from(state).catalog_dir)


def provide_engine_catalog(state: State) -> EngineCatalog:
    """Every engine profile of the configured catalog directory (requests pick one)."""
    return engine_catalog(settings_from(state).catalog_dir)


def provide_settings(state: State) -> Settings:
    return settings_from(state)


def provide_calibration(state: State) -> Calibration:
    """The latency calibration of the configured catalog directory."""
    return default_calibration(settings_from(state).catalog_dir)
