"""An engine that runs prompt steps eagerly: its host bounds short prompts in every answer."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.catalog_files import load_engine_profiles

pytestmark = pytest.mark.anyio

SHORT_PROMPT = {
    "model": "meta-llama/Llama-3.1-8B",
    "gpu": "h100-sxm",
    "batch_size": 1,
    "input_tokens": 64,
    "output_tokens": 16,
}


def sglang_floor_ms() -> float:
    """Llama-3.1-8B's 32 dense layers at the SGLang profile's host time per layer."""
    return 32 * load_engine_profiles().resolve("sglang").eager_prefill.dense_layer_us / 1e3


async def test_a_short_prompt_on_sglang_takes_its_host_floor(
    client: AsyncTestClient[Litestar],
) -> None:
    """On SGLang a 64-token prefill is host-bound and lasts the profile's 32-layer floor."""
    response = await client.post("/v1/latency", json={**SHORT_PROMPT, "engine": "sglang"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["prefill_bound"] == "host"
    assert body["prefill"]["ms"] == pytest.approx(sglang_floor_ms())
    assert body["ttft_ms"] >= sglang_floor_ms() * (1 - 1e-9)


async def test_an_engine_without_host_figures_is_bound_by_its_gpu(
    client: AsyncTestClient[Litestar],
) -> None:
    """On vLLM (no eager-prefill figures) the prefill is its GPU parts, none of them host."""
    response = await client.post("/v1/latency", json={**SHORT_PROMPT, "engine": "vllm"})
    assert response.status_code == 200, response.text
    prefill = response.json()["prefill"]
    assert prefill["bound"] != "host"
    parts = ("compute_ms", "memory_ms", "communication_ms", "overhead_ms")
    assert prefill["ms"] <= sum(prefill[part] for part in parts)


async def test_a_plan_on_sglang_prices_its_short_prompts_at_the_floor(
    client: AsyncTestClient[Litestar],
) -> None:
    """Every /v1/plan configuration on SGLang has a TTFT of at least the host floor."""
    question = {
        "model": "meta-llama/Llama-3.1-8B",
        "workload": {"input_tokens": 64, "output_tokens": 16, "concurrency": 1},
        "constraints": {"gpus": ["h100-sxm"]},
        "engine": "sglang",
    }
    response = await client.post("/v1/plan", json=question)
    assert response.status_code == 200, response.text
    configurations = response.json()["configurations"]
    assert configurations
    for configuration in configurations:
        assert configuration["ttft_ms"] >= sglang_floor_ms() * (1 - 1e-9), configuration
