"""The discovery sweep follows ``Link: rel=next`` only on the configured Hub origin."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from service.hub.client import HfHubClient
from service.hub.errors import HubError

TOKEN = "hf_secret_token_for_tests"
LISTING = b'[{"id": "org/m0", "createdAt": "2025-03-01T00:00:00.000Z", "sha": "abc"}]'


class _Recorder(BaseHTTPRequestHandler):
    """Answers every GET with one listing and an optional ``Link`` header; records requests."""

    next_link: ClassVar[dict[int, str]] = {}
    seen: ClassVar[list[tuple[int, str, str | None]]] = []

    def do_GET(self) -> None:
        port = _port_of(self.server)
        self.seen.append((port, self.path, self.headers.get("Authorization")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(LISTING)))
        if link := self.next_link.pop(port, None):
            self.send_header("Link", f'<{link}>; rel="next"')
        self.end_headers()
        self.wfile.write(LISTING)

    def log_message(self, *_: object) -> None:
        """Quiet."""


def _port_of(server: object) -> int:
    address = getattr(server, "server_address", ("", 0))
    return int(address[1])


@pytest.fixture
def servers() -> Iterator[tuple[str, str]]:
    """Two loopback HTTP servers: the configured Hub and a stranger."""
    started = [ThreadingHTTPServer(("127.0.0.1", 0), _Recorder) for _ in range(2)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in started]
    for thread in threads:
        thread.start()
    _Recorder.seen.clear()
    _Recorder.next_link.clear()
    try:
        yield (
            f"http://127.0.0.1:{_port_of(started[0])}",
            f"http://127.0.0.1:{_port_of(started[1])}",
        )
    finally:
        for server in started:
            server.shutdown()
            server.server_close()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    "next_path",
    ["{stranger}/api/models?page=2", "http://localhost:{hub_port}/api/models?page=2"],
    ids=["other-port", "other-host-name"],
)
def test_foreign_next_link_is_refused_and_gets_no_token(
    servers: tuple[str, str], next_path: str
) -> None:
    """A next link off the configured origin is an error, and nothing is sent there."""
    hub, stranger = servers
    _Recorder.next_link[_port(hub)] = next_path.format(stranger=stranger, hub_port=_port(hub))
    client = HfHubClient(hub, token=TOKEN, timeout_s=5.0)

    with pytest.raises(HubError, match="not followed"):
        client.list_new_models("org", None, 10)

    assert [(port, auth) for port, _, auth in _Recorder.seen] == [(_port(hub), f"Bearer {TOKEN}")]


@pytest.mark.parametrize(
    "next_path", ["{hub}/api/models?page=2", "/api/models?page=2"], ids=["absolute", "relative"]
)
def test_next_link_on_the_hub_is_followed(servers: tuple[str, str], next_path: str) -> None:
    """A next link on the configured origin (absolute or relative) is followed with the token."""
    hub, _ = servers
    _Recorder.next_link[_port(hub)] = next_path.format(hub=hub)
    client = HfHubClient(hub, token=TOKEN, timeout_s=5.0)

    found = client.list_new_models("org", None, 10)

    assert len(found) == 2
    assert [path for _, path, _ in _Recorder.seen][1] == "/api/models?page=2"
