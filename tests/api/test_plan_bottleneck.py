"""A plan's bottleneck is /v1/latency's decode bound for the same layout and users."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

pytestmark = pytest.mark.anyio

QUESTIONS = {
    "dense": {
        "model": "meta-llama/Llama-3.1-8B",
        "workload": {"input_tokens": 2000, "output_tokens": 500, "concurrency": 64},
        "constraints": {"gpus": ["h100-sxm", "l4", "a100-sxm-80gb"]},
    },
    "moe": {
        "model": "Qwen/Qwen3-30B-A3B",
        "workload": {"input_tokens": 1000, "output_tokens": 200, "concurrency": 256},
        "constraints": {"gpus": ["h100-sxm", "l40s"]},
    },
}


@pytest.mark.parametrize("question", QUESTIONS.values(), ids=QUESTIONS.keys())
async def test_the_bottleneck_is_the_latency_answers_decode_bound(
    client: AsyncTestClient[Litestar], question: dict[str, Any]
) -> None:
    """Every configuration's bottleneck is what /v1/latency says bounds its decode step at
    batch_per_replica users: the steady decode batch, not the users counted as decoding."""
    response = await client.post("/v1/plan", json=question)
    assert response.status_code == 200, response.text
    configurations = response.json()["configurations"]
    assert configurations
    workload = question["workload"]
    for c in configurations:
        layout = {
            key: c[key]
            for key in (
                "gpu",
                "tensor_parallel",
                "pipeline_parallel",
                "weight_dtype",
                "kv_cache_dtype",
                "expert_parallel",
                "attention_data_parallel",
            )
        }
        latency = await client.post(
            "/v1/latency",
            json={
                "model": question["model"],
                **layout,
                "batch_size": c["batch_per_replica"],
                "input_tokens": workload["input_tokens"],
                "output_tokens": workload["output_tokens"],
            },
        )
        assert latency.status_code == 200, latency.text
        assert c["bottleneck"] == f"decode {latency.json()['decode_bound']}", c
