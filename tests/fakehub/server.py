"""Run the fake Hub with uvicorn in a background thread on a free loopback port.

The pattern of encode/httpx ``tests/conftest.py``: start ``Server.run`` in a thread, poll
``started``, stop with ``should_exit`` and join.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import NamedTuple

import uvicorn

from tests.fakehub.app import FakeHubApp
from tests.fakehub.registry import FakeHub

STARTUP_TIMEOUT_S = 10.0


class FakeHubServer(NamedTuple):
    """A running fake Hub: pass ``url`` as the client's endpoint, register models on ``hub``."""

    url: str
    hub: FakeHub


class _ThreadedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the main thread."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.contextmanager
def run_fake_hub(hub: FakeHub | None = None) -> Iterator[FakeHubServer]:
    """Serve ``hub`` (a fresh one by default) on ``127.0.0.1``; stop and join on exit."""
    hub = hub or FakeHub()
    config = uvicorn.Config(
        FakeHubApp(hub),
        host="127.0.0.1",
        port=0,
        http="h11",
        ws="none",
        lifespan="off",
        log_config=None,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = _ThreadedServer(config)
    thread = threading.Thread(target=server.run, name="fake-hub", daemon=True)
    thread.start()
    try:
        _wait_until_started(server, thread)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield FakeHubServer(f"http://127.0.0.1:{port}", hub)
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT_S)
    if thread.is_alive():
        raise RuntimeError("the fake Hub did not shut down")


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake Hub did not start")
        time.sleep(0.001)
