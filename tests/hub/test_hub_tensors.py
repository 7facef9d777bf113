"""HfHubClient.safetensors_tensors: every tensor's dtype and shape, read from the headers."""

from __future__ import annotations

from service.hub.client import HfHubClient
from tests.fakehub import FakeHubServer
from tests.hub.conftest import LLAMA_CONFIG, LLAMA_TENSORS

SHA = "e" * 40


def _as_listed(client: HfHubClient, repo: str) -> dict[str, tuple[str, list[int]]] | None:
    tensors = client.safetensors_tensors(repo, SHA)
    if tensors is None:
        return None
    return {t.name: (t.dtype, list(t.shape)) for t in tensors}


def test_single_file_header_lists_every_tensor(
    client: HfHubClient, fake_hub: FakeHubServer
) -> None:
    """model.safetensors' header gives each tensor's dtype and shape."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG, sha=SHA, safetensors=LLAMA_TENSORS)

    assert _as_listed(client, "org/llama") == {
        k: (d, list(s)) for k, (d, s) in LLAMA_TENSORS.items()
    }


def test_headers_are_read_even_when_the_hub_has_counts(
    client: HfHubClient, fake_hub: FakeHubServer
) -> None:
    """Counts say nothing of shapes: the header is fetched with a range request."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG, sha=SHA, safetensors=LLAMA_TENSORS)

    client.safetensors_tensors("org/llama", SHA)

    [request] = fake_hub.hub.requests_to(f"/org/llama/resolve/{SHA}/model.safetensors")
    assert request.headers["range"].startswith("bytes=0-")


def test_sharded_checkpoints_are_read_shard_by_shard(
    client: HfHubClient, fake_hub: FakeHubServer
) -> None:
    """Every shard named by the index contributes its tensors, once."""
    fake_hub.hub.add_model("org/big", LLAMA_CONFIG, sha=SHA, safetensors=LLAMA_TENSORS, shards=3)

    assert _as_listed(client, "org/big") == {k: (d, list(s)) for k, (d, s) in LLAMA_TENSORS.items()}


def test_no_safetensors_gives_none(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """A repository without safetensors files has no header to read."""
    fake_hub.hub.add_model("org/bin", LLAMA_CONFIG, sha=SHA)

    assert client.safetensors_tensors("org/bin", SHA) is None


def test_sub_byte_dtypes_are_listed_as_stored(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """An NVFP4 checkpoint written with safetensors' F4 dtype and F8_E4M3 block scales."""
    tensors = {
        "model.layers.0.mlp.down_proj.weight": ("F4", [64, 128]),
        "model.layers.0.mlp.down_proj.weight_scale": ("F8_E4M3", [64, 8]),
        "model.layers.0.mlp.down_proj.weight_scale_2": ("F32", []),
    }
    fake_hub.hub.add_model("org/nvfp4", LLAMA_CONFIG, sha=SHA, safetensors=tensors)

    assert _as_listed(client, "org/nvfp4") == {k: (d, list(s)) for k, (d, s) in tensors.items()}
