"""The plan's bottleneck is the decode bound /v1/latency's estimate gives the same layout."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from service.catalog_files import load_engine_profiles
from service.domain.latency import Efficiency, Serving, estimate_latency
from service.domain.planner import SearchSpace, Workload, plan
from service.domain.precision import Precision
from tests.domain.reference import A100_80, H100, L4, arch, params

VLLM_V0 = load_engine_profiles().get("vllm-0.6.4")
GPUS = [msgspec.structs.replace(gpu, price_per_hour_usd=1.0) for gpu in (H100, A100_80, L4)]
QUESTIONS = {
    "dense": ("llama3-8b", Workload(input_tokens=2000, output_tokens=500, concurrency=16), {}),
    "moe": ("mixtral-8x7b", Workload(input_tokens=1000, output_tokens=200, concurrency=64), {}),
    "fp8-kv": (
        "llama3-70b",
        Workload(input_tokens=4000, output_tokens=800, concurrency=200),
        {"space": SearchSpace(kv_cache_dtypes=("auto", "fp8"), max_gpus=32)},
    ),
}


@pytest.mark.parametrize("question", QUESTIONS.values(), ids=QUESTIONS.keys())
def test_the_bottleneck_is_estimate_latencys_decode_bound(
    question: tuple[str, Workload, dict[str, Any]],
) -> None:
    """Every configuration's bottleneck is estimate_latency's decode bound for its layout at
    its batch (the planner computes only that half)."""
    model, workload, options = question
    result = plan(arch(model), params(model), GPUS, workload, profile=VLLM_V0, **options)
    gpus = {gpu.id: gpu for gpu in GPUS}
    assert result.configurations
    for c in result.configurations:
        serving = Serving(
            gpu=gpus[c.gpu],
            tensor_parallel=c.tensor_parallel,
            pipeline_parallel=c.pipeline_parallel,
            weight_precision=Precision(c.weight_dtype),
            kv_precision=Precision(c.kv_cache_dtype),
            expert_parallel=c.expert_parallel,
            attention_data_parallel=c.attention_data_parallel,
        )
        estimate = estimate_latency(
            arch(model),
            params(model),
            serving,
            batch_size=c.batch_per_replica,
            input_tokens=workload.input_tokens,
            output_tokens=workload.output_tokens,
            efficiency=Efficiency(),
        )
        assert c.bottleneck == f"decode {estimate.decode.bound.value}"
