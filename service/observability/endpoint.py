"""``GET /metrics``: the Prometheus text exposition of this process (not in the OpenAPI).

HEAD answers too (monitoring probes send it), from the same handler, as for /health and
/ready (see service/api/health.py): GET's status and headers, and no body.
"""

from __future__ import annotations

from typing import cast

from litestar import HttpMethod, Response, route
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.observability.metrics import Metrics

#: The classic text format (``generate_latest``); Litestar appends ``; charset=utf-8``.
TEXT_FORMAT = "text/plain; version=0.0.4"


@route("/metrics", http_method=[HttpMethod.GET, HttpMethod.HEAD], include_in_schema=False)
async def metrics(state: State) -> Response[bytes]:
    registry = cast("Metrics", state.metrics)
    sessionmaker = cast("async_sessionmaker[AsyncSession] | None", state.get("sessionmaker"))
    return Response(await registry.render(sessionmaker), media_type=TEXT_FORMAT)
