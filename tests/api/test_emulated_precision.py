"""Weights in a format the chip has no tensor cores for, but a weight-only kernel: an answer
with the emulation cost stated, on every endpoint; a format with no kernel is refused."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

pytestmark = pytest.mark.anyio

LLAMA_8B = "meta-llama/Llama-3.1-8B"
EMULATED = "dequantised in the kernel"


async def post(client: AsyncTestClient[Litestar], path: str, body: dict[str, Any]) -> Any:
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def latency_body(gpu: str) -> dict[str, Any]:
    return {
        "model": LLAMA_8B,
        "gpu": gpu,
        "batch_size": 8,
        "input_tokens": 1000,
        "output_tokens": 200,
        "weight_dtype": "fp8",
        "kv_cache_dtype": "fp16" if gpu == "v100-sxm-32gb" else "auto",
    }


def plan_body(gpu: str) -> dict[str, Any]:
    return {
        "model": LLAMA_8B,
        "workload": {"input_tokens": 1000, "output_tokens": 200, "concurrency": 4},
        "constraints": {
            "gpus": [gpu],
            "max_gpus": 8,
            "weight_dtypes": ["fp8"],
            "kv_cache_dtypes": ["fp16" if gpu == "v100-sxm-32gb" else "auto"],
        },
        "limit": 1000,
    }


async def test_fp8_weights_on_a100_fit_in_latency_with_the_emulation_note(
    client: AsyncTestClient[Litestar],
) -> None:
    """fp8 on an A100 runs weight-only (bf16 maths): fits, no reasons, the cost in a note."""
    body = await post(client, "/v1/latency", latency_body("a100-sxm-80gb"))
    assert (body["fits"], body["reasons"]) == (True, [])
    assert EMULATED in body["weight_execution"]
    assert "312" in body["weight_execution"]


async def test_fp8_weights_on_a100_are_planned_with_the_emulation_note(
    client: AsyncTestClient[Litestar],
) -> None:
    """/v1/plan restricted to A100 + fp8 lists configurations, each stating the emulation."""
    body = await post(client, "/v1/plan", plan_body("a100-sxm-80gb"))
    assert body["configurations"]
    assert all(EMULATED in c["weight_execution"] for c in body["configurations"])
    assert EMULATED not in str(body["rejections"])


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/max-batch", {"model": LLAMA_8B, "gpu": "a100-sxm-80gb", "context_length": 1200}),
        (
            "/v1/frontier",
            {"model": LLAMA_8B, "gpu": "a100-sxm-80gb", "input_tokens": 1000, "output_tokens": 200},
        ),
    ],
    ids=["max-batch", "frontier"],
)
async def test_fp8_weights_on_a100_fit_on_the_capacity_endpoints(
    client: AsyncTestClient[Litestar], path: str, body: dict[str, Any]
) -> None:
    """max-batch and frontier agree with latency and plan: fp8 on an A100 fits."""
    answer = await post(client, path, body | {"weight_dtype": "fp8"})
    assert answer["fits"] is True


async def test_fp8_weights_without_a_kernel_are_refused_in_latency(
    client: AsyncTestClient[Litestar],
) -> None:
    """A V100 (sm70) has no fp8 weight-only kernel: fits false, the reason says so."""
    body = await post(client, "/v1/latency", latency_body("v100-sxm-32gb"))
    assert body["fits"] is False
    assert any("no fp8 kernel for compute capability 7.0" in r for r in body["reasons"])


async def test_fp8_weights_without_a_kernel_are_refused_in_plan(
    client: AsyncTestClient[Litestar],
) -> None:
    """/v1/plan on a V100 with fp8 weights lists nothing and names the missing kernel."""
    body = await post(client, "/v1/plan", plan_body("v100-sxm-32gb"))
    assert body["configurations"] == []
    assert "no fp8 kernel for compute capability 7.0" in str(body["rejections"])
