"""Fixtures for the Hub adapter tests: the loopback fake Hub and a client pointed at it."""

from __future__ import annotations

import pytest

from service.hub.client import HfHubClient
from tests.fakehub.fixtures import fake_hub, fake_hub_server
from tests.fakehub.server import FakeHubServer

__all__ = ["client", "fake_hub", "fake_hub_server"]

LLAMA_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 1000,
}

LLAMA_TENSORS = {
    "model.embed_tokens.weight": ("BF16", [1000, 64]),
    "model.layers.0.self_attn.q_proj.weight": ("BF16", [64, 64]),
    "model.layers.1.self_attn.q_proj.weight": ("BF16", [64, 64]),
    "model.norm.weight": ("F32", [64]),
}
"""Expected counts: BF16 64000 + 2·4096 = 72192, F32 64."""

LLAMA_COUNTS = {"BF16": 72192, "F32": 64}


@pytest.fixture
def client(fake_hub: FakeHubServer) -> HfHubClient:
    """An anonymous client for the fake Hub with a generous timeout."""
    return HfHubClient(fake_hub.url, token=None, timeout_s=5.0)
