"""Engine knobs on /v1/max-batch, /v1/latency and /v1/plan: each engine's own, refused for
the others."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.catalog_files import load_engine_profiles
from service.domain.engines.sglang import default_mem_fraction_static
from tests.api.conftest import assert_problem, error_keys

pytestmark = pytest.mark.anyio

LLAMA_8B = "meta-llama/Llama-3.1-8B"
MAX_BATCH = {"model": LLAMA_8B, "gpu": "h100-sxm", "context_length": 8192}
LATENCY = {
    "model": LLAMA_8B,
    "gpu": "h100-sxm",
    "batch_size": 4,
    "input_tokens": 1000,
    "output_tokens": 100,
}
PLAN = {
    "model": LLAMA_8B,
    "workload": {"input_tokens": 1000, "output_tokens": 200, "concurrency": 4},
    "constraints": {"gpus": ["h100-sxm"], "weight_dtypes": ["bf16"], "max_gpus": 1},
}
ROUTES = [("/v1/max-batch", MAX_BATCH), ("/v1/latency", LATENCY), ("/v1/plan", PLAN)]

FOREIGN = [
    ("vllm", "mem_fraction_static", 0.8),
    ("vllm", "kv_cache_free_gpu_mem_fraction", 0.8),
    ("vllm==0.6.4", "kv_cache_memory_bytes", 8 * 2**30),
    ("sglang", "kv_cache_memory_bytes", 8 * 2**30),
    ("sglang", "block_size_tokens", 32),
    ("sglang", "enforce_eager", True),
    ("trtllm", "mem_fraction_static", 0.8),
    ("trtllm", "enforce_eager", True),
    ("vllm", "scheduler_recv_interval", 30),
    ("trtllm", "scheduler_recv_interval", 30),
]


async def _max_batch(client: AsyncTestClient[Litestar], **extra: Any) -> dict[str, Any]:
    response = await client.post("/v1/max-batch", json={**MAX_BATCH, **extra})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


@pytest.mark.parametrize(("path", "body"), ROUTES, ids=["max-batch", "latency", "plan"])
@pytest.mark.parametrize(
    ("engine", "field", "value"), FOREIGN, ids=[f"{e}-{f}" for e, f, _ in FOREIGN]
)
async def test_a_knob_the_engine_lacks_is_400_naming_field_and_engine(
    client: AsyncTestClient[Litestar],
    path: str,
    body: dict[str, Any],
    engine: str,
    field: str,
    value: object,
) -> None:
    """A knob of another engine is refused, naming the field and the engine asked for."""
    response = await client.post(path, json={**body, "engine": engine, field: value})
    problem = assert_problem(response, 400)
    assert error_keys(problem) == {field}
    assert engine.partition("==")[0] in problem["detail"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mem_fraction_static", 0.0),
        ("mem_fraction_static", 1.5),
        ("kv_cache_free_gpu_mem_fraction", 0.0),
        ("kv_cache_memory_bytes", 0),
        ("block_size_tokens", 0),
        ("max_num_batched_tokens", 0),
        ("scheduler_recv_interval", 0),
        ("scheduler_recv_interval", 1001),
    ],
    ids=[
        "fraction-0",
        "fraction-over-1",
        "trt-fraction-0",
        "kv-bytes-0",
        "block-0",
        "tokens-0",
        "recv-interval-0",
        "recv-interval-over-1000",
    ],
)
async def test_knobs_out_of_bounds_are_400(
    client: AsyncTestClient[Litestar], field: str, value: object
) -> None:
    """Bounds are checked before any engine logic."""
    response = await client.post("/v1/max-batch", json={**MAX_BATCH, field: value})
    assert field in error_keys(assert_problem(response, 400))


@pytest.mark.parametrize("fraction", [0.5, 0.7, 0.85], ids=["0.5", "0.7", "0.85"])
async def test_sglang_mem_fraction_static_sizes_what_weights_and_pool_share(
    client: AsyncTestClient[Litestar], fraction: float
) -> None:
    """SGLang: weights + pool = mem_fraction_static of the memory free before loading."""
    answer = await _max_batch(client, engine="sglang", mem_fraction_static=fraction)
    memory = answer["memory"]
    free_before = memory["total"] - memory["non_torch"]
    assert memory["usable"] == int(free_before * fraction)
    assert memory["kv_cache"] == int(free_before * fraction) - memory["weights"]


@pytest.mark.parametrize("tp", [1, 2, 4], ids=["tp1", "tp2", "tp4"])
async def test_sglang_default_fraction_follows_gpu_memory_and_tp(
    client: AsyncTestClient[Litestar], tp: int
) -> None:
    """Unset, mem_fraction_static is SGLang's default for this GPU and TP degree."""
    unset = await _max_batch(client, engine="sglang", tensor_parallel=tp)
    profile = load_engine_profiles().resolve("sglang")
    total = unset["memory"]["total"]
    fraction = default_mem_fraction_static(profile, total, tp, 1)
    explicit = await _max_batch(
        client, engine="sglang", tensor_parallel=tp, mem_fraction_static=fraction
    )
    assert unset["memory"] == explicit["memory"]


@pytest.mark.parametrize("fraction", [0.5, 0.9], ids=["0.5", "0.9"])
async def test_trtllm_fraction_takes_a_share_of_the_free_memory(
    client: AsyncTestClient[Litestar], fraction: float
) -> None:
    """TensorRT-LLM: KV cache = fraction x (total - context - weights - activations)."""
    answer = await _max_batch(client, engine="trtllm", kv_cache_free_gpu_mem_fraction=fraction)
    m = answer["memory"]
    free = m["total"] - m["non_torch"] - m["weights"] - m["activation"]
    assert m["kv_cache"] == int(free * fraction)


