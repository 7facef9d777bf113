"""POST /v1/latency with a weight format the chip has no kernel for: an answer that says so."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

pytestmark = pytest.mark.anyio


async def test_a_format_without_a_kernel_is_flagged_with_the_reason(
    client: AsyncTestClient[Litestar],
) -> None:
    """MXFP4 weights on a T4 (compute capability 7.5, below the sm80 weight-only kernels):
    200, fits false, and the reason names the missing kernel rather than a silent 16-bit price."""
    response = await client.post(
        "/v1/latency",
        json={
            "model": "meta-llama/Llama-3.2-1B",
            "gpu": "t4",
            "batch_size": 1,
            "input_tokens": 500,
            "output_tokens": 50,
            "weight_dtype": "mxfp4",
            "kv_cache_dtype": "fp16",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fits"] is False
    assert any("no mxfp4 kernel for compute capability 7.5" in r for r in body["reasons"])


async def test_mxfp4_prefill_on_blackwell_follows_the_engines_activations(
    client: AsyncTestClient[Litestar],
) -> None:
    """MXFP4 weights on a B200: TensorRT-LLM multiplies with 8-bit activations (W4A8), vLLM
    keeps bf16 (W4A16), so vLLM's prefill compute takes twice as long; decode reads the same
    4-bit weights either way."""

    async def latency(engine: str) -> tuple[float, float]:
        response = await client.post(
            "/v1/latency",
            json={
                "model": "meta-llama/Llama-3.1-8B",
                "gpu": "b200",
                "batch_size": 1,
                "input_tokens": 8000,
                "output_tokens": 50,
                "weight_dtype": "mxfp4",
                "kv_cache_dtype": "bf16",
                "engine": engine,
            },
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return float(body["prefill"]["compute_ms"]), float(body["tpot_ms"])

    (w4a8_prefill, w4a8_tpot), (w4a16_prefill, w4a16_tpot) = (
        await latency("trtllm"),
        await latency("vllm"),
    )
    assert w4a16_prefill > 1.5 * w4a8_prefill
    assert w4a16_tpot == pytest.approx(w4a8_tpot, rel=0.2)
