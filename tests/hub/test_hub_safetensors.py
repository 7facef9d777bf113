"""HfHubClient.safetensors_parameter_counts: the Hub's counts, else the file headers."""

from __future__ import annotations

import pytest

from service.hub.client import HfHubClient, HubError
from tests.fakehub import FakeHubServer
from tests.hub.conftest import LLAMA_CONFIG, LLAMA_COUNTS, LLAMA_TENSORS

SHA = "d" * 40


def _resolves(fake_hub: FakeHubServer) -> list[str]:
    return [r.path.rsplit("/", 1)[1] for r in fake_hub.hub.requests if "/resolve/" in r.path]


def test_prefers_the_hub_counts(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """When model_info has counts no file is read."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG, sha=SHA, safetensors=LLAMA_TENSORS)

    assert client.safetensors_parameter_counts("org/llama", SHA) == LLAMA_COUNTS
    assert _resolves(fake_hub) == []


def test_reads_the_single_file_header_with_a_range_request(
    client: HfHubClient, fake_hub: FakeHubServer
) -> None:
    """Without Hub counts the model.safetensors header is fetched with Range: bytes=0-100000."""
    fake_hub.hub.add_model(
        "org/llama", LLAMA_CONFIG, sha=SHA, safetensors=LLAMA_TENSORS, api_safetensors=False
    )

    assert client.safetensors_parameter_counts("org/llama", SHA) == LLAMA_COUNTS
    [request] = fake_hub.hub.requests_to(f"/org/llama/resolve/{SHA}/model.safetensors")
    assert request.headers["range"] == "bytes=0-100000"


def test_reads_a_long_header_with_a_second_range_request(
    client: HfHubClient, fake_hub: FakeHubServer
) -> None:
    """A header over 100 kB is completed by a second ranged GET."""
    tensors = {f"model.layers.{i}.mlp.experts.{i}.weight": ("BF16", [8, 8]) for i in range(3000)}
    fake_hub.hub.add_model(
        "org/moe", LLAMA_CONFIG, sha=SHA, safetensors=tensors, api_safetensors=False
    )

    assert client.safetensors_parameter_counts("org/moe", SHA) == {"BF16": 3000 * 64}
    ranges = [r.headers["range"] for r in fake_hub.hub.requests_to("/org/moe/resolve/")]
    assert ranges[0] == "bytes=0-100000"
    assert ranges[1].startswith("bytes=8-")


def test_sums_every_shard_of_an_index(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """A sharded repository is counted over all shards listed in the index."""
    fake_hub.hub.add_model(
        "org/big", LLAMA_CONFIG, sha=SHA, safetensors=LLAMA_TENSORS, shards=3, api_safetensors=False
    )

    assert client.safetensors_parameter_counts("org/big", SHA) == LLAMA_COUNTS
    assert sorted(_resolves(fake_hub)) == [
        "model-00001-of-00003.safetensors",
        "model-00002-of-00003.safetensors",
        "model-00003-of-00003.safetensors",
        "model.safetensors",
        "model.safetensors.index.json",
    ]


def test_no_safetensors_is_none(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """A repository with neither model.safetensors nor an index has no counts."""
    fake_hub.hub.add_model("org/bin-only", LLAMA_CONFIG, sha=SHA)

    assert client.safetensors_parameter_counts("org/bin-only", SHA) is None


@pytest.mark.parametrize(
    "index",
    [
        pytest.param(b"{", id="not-json"),
        pytest.param(b"{}", id="no-weight-map"),
        pytest.param(b'{"weight_map": {}}', id="empty-weight-map"),
    ],
)
def test_malformed_index(client: HfHubClient, fake_hub: FakeHubServer, index: bytes) -> None:
    """An unreadable model.safetensors.index.json is a permanent HubError."""
    fake_hub.hub.add_model(
        "org/odd", LLAMA_CONFIG, sha=SHA, files={"model.safetensors.index.json": index}
    )

    with pytest.raises(HubError, match=r"model\.safetensors\.index\.json") as caught:
        client.safetensors_parameter_counts("org/odd", SHA)
    assert caught.value.permanent


def test_corrupt_header(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """A safetensors file with a garbage header is a permanent HubError."""
    fake_hub.hub.add_model(
        "org/odd",
        LLAMA_CONFIG,
        sha=SHA,
        files={"model.safetensors": b"\x10" + b"\x00" * 7 + b"x" * 16},
    )

    with pytest.raises(HubError, match="unreadable safetensors header"):
        client.safetensors_parameter_counts("org/odd", SHA)
