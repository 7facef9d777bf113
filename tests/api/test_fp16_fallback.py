"""A bf16 checkpoint on a GPU without bf16 (T4, V100): served in fp16, as vLLM's --dtype auto
serves it, on every endpoint; bf16 asked for there is refused with the reason."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

pytestmark = pytest.mark.anyio

LLAMA_1B = "meta-llama/Llama-3.2-1B"
WORKLOAD = {"input_tokens": 1000, "output_tokens": 200, "concurrency": 4}
CAST = "bf16 checkpoint served in fp16"
NO_BF16 = ["t4", "v100-sxm-32gb"]


async def post(client: AsyncTestClient[Litestar], path: str, body: dict[str, Any]) -> Any:
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def plan_body(gpu: str, **constraints: Any) -> dict[str, Any]:
    return {
        "model": LLAMA_1B,
        "workload": WORKLOAD,
        "constraints": {"gpus": [gpu], "max_gpus": 1, **constraints},
        "limit": 1000,
    }


def question(path: str, gpu: str, **fields: Any) -> dict[str, Any]:
    """The smallest body of a single-deployment question on ``gpu``."""
    body: dict[str, Any] = {"model": LLAMA_1B, "gpu": gpu, **fields}
    if path == "/v1/max-batch":
        return {**body, "context_length": 1200}
    shape = {"input_tokens": 1000, "output_tokens": 200}
    return {**body, **shape, "batch_size": 1} if path == "/v1/latency" else {**body, **shape}


@pytest.mark.parametrize("gpu", NO_BF16, ids=["t4", "v100"])
async def test_plan_serves_a_bf16_checkpoint_in_fp16_with_the_note(
    client: AsyncTestClient[Litestar], gpu: str
) -> None:
    """Llama-3.2-1B (bf16) is planned in fp16 weights and KV, each configuration saying why."""
    found = (await post(client, "/v1/plan", plan_body(gpu)))["configurations"]
    assert found
    assert {(c["gpu"], c["weight_dtype"], c["kv_cache_dtype"]) for c in found} == {
        (gpu, "fp16", "fp16")
    }
    assert all(c["weight_execution"].startswith(CAST) for c in found)


async def test_plan_refuses_bf16_asked_for_on_a_t4_with_the_reason(
    client: AsyncTestClient[Litestar],
) -> None:
    """weight_dtypes ["bf16"] on a T4: no configuration, a rejection naming bf16 and fp16."""
    request = {**plan_body("t4", weight_dtypes=["bf16"]), "include_rejected": "all"}
    body = await post(client, "/v1/plan", request)
    assert body["configurations"] == []
    reasons = [r["reason"] for r in body["rejected"]]
    assert reasons
    assert all("has no bf16 support for weights" in r and "fp16" in r for r in reasons)


async def test_latency_refuses_bf16_asked_for_on_a_t4_with_the_reason(
    client: AsyncTestClient[Litestar],
) -> None:
    """/v1/latency with bf16 weights on a T4: fits false and the reason."""
    body = await post(client, "/v1/latency", question("/v1/latency", "t4", weight_dtype="bf16"))
    assert body["fits"] is False
    assert any("has no bf16 support for weights" in r for r in body["reasons"])


@pytest.mark.parametrize("path", ["/v1/max-batch", "/v1/latency", "/v1/frontier"])
@pytest.mark.parametrize("weight_dtype", ["auto", "fp16"])
async def test_kv_auto_on_a_t4_is_fp16(
    client: AsyncTestClient[Litestar], path: str, weight_dtype: str
) -> None:
    """KV auto follows the model dtype: fp16 on a T4, with auto or fp16 weights."""
    body = await post(client, path, question(path, "t4", weight_dtype=weight_dtype))
    assert (body["weight_dtype"], body["kv_cache_dtype"]) == ("fp16", "fp16")


async def test_latency_on_a_t4_says_why_auto_weights_are_fp16(
    client: AsyncTestClient[Litestar],
) -> None:
    """/v1/latency with auto weights on a T4 fits, and weight_execution carries the note."""
    body = await post(client, "/v1/latency", question("/v1/latency", "t4"))
    assert body["fits"] is True
    assert body["weight_execution"].startswith(CAST)


@pytest.mark.parametrize("gpu", ["h100-sxm", "a100-sxm-80gb", "l4"], ids=["h100", "a100", "l4"])
async def test_a_bf16_gpu_plans_the_bf16_checkpoint_unchanged(
    client: AsyncTestClient[Litestar], gpu: str
) -> None:
    """On a GPU with bf16 the checkpoint's 16-bit configurations stay bf16, with no cast note."""
    found = (await post(client, "/v1/plan", plan_body(gpu)))["configurations"]
    sixteen_bit = [c for c in found if c["weight_dtype"] in ("bf16", "fp16")]
    assert sixteen_bit
    assert {(c["weight_dtype"], c["kv_cache_dtype"]) for c in sixteen_bit} == {("bf16", "bf16")}
    assert not any(CAST in c["weight_execution"] for c in found)
