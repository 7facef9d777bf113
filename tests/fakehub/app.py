"""The fake Hub as a raw ASGI application: record, apply faults, route, send."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from tests.fakehub.registry import FakeHub
from tests.fakehub.routes import Request, Response, handle, json_error

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class FakeHubApp:
    """ASGI callable serving ``hub``; HTTP only (run uvicorn with ``lifespan="off"``)."""

    def __init__(self, hub: FakeHub) -> None:
        self.hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = _request(scope)
        self.hub.record(request.recorded)
        fault = self.hub.take_fault(request.recorded.path)
        if fault is not None and fault.stall_s > 0 and await _client_left(receive, fault.stall_s):
            return
        if fault is not None and fault.status:
            response = json_error(fault.status, None, f"injected {fault.status}", fault.headers)
        else:
            with self.hub.lock:
                response = handle(self.hub, request)
        await _send(send, response, head=request.method == "HEAD")


def _request(scope: Scope) -> Request:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    raw_path = scope.get("raw_path") or scope["path"].encode()
    query = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    host = headers.get("host", "127.0.0.1")
    return Request(
        method=scope["method"],
        raw_path=raw_path.decode("latin-1").split("?", 1)[0],
        query=query,
        headers=headers,
        base_url=f"{scope.get('scheme', 'http')}://{host}",
    )


async def _client_left(receive: Receive, seconds: float) -> bool:
    """Wait ``seconds``; True as soon as the client disconnects (e.g. on its own timeout)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (remaining := deadline - loop.time()) > 0:
        try:
            message = await asyncio.wait_for(receive(), remaining)
        except TimeoutError:
            return False
        if message["type"] == "http.disconnect":
            return True
    return False


async def _send(send: Send, response: Response, *, head: bool) -> None:
    headers = list(response.headers)
    if not any(name == "content-length" for name, _ in headers):
        headers.append(("content-length", str(len(response.body))))
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        }
    )
    await send({"type": "http.response.body", "body": b"" if head else response.body})
