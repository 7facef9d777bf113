"""POST /v1/max-batch: how many sequences at once, or why none fit."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import assert_problem, catalog_gpu, error_keys, reference_model

pytestmark = pytest.mark.anyio

LLAMA_8B = "meta-llama/Llama-3.1-8B"
LLAMA_70B = "meta-llama/Llama-3.1-70B"


def gb(value: float) -> str:
    """Bytes as the service's messages print them: decimal GB, one decimal."""
    return f"{value / 1e9:.1f} GB"


async def test_8b_on_an_h100_fits_many_sequences(client: AsyncTestClient[Litestar]) -> None:
    """Llama-3.1-8B in bf16 on one H100: 16.06 GB of weights plus vLLM's RoPE cos/sin cache
    (131,072 positions x 128 x 2 B) as loaded, room for a batch of 8k contexts."""
    response = await client.post(
        "/v1/max-batch", json={"model": LLAMA_8B, "gpu": "h100-sxm", "context_length": 8192}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    weights = 2 * reference_model(LLAMA_8B)["total_params"]  # bf16: 2 bytes per parameter
    assert body["fits"] is True
    assert body["memory"]["weights"] == weights + 131_072 * 128 * 2
    assert weights == 16_060_522_496
    assert body["memory"]["total"] == catalog_gpu("h100-sxm")["memory_bytes"]
    # The KV cache left after the weights holds at most (free bytes / 131,072 B/token) tokens.
    free = 0.9 * catalog_gpu("h100-sxm")["memory_bytes"] - weights
    assert 1 <= body["max_batch"] <= free / (131_072 * 8192)
    assert body["kv_cache_tokens"] <= free / 131_072
    assert body["reasons"] == []


async def test_70b_bf16_on_one_l4_is_200_does_not_fit(client: AsyncTestClient[Litestar]) -> None:
    """An infeasible question is an answer: fits=false, batch 0, reasons with the GB figures."""
    response = await client.post(
        "/v1/max-batch",
        json={"model": LLAMA_70B, "gpu": "l4", "context_length": 4096, "weight_dtype": "bf16"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fits"] is False
    assert body["max_batch"] == 0
    weights = 2 * reference_model(LLAMA_70B)["total_params"]
    l4 = catalog_gpu("l4")["memory_bytes"]
    reasons = " ".join(body["reasons"])
    assert gb(weights) == "141.1 GB"
    assert gb(weights) in reasons
    assert gb(0.9 * l4) in reasons
    assert gb(l4) in reasons


async def test_unknown_gpu_is_404_problem(client: AsyncTestClient[Litestar]) -> None:
    """A GPU id that is not in the catalog is a 404 problem naming it."""
    response = await client.post(
        "/v1/max-batch", json={"model": LLAMA_8B, "gpu": "tpu-v9", "context_length": 4096}
    )
    problem = assert_problem(response, 404)
    assert "tpu-v9" in problem["detail"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"context_length": 0}, "context_length"),
        ({"context_length": "4k"}, "context_length"),
        ({"tensor_parallel": 0}, "tensor_parallel"),
        ({"gpu_memory_utilization": 1.5}, "gpu_memory_utilization"),
        ({"weight_dtype": "fp64"}, "weight_dtype"),
    ],
    ids=["zero-context", "string-context", "zero-tp", "utilization-above-1", "unknown-dtype"],
)
async def test_malformed_body_is_400_naming_the_field(
    client: AsyncTestClient[Litestar], overrides: dict[str, Any], field: str
) -> None:
    """Out-of-range or mistyped fields are 400 problems whose errors name the field."""
    body = {"model": LLAMA_8B, "gpu": "h100-sxm", "context_length": 4096, **overrides}
    response = await client.post("/v1/max-batch", json=body)
    problem = assert_problem(response, 400)
    assert field in error_keys(problem), problem


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/v1/max-batch", {"context_length": 4096}),
        ("/v1/frontier", {"input_tokens": 1000, "output_tokens": 100}),
    ],
    ids=["max-batch", "frontier"],
)
async def test_tensor_parallel_must_divide_the_heads(
    client: AsyncTestClient[Litestar], path: str, extra: dict[str, Any]
) -> None:
    """TP=3 cannot shard Llama-3.1-8B's 32 attention heads: a 400 saying so, naming the field."""
    response = await client.post(
        path, json={"model": LLAMA_8B, "gpu": "h100-sxm", "tensor_parallel": 3, **extra}
    )
    problem = assert_problem(response, 400)
    assert "32 attention heads" in problem["detail"]
    assert error_keys(problem) == {"tensor_parallel"}


@pytest.mark.parametrize(
    ("engine", "cap"),
    [("vllm", 1024), ("vllm==0.6.5", 256), ("sglang", 4096), ("trtllm", 2048)],
    ids=["vllm-v1-h100-row", "vllm-v0", "sglang-token-pool", "trtllm"],
)
async def test_the_engines_default_max_num_seqs_caps_max_batch(
    client: AsyncTestClient[Litestar], engine: str, cap: int
) -> None:
    """Llama-3.2-1B at 100 tokens on an H100: the KV cache holds ~19,000 sequences, the
    engine runs its default max_num_seqs of them."""
    body = {"model": "meta-llama/Llama-3.2-1B", "gpu": "h100-sxm", "context_length": 100}
    response = await client.post("/v1/max-batch", json={**body, "engine": engine})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["kv_cache_pool_bytes"] // answer["kv_cache_bytes_per_sequence"] > cap
    assert answer["max_batch"] == cap
    assert answer["binding_constraint"] == "max_num_seqs"
