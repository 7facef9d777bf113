"""How Hub failures map to HubError: transient vs permanent, each call tried once."""

from __future__ import annotations

import socket
from collections.abc import Callable

import huggingface_hub
import pytest

from service.hub.client import HfHubClient, HubError, TransientHubError
from tests.fakehub import FakeHubServer
from tests.hub.conftest import LLAMA_CONFIG

SHA = "e" * 40


@pytest.fixture
def llama(fake_hub: FakeHubServer) -> FakeHubServer:
    """The fake Hub with org/llama at SHA."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG, sha=SHA)
    return fake_hub


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_status_is_transient(client: HfHubClient, llama: FakeHubServer, status: int) -> None:
    """429 and 5xx answers raise a non-permanent TransientHubError."""
    llama.hub.fail_next("/api/models/org/llama", status)

    with pytest.raises(TransientHubError, match=str(status)) as caught:
        client.model_info("org/llama", None)
    assert not caught.value.permanent


def test_rate_limit_carries_retry_after(client: HfHubClient, llama: FakeHubServer) -> None:
    """A 429 with Retry-After tells the caller how long to wait."""
    llama.hub.fail_next("/api/models/org/llama", 429, headers={"Retry-After": "7"})

    with pytest.raises(TransientHubError) as caught:
        client.model_info("org/llama", None)
    assert caught.value.retry_after_s == 7.0


def test_rate_limit_header_carries_reset_time(client: HfHubClient, llama: FakeHubServer) -> None:
    """The Hub's RateLimit header (r=0;t=55) gives the wait when Retry-After is absent."""
    llama.hub.fail_next("/api/models/org/llama", 429, headers={"RateLimit": '"api";r=0;t=55'})

    with pytest.raises(TransientHubError) as caught:
        client.model_info("org/llama", None)
    assert caught.value.retry_after_s == 55.0


def test_server_error_has_no_retry_after(client: HfHubClient, llama: FakeHubServer) -> None:
    """A bare 500 leaves the wait to the caller's backoff."""
    llama.hub.fail_next("/api/models/org/llama", 500)

    with pytest.raises(TransientHubError) as caught:
        client.model_info("org/llama", None)
    assert caught.value.retry_after_s is None


@pytest.mark.parametrize(
    ("call", "prefix"),
    [
        pytest.param(lambda c: c.model_info("org/llama", None), "/api/models/org", id="info"),
        pytest.param(lambda c: c.download_config("org/llama", SHA), "/org/llama", id="config"),
        pytest.param(lambda c: c.list_new_models("org", None, 5), "/api/models", id="list"),
    ],
)
def test_failures_are_not_retried_inside(
    client: HfHubClient,
    llama: FakeHubServer,
    call: Callable[[HfHubClient], object],
    prefix: str,
) -> None:
    """Each call makes exactly one request on a 503; retrying is the caller's job."""
    llama.hub.fail_next(prefix, 503, headers={"Retry-After": "1"})

    with pytest.raises(TransientHubError):
        call(client)
    assert len(llama.hub.requests) == 1


def test_timeout_is_transient(llama: FakeHubServer) -> None:
    """A Hub slower than timeout_s raises TransientHubError instead of hanging."""
    llama.hub.stall_next("/api/models/org/llama", seconds=5.0)
    client = HfHubClient(llama.url, token=None, timeout_s=0.2)

    with pytest.raises(TransientHubError, match="did not answer in time"):
        client.model_info("org/llama", None)


def test_timeout_applies_to_downloads(llama: FakeHubServer) -> None:
    """config.json downloads are bounded by the same timeout."""
    llama.hub.stall_next("/org/llama/resolve", seconds=5.0)
    client = HfHubClient(llama.url, token=None, timeout_s=0.2)

    with pytest.raises(TransientHubError, match="did not answer in time"):
        client.download_config("org/llama", SHA)


@pytest.mark.usefixtures("fake_hub")  # online mode, even under a CI HF_HUB_OFFLINE=1
def test_connection_refused_is_transient() -> None:
    """Nothing listening at the endpoint raises TransientHubError."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = HfHubClient(f"http://127.0.0.1:{port}", token=None, timeout_s=1.0)

    with pytest.raises(TransientHubError, match="cannot reach the Hub"):
        client.model_info("org/llama", None)


def test_rejected_token_is_permanent(llama: FakeHubServer) -> None:
    """A 401 for invalid credentials says to fix HF_TOKEN, and is not RepoNotFound."""
    message = "Invalid credentials in Authorization header"
    llama.hub.fail_next("/api/models/org/llama", 401, headers={"X-Error-Message": message})
    client = HfHubClient(llama.url, token="hf_revoked", timeout_s=5.0)

    with pytest.raises(HubError, match="rejected HF_TOKEN") as caught:
        client.model_info("org/llama", None)
    assert type(caught.value) is HubError
    assert caught.value.permanent


def test_offline_mode_is_permanent(
    client: HfHubClient, llama: FakeHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HF_HUB_OFFLINE makes every call fail with a HubError naming the variable."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)

    with pytest.raises(HubError, match="HF_HUB_OFFLINE") as caught:
        client.model_info("org/llama", None)
    assert caught.value.permanent


def test_timeout_must_be_positive() -> None:
    """An unbounded or zero timeout is refused when the client is built."""
    with pytest.raises(ValueError, match="timeout_s"):
        HfHubClient("http://127.0.0.1:1", token=None, timeout_s=0)


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        pytest.param(403, "Not allowed", "answered 403: Not allowed", id="forbidden"),
        pytest.param(400, "Bad expand", "answered 400", id="bad-request"),
        pytest.param(403, "Access to this resource is disabled.", "disabled", id="disabled"),
    ],
)
def test_other_client_errors_are_permanent(
    client: HfHubClient, llama: FakeHubServer, status: int, message: str, expected: str
) -> None:
    """4xx answers without a Hub error code are permanent and keep the server's message."""
    llama.hub.fail_next("/api/models/org/llama", status, headers={"X-Error-Message": message})

    with pytest.raises(HubError, match=expected) as caught:
        client.model_info("org/llama", None)
    assert caught.value.permanent
