"""POST /v1/latency: TTFT, TPOT and throughput at a batch size, flagged when it cannot run."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import assert_problem, catalog_gpu, error_keys, reference_model

pytestmark = pytest.mark.anyio

LLAMA_8B = "meta-llama/Llama-3.1-8B"
LLAMA_70B = "meta-llama/Llama-3.1-70B"


def request(**overrides: Any) -> dict[str, Any]:
    body = {
        "model": LLAMA_8B,
        "gpu": "h100-sxm",
        "batch_size": 1,
        "input_tokens": 1000,
        "output_tokens": 100,
    }
    return {**body, **overrides}


async def test_decode_is_no_faster_than_reading_the_weights(
    client: AsyncTestClient[Litestar],
) -> None:
    """Each decode step reads all 16.06 GB of bf16 weights: TPOT >= weights / HBM bandwidth."""
    response = await client.post("/v1/latency", json=request())
    assert response.status_code == 200, response.text
    body = response.json()
    weights = 2 * reference_model(LLAMA_8B)["total_params"]
    floor_ms = weights / catalog_gpu("h100-sxm")["memory_bandwidth_bytes_per_s"] * 1e3
    assert floor_ms == pytest.approx(4.79, abs=0.01)
    assert body["fits"] is True
    assert body["reasons"] == []
    assert body["tpot_ms"] >= floor_ms
    assert body["decode_bound"] == "memory_bandwidth"
    assert body["e2e_ms"] >= body["ttft_ms"] + 99 * floor_ms


async def test_70b_bf16_on_one_l4_is_flagged_as_not_fitting(
    client: AsyncTestClient[Litestar],
) -> None:
    """Latency of a deployment that cannot hold the weights: 200, fits=false, the GB figures."""
    response = await client.post(
        "/v1/latency", json=request(model=LLAMA_70B, gpu="l4", weight_dtype="bf16")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fits"] is False
    weights_gb = f"{2 * reference_model(LLAMA_70B)['total_params'] / 1e9:.1f} GB"
    assert weights_gb == "141.1 GB"
    assert weights_gb in " ".join(body["reasons"])


async def test_batch_beyond_the_kv_cache_is_flagged(client: AsyncTestClient[Litestar]) -> None:
    """65,536 sequences of 1,100 tokens need 9.4 TB of KV cache: fits=false, saying why."""
    response = await client.post("/v1/latency", json=request(batch_size=65_536))
    assert response.status_code == 200, response.text
    body = response.json()
    assert catalog_gpu("h100-sxm")["memory_bytes"] < 65_536 * 1_100 * 131_072
    assert body["fits"] is False
    assert "batch_size 65536" in " ".join(body["reasons"])


async def test_unknown_gpu_is_404_problem(client: AsyncTestClient[Litestar]) -> None:
    """A GPU id that is not in the catalog is a 404 problem naming it."""
    response = await client.post("/v1/latency", json=request(gpu="h100-sxm-typo"))
    problem = assert_problem(response, 404)
    assert "h100-sxm-typo" in problem["detail"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"output_tokens": -5}, "output_tokens"),
        ({"input_tokens": 10_000_001}, "input_tokens"),
        ({"pipeline_parallel": 65}, "pipeline_parallel"),
    ],
    ids=["zero-batch", "negative-output", "input-above-limit", "pp-above-limit"],
)
async def test_malformed_body_is_400_naming_the_field(
    client: AsyncTestClient[Litestar], overrides: dict[str, Any], field: str
) -> None:
    """Out-of-range fields are 400 problems whose errors name the field."""
    response = await client.post("/v1/latency", json=request(**overrides))
    problem = assert_problem(response, 400)
    assert field in error_keys(problem), problem


async def test_mamba_is_422_naming_the_feature(client: AsyncTestClient[Litestar]) -> None:
    """An inline state-space config is 422 naming Mamba, as on every planning endpoint."""
    config = {"model_type": "mamba", "hidden_size": 2560, "num_hidden_layers": 64}
    response = await client.post("/v1/latency", json=request(model={"hf_config": config}))
    problem = assert_problem(response, 422)
    assert "mamba" in problem["detail"].lower()


async def test_a_batch_beyond_the_engines_default_max_num_seqs_is_flagged(
    client: AsyncTestClient[Litestar],
) -> None:
    """2,000 sequences of 110 tokens fit an H100's KV cache, but vLLM runs 1024 at once there."""
    response = await client.post(
        "/v1/latency", json=request(batch_size=2000, input_tokens=100, output_tokens=10)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fits"] is False
    assert "exceeds the 1024 sequences vllm runs at once" in " ".join(body["reasons"])


async def test_the_step_budget_asked_for_schedules_the_prompt(
    client: AsyncTestClient[Litestar],
) -> None:
    """A 16,000-token prompt on an H100 (vLLM default 8,192 tokens a step): with
    max_num_batched_tokens 16,384 it is prefilled in one step, so its TTFT is shorter."""
    shape = {"input_tokens": 16_000, "output_tokens": 16}
    default = (await client.post("/v1/latency", json=request(**shape))).json()
    wider = await client.post("/v1/latency", json=request(**shape, max_num_batched_tokens=16_384))
    assert wider.status_code == 200, wider.text
    assert wider.json()["ttft_ms"] < default["ttft_ms"]


async def test_a_max_num_seqs_asked_for_lifts_the_engines_default_cap(
    client: AsyncTestClient[Litestar],
) -> None:
    """2,000 short sequences on an H100 exceed vLLM's default 1,024; with max_num_seqs 2,048
    (as the engine would be started) they all run at once."""
    shape = {"batch_size": 2000, "input_tokens": 100, "output_tokens": 10}
    response = await client.post("/v1/latency", json=request(**shape, max_num_seqs=2048))
    assert response.status_code == 200, response.text
    assert (response.json()["fits"], response.json()["reasons"]) == (True, [])
