"""The plan path's short-lived copy of the GPU catalog and of resolved catalog models.

A repeated ``/v1/plan`` should cost no database read and no config normalisation. A copy is
used while it is younger than ``CAPPLAN_CATALOG_CACHE_TTL_S`` and no catalog write committed
in this process since it was read (:mod:`service.db.catalog_generation`); so a write through
this replica's API shows in its next answer, and one through another replica within the TTL.

A re-read that finds what the copy held keeps the copy's *object*: answers are cached against
the identity of their inputs (:mod:`service.api.answer_cache`), which stay valid.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.catalog_generation import catalog_generation, watch_catalog_writes
from service.db.outage import GpuCache
from service.domain.gpu import GpuSpec
from service.planning.errors import CatalogUnavailable
from service.planning.names import same_id
from service.planning.resolve import ResolvedModel, resolve_gpu, resolve_gpus, resolve_model
from service.settings import Settings

#: Catalog models remembered at once (least recently used forgotten first).
MAX_MODELS = 1024

T = TypeVar("T")


@dataclass(frozen=True, slots=True, eq=False)
class GpuCatalog:
    """Every catalog GPU, ordered by id, and by id."""

    gpus: tuple[GpuSpec, ...]
    by_id: dict[str, GpuSpec] = field(repr=False)

    @classmethod
    def of(cls, gpus: list[GpuSpec]) -> GpuCatalog:
        return cls(tuple(gpus), {gpu.id: gpu for gpu in gpus})

    def get(self, gpu_id: str) -> GpuSpec | None:
        """The GPU ``gpu_id`` names, in any letter case (:func:`same_id`)."""
        found = self.by_id.get(gpu_id)
        if found is None and (same := same_id(gpu_id, self.by_id)) is not None:
            found = self.by_id[same]
        return found


@dataclass(frozen=True, slots=True)
class _Copy(Generic[T]):
    value: T
    generation: int
    read_at_s: float


class CatalogCache:
    """Copies of catalog reads, each valid ``ttl_s`` seconds within one generation."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        watch_catalog_writes()
        self.ttl_s = ttl_s
        self._clock = clock
        self._gpus: _Copy[GpuCatalog] | None = None
        self._models: OrderedDict[str, _Copy[ResolvedModel]] = OrderedDict()

    def reads(self, sessions: LazySession, gpu_cache: GpuCache) -> CatalogReads:
        """One request's reads (the generation is noted before any of them)."""
        return CatalogReads(sessions, gpu_cache, catalog_generation(), self._clock())

    async def catalog(self, reads: CatalogReads) -> GpuCatalog:
        """Every GPU of the catalog (the outage fallback of :func:`resolve_gpus` included)."""
        if (fresh := self._fresh(self._gpus)) is not None:
            return fresh
        read = GpuCatalog.of(await resolve_gpus(reads.sessions.session, None, reads.gpu_cache))
        kept = self._gpus.value if self._gpus is not None else None
        if kept is not None and kept.gpus == read.gpus:
            read = kept
        self._gpus = _Copy(read, reads.generation, reads.started_s)
        return read

    async def gpu(self, reads: CatalogReads, gpu_id: str) -> tuple[GpuSpec, GpuCatalog | None]:
        """A catalog GPU, and the cached catalog it came from; None when it came from a read
        of its own (added since, by another replica; or the database is down and only the
        outage cache has it). :class:`GpuNotFound` when there is none. The id may be in
        any letter case (:func:`~service.planning.names.same_id`)."""
        try:
            catalog = await self.catalog(reads)
        except CatalogUnavailable:
            catalog = None
        known = catalog.get(gpu_id) if catalog is not None else None
        if known is not None:
            return known, catalog
        return await resolve_gpu(reads.sessions.session, gpu_id, reads.gpu_cache), None

    async def model(self, reads: CatalogReads, ref: str) -> ResolvedModel:
        """A catalog model by repo id or alias, normalised (:class:`ModelNotFound`)."""
        copy = self._models.get(ref)
        if (fresh := self._fresh(copy)) is not None:
            self._models.move_to_end(ref)
            return fresh
        read = await resolve_model(reads.sessions.session, ref)
        if copy is not None and copy.value == read:
            read = copy.value
        self._models[ref] = _Copy(read, reads.generation, reads.started_s)
        self._models.move_to_end(ref)
        while len(self._models) > MAX_MODELS:
            self._models.popitem(last=False)
        return read

    def _fresh(self, copy: _Copy[T] | None) -> T | None:
        if copy is None or copy.generation != catalog_generation():
            return None
        return copy.value if self._clock() - copy.read_at_s < self.ttl_s else None


class LazySession:
    """One request's database session, opened on first use (a cache hit opens none); at the
    end committed, or rolled back on an error, and closed (as :func:`provide_session`)."""

    def __init__(self, maker: async_sessionmaker[AsyncSession]) -> None:
        self._maker = maker
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._maker()
        return self._session

    async def __aenter__(self) -> LazySession:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        session = self._session
        if session is None:
            return
        try:
            if exc_type is None:
                await session.commit()
            else:
                await session.rollback()
        finally:
            await session.close()


@dataclass(frozen=True, slots=True)
class CatalogReads:
    """One request's database access, and the generation noted before its first read."""

    sessions: LazySession
    gpu_cache: GpuCache
    generation: int
    started_s: float


def catalog_cache(state: State) -> CatalogCache:
    """The application's cache (made on first use, with the settings' TTL)."""
    cache = state.get("catalog_cache")
    if not isinstance(cache, CatalogCache):
        settings: Settings = state.settings
        cache = CatalogCache(settings.catalog_cache_ttl_s)
        state["catalog_cache"] = cache
    return cache
