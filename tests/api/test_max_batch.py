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


async def test_tensor_parallel_must_divide_the_heads(client: AsyncTestClient[Litestar]) -> None:
    """TP=3 cannot shard Llama-3.1-8B's 32 attention heads: a 400 saying so."""
    response = await client.post(
        "/v1/max-batch",
        json={"model": LLAMA_8B, "gpu": "h100-sxm", "context_length": 4096, "tensor_parallel": 3},
    )
    problem = assert_problem(response, 400)
    assert "32 attention heads" in problem["detail"]


ENGINE_ANSWERS = [
    ({}, "vllm", "0.21.0"),
    ({"engine": "vllm"}, "vllm", "0.21.0"),
    ({"engine": "vllm==0.19.0"}, "vllm", "0.19.0"),
    ({"engine": "vllm==0.6.4"}, "vllm", "0.6.4"),
    ({"engine": "sglang"}, "sglang", "0.5.3"),
    ({"engine": "trtllm"}, "trtllm", "1.0.0"),
]


@pytest.mark.parametrize(
    ("extra", "engine", "version"),
    ENGINE_ANSWERS,
    ids=["default", "vllm", "vllm-pinned", "vllm-v0", "sglang", "trtllm"],
)
async def test_answer_echoes_the_engine_it_used(
    client: AsyncTestClient[Litestar], extra: dict[str, Any], engine: str, version: str
) -> None:
    """The engine field picks the profile; the answer names engine and version and the
    KV bytes one sequence takes on one GPU."""
    body = {"model": LLAMA_8B, "gpu": "h100-sxm", "context_length": 8192, **extra}
    response = await client.post("/v1/max-batch", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["engine"], answer["engine_version"]) == (engine, version)
    # Llama-3.1-8B: 131,072 B per token; 8,192 tokens fill whole pages in every engine.
    assert answer["kv_cache_bytes_per_sequence"] == 8192 * 131_072


@pytest.mark.parametrize("engine", ["tgi", "vllm==0.7.0", "sglang==9.9"], ids=["name", "v", "s"])
async def test_unknown_engine_is_400_naming_the_field_and_the_known_ones(
    client: AsyncTestClient[Litestar], engine: str
) -> None:
    """An engine or version without a profile is refused with the accepted values."""
    body = {"model": LLAMA_8B, "gpu": "h100-sxm", "context_length": 8192, "engine": engine}
    problem = assert_problem(await client.post("/v1/max-batch", json=body), 400)
    assert "engine" in error_keys(problem)
    assert "vllm==0.19.0" in problem["detail"]
    assert "sglang" in problem["detail"]


async def test_engines_are_listed_with_their_sources(client: AsyncTestClient[Litestar]) -> None:
    """GET /v1/engines: every profile, how to name it, its sources and validation logs."""
    response = await client.get("/v1/engines")
    assert response.status_code == 200, response.text
    listing = response.json()
    by_id = {e["id"]: e for e in listing["engines"]}
    assert listing["default"] == "vllm-0.21.0"
    assert by_id["vllm-0.21.0"]["default"] is True
    assert by_id["vllm-0.19.0"]["request_as"] == "vllm==0.19.0"
    assert by_id["sglang-0.5.3"]["newest_of_engine"] is True
    assert all(e["sources"] for e in listing["engines"])
    assert "vllm-llmdplanner-llama31-8b-tp1-h100" in by_id["vllm-0.19.0"]["validated_against"]
