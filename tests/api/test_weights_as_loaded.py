"""One source of "weights as loaded": /v1/max-batch and /v1/plan price the same setup alike."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

pytestmark = pytest.mark.anyio

SETUPS = [
    ("meta-llama/Llama-3.1-8B", "h100-sxm", "bf16", "vllm"),
    ("openai/gpt-oss-20b", "h100-sxm", "auto", "vllm"),
    ("openai/gpt-oss-20b", "b200", "auto", "vllm==0.19.0"),
    ("Qwen/Qwen3-8B", "l40s", "fp8", "sglang"),
    ("google/gemma-3-27b-it", "h200-sxm", "bf16", "trtllm"),
    ("meta-llama/Llama-3.1-8B", "a100-sxm-80gb", "bf16", "vllm==0.6.4"),
]


@pytest.mark.parametrize(
    ("model", "gpu", "weight_dtype", "engine"),
    SETUPS,
    ids=["llama-bf16", "gpt-oss-hopper", "gpt-oss-blackwell", "qwen-fp8-sglang",
         "gemma3-trtllm", "llama-v0"],
)  # fmt: skip
async def test_max_batch_and_plan_agree_on_the_memory_split(
    client: AsyncTestClient[Litestar], model: str, gpu: str, weight_dtype: str, engine: str
) -> None:
    """Same model, GPU, layout, dtypes, context and engine: the same weights (RoPE cache and
    kernel-layout padding included) and the same per-GPU split in both answers."""
    fit = await client.post(
        "/v1/max-batch",
        json={
            "model": model,
            "gpu": gpu,
            "context_length": 3000,
            "weight_dtype": weight_dtype,
            "engine": engine,
        },
    )
    plan = await client.post(
        "/v1/plan",
        json={
            "model": model,
            "engine": engine,
            "workload": {"input_tokens": 2000, "output_tokens": 1000, "concurrency": 1},
            "constraints": {"gpus": [gpu], "weight_dtypes": [weight_dtype], "max_gpus": 1},
        },
    )
    assert fit.status_code == plan.status_code == 200, fit.text + plan.text
    (configuration,) = plan.json()["configurations"]
    assert configuration["memory"]["weights"] == fit.json()["memory"]["weights"]
    assert configuration["memory"] == fit.json()["memory"]
