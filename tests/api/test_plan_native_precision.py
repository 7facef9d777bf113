"""/v1/plan tries fp8 (and nvfp4) weights by default where the GPU runs them natively."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

pytestmark = pytest.mark.anyio

WORKLOAD = {"input_tokens": 1000, "output_tokens": 200, "concurrency": 4}


def plan_body(model: str, gpus: list[str], **constraints: Any) -> dict[str, Any]:
    return {
        "model": model,
        "workload": WORKLOAD,
        "constraints": {"gpus": gpus, "max_gpus": 8, **constraints},
        "limit": 1000,
    }


async def test_405b_gets_fp8_on_one_h100_node(client: AsyncTestClient[Litestar]) -> None:
    """810 GB of bf16 weights need more than 8x80 GB; fp8 fits one node, found by default."""
    body = plan_body("meta-llama/Llama-3.1-405B", ["h100-sxm"])
    found = (await client.post("/v1/plan", json=body)).json()["configurations"]
    assert {c["weight_dtype"] for c in found} == {"fp8"}


async def test_no_fp8_where_the_gpu_lacks_fp8_tensor_cores(
    client: AsyncTestClient[Litestar],
) -> None:
    """An A100 has no fp8 tensor cores: only the checkpoint's 16-bit format is planned."""
    body = plan_body("meta-llama/Llama-3.1-8B", ["a100-sxm-80gb"])
    found = (await client.post("/v1/plan", json=body)).json()["configurations"]
    assert found
    assert {c["weight_dtype"] for c in found} == {"bf16"}


async def test_listing_bf16_searches_16_bit_only(client: AsyncTestClient[Litestar]) -> None:
    """Naming the format (not ``auto``) is the way to keep the search to it."""
    body = plan_body("meta-llama/Llama-3.1-8B", ["h100-sxm"], weight_dtypes=["bf16"])
    found = (await client.post("/v1/plan", json=body)).json()["configurations"]
    assert {c["weight_dtype"] for c in found} == {"bf16"}


async def test_auto_adds_fp8_beside_bf16_on_h100(client: AsyncTestClient[Litestar]) -> None:
    """A model that fits in bf16 is offered both, ranked together."""
    body = plan_body("meta-llama/Llama-3.1-8B", ["h100-sxm"])
    found = (await client.post("/v1/plan", json=body)).json()["configurations"]
    assert {c["weight_dtype"] for c in found} >= {"bf16", "fp8"}
