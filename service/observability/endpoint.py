"""``GET /metrics``: the Prometheus text exposition of this process (not in the OpenAPI)."""

from __future__ import annotations

from typing import cast

from litestar import Response, get
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.observability.metrics import Metrics

#: The classic text format (``generate_latest``); Litestar appends ``; charset=utf-8``.
TEXT_FORMAT = "text/plain; version=0.0.4"


@get("/metrics", include_in_schema=False)
async def metrics(state: State) -> Response[bytes]:
    registry = cast("Metrics", state.metrics)
    sessionmaker = cast("async_sessionmaker[AsyncSession] | None", state.get("sessionmaker"))
    return Response(await registry.render(sessionmaker), media_type=TEXT_FORMAT)
