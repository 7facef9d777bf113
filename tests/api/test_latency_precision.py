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
