"""Real `capplan serve` processes: SIGKILL mid-import, SIGTERM mid-import and mid-request."""

from __future__ import annotations

import json
import signal
import socket
from pathlib import Path

import httpx
import pytest

from tests.db.conftest import TINY_LLAMA_CONFIG
from tests.fakehub import FakeHubServer
from tests.importer.models import llama_tensors
from tests.ops.servers import AUTH, Servers, server_env
from tests.ops.state import job_in, stored, wait_until

pytestmark = [pytest.mark.process, pytest.mark.slow]

REPO = "ops-test/tiny-llama"
SHA = "a" * 40
CONFIG_PATH = f"/{REPO}/resolve/"
LEASE_S = 2.0
#: uvicorn shuts down cleanly, then re-raises SIGTERM: the exit status says "terminated".
TERMINATED = -signal.SIGTERM


def importer_env(database_url: str, hub_url: str, **changes: str) -> dict[str, str]:
    """A replica with its worker on: short polls, a short lease, the fake Hub."""
    settings = {
        "HF_ENDPOINT": hub_url,
        "CAPPLAN_HUB_TIMEOUT_S": "30",
        "CAPPLAN_IMPORTER_ENABLED": "true",
        "CAPPLAN_IMPORTER_POLL_INTERVAL_S": "0.1",
        "CAPPLAN_IMPORTER_LEASE_S": str(LEASE_S),
        "CAPPLAN_IMPORTER_SHUTDOWN_GRACE_S": "0.2",
        **changes,
    }
    return server_env(database_url, **settings)


@pytest.fixture
def stalled_hub(fake_hub: FakeHubServer) -> FakeHubServer:
    """The fake Hub serving REPO, holding its first config.json download for a minute."""
    fake_hub.hub.add_model(
        REPO, TINY_LLAMA_CONFIG, sha=SHA, safetensors=llama_tensors(TINY_LLAMA_CONFIG)
    )
    fake_hub.hub.stall_next(CONFIG_PATH, 60.0)
    return fake_hub


def start_import_and_wait_mid_download(api: httpx.Client, hub: FakeHubServer) -> dict[str, object]:
    """Queue REPO; return the job once its worker is stuck downloading config.json."""
    job = api.post("/v1/imports", json={"repo_id": REPO}, headers=AUTH).json()
    wait_until(lambda: hub.hub.requests_to(CONFIG_PATH), "the config.json download")
    return wait_until(lambda: job_in(api, job["id"], "running"), "the job to run")


def test_killed_worker_job_completes_once_after_its_lease(
    db_url: str, stalled_hub: FakeHubServer, servers: Servers
) -> None:
    """SIGKILL mid-import writes nothing; after the lease a new process imports it exactly once."""
    env = importer_env(db_url, stalled_hub.url)
    first = servers.start(env).wait_ready()
    with httpx.Client(base_url=first.url, timeout=10) as api:
        running = start_import_and_wait_mid_download(api, stalled_hub)
    first.kill()

    killed = stored(db_url, REPO)
    assert (killed.models, killed.revisions) == ([], 0)
    assert [job["status"] for job in killed.jobs] == ["running"]

    second = servers.start(env).wait_ready()
    with httpx.Client(base_url=second.url, timeout=10) as api:
        done = wait_until(lambda: job_in(api, str(running["id"]), "succeeded", "failed"), "the job")
        model = api.get(f"/v1/models/{REPO}").json()

    assert (done["status"], done["attempts"]) == ("succeeded", 2)
    assert str(done["finished_at"]) >= str(running["lease_expires_at"])
    after = stored(db_url, REPO)
    assert len(after.models) == 1
    assert after.revisions == 0
    assert model["architecture"]["num_layers"] == TINY_LLAMA_CONFIG["num_hidden_layers"]
    assert model["total_params"] == sum(
        _elements(shape) for _, shape in llama_tensors(TINY_LLAMA_CONFIG).values()
    )
    configs = stalled_hub.hub.requests_to(CONFIG_PATH)
    assert len([r for r in configs if r.path.endswith("/config.json")]) == 2


def _elements(shape: list[int]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


def test_sigterm_hands_the_running_job_back(
    tmp_path: Path, stalled_hub: FakeHubServer, servers: Servers
) -> None:
    """SIGTERM mid-import: a clean shutdown queues the job again, its attempt uncounted."""
    db_url = f"sqlite+aiosqlite:///{tmp_path}/t.db"  # the release itself: tests/importer, both DBs
    env = importer_env(db_url, stalled_hub.url, CAPPLAN_IMPORTER_LEASE_S="300")
    server = servers.start(env).wait_ready()
    with httpx.Client(base_url=server.url, timeout=10) as api:
        start_import_and_wait_mid_download(api, stalled_hub)

    assert server.terminate(timeout_s=20) == TERMINATED
    assert "Application shutdown complete." in server.log

    [job] = stored(db_url, REPO).jobs
    assert (job["status"], job["attempts"], job["lease_owner"]) == ("queued", 0, None)


def test_sigterm_finishes_the_request_in_flight(tmp_path: Path, servers: Servers) -> None:
    """A request still sending its body when SIGTERM arrives is answered, then the process exits.

    ``Expect: 100-continue`` makes the in-flight state observable: the server answers
    ``100 Continue`` once the app reads the body, so the signal lands mid-request, not before.
    """
    server = servers.start(server_env(f"sqlite+aiosqlite:///{tmp_path}/t.db")).wait_ready()
    body = json.dumps({"model": {"hf_config": TINY_LLAMA_CONFIG}}).encode()
    head = (
        f"POST /v1/inspect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Expect: 100-continue\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(head)
        interim, early = _read_head(sock)
        assert interim.startswith(b"HTTP/1.1 100"), interim
        server.process.send_signal(signal.SIGTERM)
        wait_until(lambda: _refused(server.port), "the listening socket to close")
        sock.sendall(body)
        response = early + _read_all(sock)

    assert response.startswith(b"HTTP/1.1 200"), response[:200]
    assert server.process.wait(20) == TERMINATED


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """One response head (up to the blank line) and whatever arrived after it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _refused(port: int) -> bool:
    """True once nothing accepts connections on ``port`` (shutting down)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)
