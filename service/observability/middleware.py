"""Around every HTTP request: a request id, the request log line and the request metrics.

:func:`instrument` wraps the app's outermost ASGI handler (outside Litestar's exception
handling and routing), so 404s, 405s, 413s and 500s are counted, logged and carry
``X-Request-ID`` like every other response.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from service.observability import request_id
from service.observability.metrics import UNMATCHED, Metrics

logger = logging.getLogger("capplan.request")
_HEADER = request_id.HEADER.encode()


class Observed:
    """ASGI middleware: set the request id, echo it, log and measure the request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        await self._http(scope, receive, send)

    async def _http(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        incoming = next((v for k, v in scope["headers"] if k == _HEADER), None)
        rid = request_id.request_id_from(incoming)
        token = request_id.current.set(rid)
        status = 500  # unless a response starts
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (_HEADER, rid.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route: Any = scope.get("path_template") or UNMATCHED
            self.metrics.observe(scope["method"], str(route), status, seconds)
            logger.info(
                "%s %s %d",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(seconds * 1e3, 3),
                },
            )
            request_id.current.reset(token)


def instrument(app: Litestar, metrics: Metrics) -> Litestar:
    """Wrap ``app``'s ASGI handler with :class:`Observed`; returns ``app``."""
    app.asgi_handler = Observed(app.asgi_handler, metrics)
    return app
