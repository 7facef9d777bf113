"""Serving through a database outage over HTTP.

The GPU cache (:mod:`service.db.outage`) is primed at start-up and handed to each request;
anything that needs the database while it is unreachable answers 503 problem+json with
``Retry-After``, instead of a 500.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from litestar import Litestar, Request, Response

from service.api.problems import (
    RETRY_AFTER_S,
    Problem,
    ProblemDetails,
    problem_from_http,
    problem_from_unhandled,
)
from service.db.outage import UNAVAILABLE, GpuCache, read_all_gpus, unavailable
from service.db.session import sessionmaker_from

logger = logging.getLogger("capplan.outage")


def gpu_cache_primer() -> Callable[[Litestar], contextlib.AbstractAsyncContextManager[None]]:
    """A lifespan entry (after the database one) that reads the GPU catalog into the cache."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            async with sessionmaker_from(app.state)() as session:
                await read_all_gpus(session, app.state.gpu_cache)
        except UNAVAILABLE:
            logger.warning("could not read the GPU catalog at start-up", exc_info=True)
        yield

    return lifespan


def provide_gpu_cache(request: Request[Any, Any, Any]) -> GpuCache:
    cache: GpuCache = request.app.state.gpu_cache
    return cache


def database_unavailable(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[ProblemDetails]:
    """503 with ``Retry-After``: the database is unreachable (logged without a trace)."""
    if not unavailable(exc):
        return problem_from_unhandled(request, exc)
    logger.warning(
        "database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__
    )
    retry = {"Retry-After": str(RETRY_AFTER_S)}
    answer = Problem(503, "the database is unavailable; retry shortly", headers=retry)
    return problem_from_http(request, answer)


UNAVAILABLE_HANDLERS = dict.fromkeys(UNAVAILABLE, database_unavailable)
