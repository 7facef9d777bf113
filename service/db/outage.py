"""Serving through a database outage: telling an outage from a bug, and the GPU cache.

:class:`GpuCache` keeps the GPUs the last successful reads returned (the whole catalog is read
at start-up), so a computation on an inline model keeps working while the database is
unreachable.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.gpu_repository import GpuRepository, gpu_spec_from_row
from service.domain.gpu import GpuSpec

#: What a lost or refused database connection may raise (asyncpg and aiosqlite alike);
#: :func:`unavailable` tells an outage from a bad statement.
UNAVAILABLE: tuple[type[Exception], ...] = (DBAPIError, PoolTimeout, OSError)


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached or is busy (worth a retry), as
    opposed to a statement it refused (an integrity error stays a bug: 500)."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    return isinstance(exc, PoolTimeout | OSError)


class GpuCache:
    """The GPUs of the last successful catalog reads, by id; the fallback in an outage."""

    def __init__(self) -> None:
        self._gpus: dict[str, GpuSpec] = {}
        self._complete = False

    def replace_all(self, gpus: Iterable[GpuSpec]) -> None:
        """A fresh read of the whole catalog."""
        self._gpus = {gpu.id: gpu for gpu in gpus}
        self._complete = True

    def put(self, gpu: GpuSpec) -> None:
        self._gpus[gpu.id] = gpu

    def forget(self, gpu_id: str) -> None:
        self._gpus.pop(gpu_id, None)

    def get(self, gpu_id: str) -> GpuSpec | None:
        return self._gpus.get(gpu_id)

    def all(self) -> list[GpuSpec] | None:
        """The whole catalog as last read, or None if it never was."""
        return sorted(self._gpus.values(), key=lambda gpu: gpu.id) if self._complete else None


async def read_all_gpus(session: AsyncSession, cache: GpuCache | None) -> list[GpuSpec]:
    """Every GPU of the catalog, remembered in ``cache``."""
    page = await GpuRepository(session).find(limit=10_000)
    gpus = [gpu_spec_from_row(row) for row in page.items]
    if cache is not None:
        cache.replace_all(gpus)
    return gpus


async def discard(session: AsyncSession) -> None:
    """Roll back a session whose connection failed, so that its commit does nothing."""
    with contextlib.suppress(*UNAVAILABLE):
        await session.rollback()
