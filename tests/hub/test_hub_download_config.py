"""HfHubClient.download_config against the loopback fake Hub."""

from __future__ import annotations

import json

import pytest

from service.hub.client import (
    ConfigNotFound,
    GatedRepo,
    HfHubClient,
    MalformedConfig,
    RevisionNotFound,
)
from tests.fakehub import FakeHubServer
from tests.hub.conftest import LLAMA_CONFIG

SHA = "b" * 40


def test_returns_the_raw_bytes(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """The file comes back byte for byte, formatting included."""
    raw = json.dumps(LLAMA_CONFIG, indent=2).encode()
    fake_hub.hub.add_model("org/llama", raw, sha=SHA)

    assert client.download_config("org/llama", SHA) == raw


def test_reads_the_file_at_the_given_commit(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """The request resolves config.json at the sha, not at main."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG, sha=SHA)

    client.download_config("org/llama", SHA)

    assert [r.path for r in fake_hub.hub.requests] == [f"/org/llama/resolve/{SHA}/config.json"]


def test_unknown_commit(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """A sha the repository lacks raises RevisionNotFound."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG, sha=SHA)

    with pytest.raises(RevisionNotFound):
        client.download_config("org/llama", "c" * 40)


def test_no_config_file(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """A repository without config.json raises ConfigNotFound."""
    fake_hub.hub.add_model("org/gguf-only", None, sha=SHA)

    with pytest.raises(ConfigNotFound, match=r"no config\.json"):
        client.download_config("org/gguf-only", SHA)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(b"{not json", "not JSON", id="syntax-error"),
        pytest.param(b"\xff\xfe\x00", "not JSON", id="not-utf8"),
        pytest.param(b"[1, 2]", "got list", id="array"),
        pytest.param(b'"llama"', "got str", id="string"),
    ],
)
def test_malformed_config(
    client: HfHubClient, fake_hub: FakeHubServer, raw: bytes, reason: str
) -> None:
    """A config.json that is not a JSON object raises MalformedConfig."""
    fake_hub.hub.add_model("org/broken", raw, sha=SHA)

    with pytest.raises(MalformedConfig, match=reason):
        client.download_config("org/broken", SHA)


def test_gated_without_token(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """Files of a gated repository need a token: GatedRepo says so."""
    fake_hub.hub.add_model("org/gated", LLAMA_CONFIG, sha=SHA, gated="manual")

    with pytest.raises(GatedRepo, match="set HF_TOKEN with access"):
        client.download_config("org/gated", SHA)


def test_gated_with_a_token_lacking_access(fake_hub: FakeHubServer) -> None:
    """A token that was not granted access also raises GatedRepo (403)."""
    fake_hub.hub.add_model("org/gated", LLAMA_CONFIG, sha=SHA, gated="manual")
    client = HfHubClient(fake_hub.url, token="hf_other", timeout_s=5.0)

    with pytest.raises(GatedRepo):
        client.download_config("org/gated", SHA)


def test_gated_with_an_authorized_token(fake_hub: FakeHubServer) -> None:
    """A token with access downloads the file and is sent as a bearer token."""
    fake_hub.hub.add_model(
        "org/gated", LLAMA_CONFIG, sha=SHA, gated="auto", authorized_tokens=["hf_ok"]
    )
    client = HfHubClient(fake_hub.url, token="hf_ok", timeout_s=5.0)

    assert json.loads(client.download_config("org/gated", SHA)) == LLAMA_CONFIG
    assert fake_hub.hub.requests[0].headers["authorization"] == "Bearer hf_ok"


def test_no_token_sends_no_credentials(
    client: HfHubClient, fake_hub: FakeHubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """token=None never falls back to HF_TOKEN or a cached login."""
    monkeypatch.setenv("HF_TOKEN", "hf_from_the_environment")
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG, sha=SHA)

    client.download_config("org/llama", SHA)

    assert "authorization" not in fake_hub.hub.requests[0].headers