@pytest.mark.parametrize(
    "engine", ["vllm==0.6.4", "vllm==0.19.0", "trtllm"], ids=["v0", "v1", "trtllm"]
)
async def test_more_batched_tokens_move_memory_from_kv_cache_to_activations(
    client: AsyncTestClient[Litestar], engine: str
) -> None:
    """A larger max_num_batched_tokens raises the profile-run peak; the KV cache pays it."""
    small = (await _max_batch(client, engine=engine, max_num_batched_tokens=8192))["memory"]
    large = (await _max_batch(client, engine=engine, max_num_batched_tokens=65_536))["memory"]
    assert large["activation"] > small["activation"]
    assert large["kv_cache"] < small["kv_cache"]


@pytest.mark.parametrize("kv_bytes", [2**30, 8 * 2**30], ids=["1GiB", "8GiB"])
async def test_vllm_kv_cache_memory_bytes_replaces_the_budget(
    client: AsyncTestClient[Litestar], kv_bytes: int
) -> None:
    """--kv-cache-memory-bytes is the KV cache; the pool is whole pages within it."""
    answer = await _max_batch(client, engine="vllm", kv_cache_memory_bytes=kv_bytes)
    assert answer["memory"]["kv_cache"] == kv_bytes
    assert kv_bytes - answer["kv_cache_pool_bytes"] < answer["kv_cache_pool_bytes"] // max(
        answer["kv_cache_blocks"], 1
    )


@pytest.mark.parametrize("block", [16, 32, 64], ids=["16", "32", "64"])
async def test_vllm_block_size_sets_the_page(client: AsyncTestClient[Litestar], block: int) -> None:
    """--block-size: the pool holds whole blocks of that many tokens."""
    answer = await _max_batch(client, engine="vllm", block_size_tokens=block)
    assert answer["kv_cache_tokens"] == answer["kv_cache_blocks"] * block


async def test_vllm_enforce_eager_frees_the_cuda_graph_estimate(
    client: AsyncTestClient[Litestar],
) -> None:
    """From vLLM 0.21 the CUDA-graph estimate is subtracted; --enforce-eager gives it back."""
    graphs = (await _max_batch(client, engine="vllm==0.21.0"))["memory"]
    eager = (await _max_batch(client, engine="vllm==0.21.0", enforce_eager=True))["memory"]
    assert graphs["cudagraph"] > 0
    assert eager["cudagraph"] == 0
    assert eager["kv_cache"] - graphs["kv_cache"] == graphs["cudagraph"]


async def test_latency_honours_the_engine_knobs(client: AsyncTestClient[Litestar]) -> None:
    """/v1/latency: an SGLang fraction too small for the weights makes the batch not fit."""
    response = await client.post(
        "/v1/latency", json={**LATENCY, "engine": "sglang", "mem_fraction_static": 0.1}
    )
    assert response.status_code == 200, response.text
    assert response.json()["fits"] is False


@pytest.mark.parametrize(
    "extra",
    [
        {"engine": "sglang", "mem_fraction_static": 0.6},
        {"engine": "trtllm", "kv_cache_free_gpu_mem_fraction": 0.5},
        {"engine": "vllm", "kv_cache_memory_bytes": 4 * 2**30},
    ],
    ids=["sglang-fraction", "trtllm-fraction", "vllm-kv-bytes"],
)
async def test_plan_prices_candidates_with_the_knobs_like_max_batch(
    client: AsyncTestClient[Litestar], extra: dict[str, Any]
) -> None:
    """/v1/plan applies the same knobs to every candidate: its split equals max-batch's."""
    plan = await client.post("/v1/plan", json={**PLAN, **extra})
    assert plan.status_code == 200, plan.text
    (configuration,) = plan.json()["configurations"]
    fit = await _max_batch(client, context_length=1200, **extra)
    assert configuration["memory"] == fit["memory"]


async def test_sglang_recv_interval_lengthens_ttft_not_tpot(
    client: AsyncTestClient[Litestar],
) -> None:
    """/v1/latency on SGLang: looking for requests every 30 decode steps delays the first
    token of a request arriving among 16 busy users, not the tokens after it."""
    body = {**LATENCY, "engine": "sglang", "batch_size": 16}
    answers = []
    for extra in ({}, {"scheduler_recv_interval": 30}):
        response = await client.post("/v1/latency", json={**body, **extra})
        assert response.status_code == 200, response.text
        answers.append(response.json())
    every, polled = answers
    assert polled["ttft_ms"] > every["ttft_ms"]
    assert polled["tpot_ms"] <= every["tpot_ms"]


async def test_the_plan_prices_sglang_recv_interval(client: AsyncTestClient[Litestar]) -> None:
    """/v1/plan hands the knob to its search: the same configuration's TTFT grows with it."""
    plan = {**PLAN, "workload": {**PLAN["workload"], "concurrency": 16}, "engine": "sglang"}
    ttfts = []
    for extra in ({}, {"scheduler_recv_interval": 30}):
        response = await client.post("/v1/plan", json={**plan, **extra})
        assert response.status_code == 200, response.text
        ttfts.append(response.json()["configurations"][0]["ttft_ms"])
    assert ttfts[1] > ttfts[0]
