"""Serving through a database outage: telling an outage from a bug, and the GPU cache.

:class:`GpuCache` keeps the GPUs the last successful reads returned (the whole catalog is read
at start-up), so a computation on an inline model keeps working while the database is
unreachable.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Iterable

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.gpu_repository import GpuRepository, gpu_spec_from_row
from service.domain.gpu import GpuSpec

#: What a lost or refused database connection may raise (asyncpg and aiosqlite alike);
#: :func:`unavailable` tells an outage from a bad statement or a bug.
UNAVAILABLE: tuple[type[Exception], ...] = (DBAPIError, PoolTimeout, OSError)

#: PostgreSQL error classes that mean "not now" rather than "never": connection exceptions
#: (08), insufficient resources (53), operator intervention (57: shutdown, statement_timeout
#: 57014), lock_not_available (55P03), serialization failure / deadlock (40001, 40P01).
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "53", "57", "55P03", "40001", "40P01")
#: SQLite OperationalError messages that mean the file cannot be used right now; every
#: other one ("no such table", "syntax error") is a bug.
_TRANSIENT_SQLITE = (
    "database is locked",
    "unable to open database file",
    "disk i/o error",
    "database or disk is full",
    "readonly database",
)
#: Socket errors of an unreachable server (a bare OSError from asyncpg's connect).
_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached, is busy or too slow (worth a
    retry: 503), as opposed to a statement it refused or a bug elsewhere (500).

    By cause, not by type: a missing file is an ``OSError`` too, and must not be reported
    as "the database is unavailable".
    """
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, InterfaceError):
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if isinstance(sqlstate, str):
            return sqlstate.startswith(_TRANSIENT_SQLSTATE_PREFIXES)
        if isinstance(exc, OperationalError):
            message = str(exc.orig).lower()
            return any(text in message for text in _TRANSIENT_SQLITE)
        return False
    if isinstance(exc, PoolTimeout | TimeoutError | ConnectionError | socket.gaierror):
        return True  # no pooled connection in time; asyncpg's command_timeout; refused
    return isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS


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
