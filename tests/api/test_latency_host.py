"""POST /v1/latency on an engine that runs prompt steps eagerly: its host bounds short prompts."""

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


async def test_a_short_prompt_on_sglang_takes_its_host_floor(
    client: AsyncTestClient[Litestar],
) -> None:
    """SGLang launches a prompt step's 32 layers one by one: the prefill is host-bound and
    lasts the profile's 32 × dense-layer time."""
    response = await client.post("/v1/latency", json={**SHORT_PROMPT, "engine": "sglang"})
    assert response.status_code == 200, response.text
    body = response.json()
    floor_ms = 32 * load_engine_profiles().resolve("sglang").eager_prefill.dense_layer_us / 1e3
    assert body["prefill_bound"] == "host"
    assert body["prefill"]["ms"] == pytest.approx(floor_ms)
    assert body["ttft_ms"] >= floor_ms * (1 - 1e-9)


async def test_an_engine_without_host_figures_is_bound_by_its_gpu(
    client: AsyncTestClient[Litestar],
) -> None:
    """The same question on vLLM (no eager-prefill figures) is priced by the GPU alone, below
    SGLang's host floor."""
    response = await client.post("/v1/latency", json={**SHORT_PROMPT, "engine": "vllm"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["prefill_bound"] != "host"
    sglang = load_engine_profiles().resolve("sglang").eager_prefill
    assert body["prefill"]["ms"] < 32 * sglang.dense_layer_us / 1e3
