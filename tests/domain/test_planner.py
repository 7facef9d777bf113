"""The planner: every GPU × layout × precision, ranked; what does not fit is explained."""

from __future__ import annotations

import math

import msgspec
import pytest

from service.catalog_files import load_engine_profiles
from service.domain.capacity import MemoryBudget
from service.domain.gpu import GpuSpec
from service.domain.latency import Efficiency
from service.domain.planner import (
    Configuration,
    EfficiencyFor,
    Objective,
    Plan,
    SearchSpace,
    Slo,
    Workload,
    plan,
    rank,
)
from tests.domain.reference import A10, A100_80, H100, L4, T4_LIKE, arch, params

VLLM_V0 = load_engine_profiles().get("vllm-0.6.4")

WORKLOAD = Workload(input_tokens=1024, output_tokens=256, concurrency=16)


def plan_for(
    model: str,
    gpus: list[GpuSpec],
    *,
    workload: Workload = WORKLOAD,
    space: SearchSpace | None = None,
    slo: Slo | None = None,
    objective: Objective = Objective.COST,
    efficiency_for: EfficiencyFor | None = None,
) -> Plan:
    return plan(
        arch(model),
        params(model),
        gpus,
        workload,
        slo=slo,
        space=space,
        objective=objective,
        profile=VLLM_V0,
        efficiency_for=efficiency_for,
    )


def test_infeasible_request_is_an_answer_not_an_exception() -> None:
    """Llama-3-70B bf16 (141 GB) on one 24 GiB L4-like GPU: no configuration, and a
    rejection whose reason says the weights do not fit."""
    result = plan_for("llama3-70b", [L4], space=SearchSpace(max_gpus=1))
    assert result.configurations == ()
    assert len(result.rejected) == 1
    rejection = result.rejected[0]
    assert (rejection.gpu, rejection.gpu_count, rejection.weight_dtype) == ("l4", 1, "bf16")
    assert "weights need 141.1 GB" in rejection.reason


def test_gpu_without_bf16_plans_a_bf16_checkpoint_in_fp16_with_the_note() -> None:
    """A T4-like chip has no bf16: auto serves the bf16 checkpoint in fp16 (vLLM's --dtype
    auto), weights and KV, and each configuration says why."""
    result = plan_for("llama3.2-1b", [T4_LIKE], space=SearchSpace(max_gpus=1))
    assert [(c.weight_dtype, c.kv_cache_dtype) for c in result.configurations] == [("fp16", "fp16")]
    assert all(
        (c.weight_execution or "").startswith("bf16 checkpoint served in fp16")
        for c in result.configurations
    )


def test_gpu_without_bf16_refuses_bf16_asked_for_with_a_reason() -> None:
    """Asking for bf16 on a T4-like chip is refused there, by name, with the way out."""
    space = SearchSpace(weight_dtypes=("bf16",), max_gpus=1)
    result = plan_for("llama3.2-1b", [T4_LIKE], space=space)
    assert result.configurations == ()
    assert [r.reason.split(" (")[0] for r in result.rejected] == [
        "T4 has no bf16 support for weights"
    ]
    assert "ask for fp16 (--dtype half), or auto" in result.rejected[0].reason


def test_gpu_without_fp8_is_rejected_for_an_fp8_kv_cache() -> None:
    """The A100 has no fp8 path: an fp8 KV cache is refused there, bf16 is planned."""
    space = SearchSpace(kv_cache_dtypes=("auto", "fp8"), max_gpus=1)
    result = plan_for("llama3-8b", [A100_80], space=space)
    assert {c.kv_cache_dtype for c in result.configurations} == {"bf16"}
    assert [r.reason for r in result.rejected] == ["A100 80GB has no fp8 support for KV cache"]


def test_fp16_request_runs_where_bf16_cannot() -> None:
    """Asking for fp16 weights and KV puts TinyLlama on the T4-like chip."""
    space = SearchSpace(weight_dtypes=("fp16",), kv_cache_dtypes=("fp16",), max_gpus=1)
    result = plan_for("tinyllama-1.1b", [T4_LIKE], space=space)
    assert [(c.gpu, c.weight_dtype, c.kv_cache_dtype) for c in result.configurations] == [
        ("t4", "fp16", "fp16")
    ]


def test_layouts_that_do_not_fit_are_rejected_beside_those_that_do() -> None:
    """Llama-3-70B on H100s: TP1 cannot hold 141 GB; TP2, TP4, TP8 can."""
    result = plan_for("llama3-70b", [H100], space=SearchSpace(max_gpus=8))
    assert sorted(c.tensor_parallel for c in result.configurations) == [2, 4, 8]
    assert [(r.tensor_parallel, "weights" in r.reason) for r in result.rejected] == [(1, True)]


def test_tensor_parallel_degrees_divide_the_heads() -> None:
    """Qwen2-7B has 28 heads: TP 1, 2 and 4 only, pipeline stages on top of TP4."""
    result = plan_for("qwen2-7b", [H100], space=SearchSpace(max_gpus=16))
    layouts = {(c.tensor_parallel, c.pipeline_parallel) for c in result.configurations}
    assert {tp for tp, _ in layouts} == {1, 2, 4}
    assert all(28 % tp == 0 for tp, _ in layouts)
    assert {pp for tp, pp in layouts if tp != 4} == {1}
    assert (4, 2) in layouts


def test_pipeline_stages_only_once_the_node_is_full() -> None:
    """An 8-GPU node with max 32 GPUs: PP 2 and 4 stages of TP8, never PP with less TP."""
    result = plan_for("llama3-70b", [H100], space=SearchSpace(max_gpus=32))
    staged = {(c.tensor_parallel, c.pipeline_parallel) for c in result.configurations}
    assert {layout for layout in staged if layout[1] > 1} == {(8, 2), (8, 4)}


def test_replicas_are_added_until_the_concurrency_fits() -> None:
    """Each configuration holds ceil(concurrency / max_batch) replicas of tp·pp GPUs."""
    workload = Workload(input_tokens=4096, output_tokens=4096, concurrency=256)
    result = plan_for("llama3-8b", [H100], workload=workload, space=SearchSpace(max_gpus=64))
    assert result.configurations
    for c in result.configurations:
        assert c.replicas == math.ceil(256 / c.max_batch)
        assert c.gpu_count == c.tensor_parallel * c.pipeline_parallel * c.replicas
        assert c.batch_per_replica == math.ceil(256 / c.replicas)


def test_too_many_replicas_for_the_gpu_limit_are_rejected() -> None:
    """When the concurrency needs more GPUs than allowed the rejection says how many."""
    workload = Workload(input_tokens=8192, output_tokens=8192, concurrency=10_000)
    result = plan_for("llama3-8b", [H100], workload=workload, space=SearchSpace(max_gpus=2))
    assert result.configurations == ()
    assert all("replicas" in r.reason and "limit of 2 GPUs" in r.reason for r in result.rejected)
    assert all(r.gpu_count > 2 for r in result.rejected)


@pytest.mark.parametrize(
    ("objective", "metric", "descending"),
    [
        (Objective.COST, "cost_per_million_output_tokens", False),
        (Objective.LATENCY, "e2e_ms", False),
        (Objective.THROUGHPUT, "output_tokens_per_s", True),
    ],
    ids=["cost-ascending", "latency-ascending", "throughput-descending"],
)
def test_configurations_are_ranked_by_the_objective(
    objective: Objective, metric: str, descending: bool
) -> None:
    """Cheapest per token, fastest end to end, or highest throughput first."""
    result = plan_for(
        "llama3-8b", [H100, A100_80, L4, A10], objective=objective, space=SearchSpace(max_gpus=8)
    )
    values = [getattr(c, metric) for c in result.configurations]
    assert len(values) > 3
    assert values == sorted(values, reverse=descending)


def test_configurations_meeting_the_slo_come_first() -> None:
    """With a TPOT target some layouts meet, every SLO-meeting one precedes every miss,
    even when the misses are cheaper."""
    result = plan_for(
        "llama3-8b", [H100, A100_80, L4, A10], slo=Slo(tpot_ms=20.0), space=SearchSpace(max_gpus=8)
    )
    flags = [c.meets_slo for c in result.configurations]
    assert True in flags
    assert False in flags
    assert flags == sorted(flags, reverse=True)
    assert all(c.tpot_ms <= 20.0 for c in result.configurations if c.meets_slo)


def test_efficiency_can_be_set_per_gpu() -> None:
    """efficiency_for gives each GPU its own calibration: a halved MBU doubles the
    memory-bound decode steps; TPOT also holds others' compute-bound prompt chunks, so it
    grows by less than twice."""
    space = SearchSpace(max_gpus=1)
    fast = plan_for("llama3-8b", [H100], space=space)
    slow = plan_for(
        "llama3-8b",
        [H100],
        space=space,
        efficiency_for=lambda gpu: Efficiency(decode_mbu=0.375, all_reduce_latency_us=8.0),
    )
    slow_tpot, fast_tpot = slow.configurations[0].tpot_ms, fast.configurations[0].tpot_ms
    assert 1.5 * fast_tpot < slow_tpot <= 2 * fast_tpot


def configuration(
    name: str, *, cost: float | None, e2e: float, tps: float, slo: bool, gpus: int = 1
) -> Configuration:
    empty = MemoryBudget(
        total=0, usable=0, weights=0, activation=0, non_torch=0, cudagraph=0, kv_cache=0
    )
    return Configuration(
        gpu=name,
        gpu_count=gpus,
        tensor_parallel=1,
        pipeline_parallel=1,
        replicas=gpus,
        weight_dtype="bf16",
        kv_cache_dtype="bf16",
        max_batch=1,
        batch_per_replica=1,
        memory=empty,
        ttft_ms=1.0,
        tpot_ms=1.0,
        e2e_ms=e2e,
        output_tokens_per_s=tps,
        cost_per_hour=None,
        cost_per_million_output_tokens=cost,
        meets_slo=slo,
        bottleneck="decode memory_bandwidth",
        serving="aggregated",
    )


CANDIDATES = [
    configuration("cheap-miss", cost=1.0, e2e=900.0, tps=50.0, slo=False),
    configuration("pricey-meet", cost=9.0, e2e=100.0, tps=500.0, slo=True),
    configuration("mid-meet", cost=5.0, e2e=300.0, tps=900.0, slo=True),
    configuration("unpriced-meet", cost=None, e2e=200.0, tps=100.0, slo=True),
]


@pytest.mark.parametrize(
    ("objective", "order"),
    [
        (Objective.COST, ["mid-meet", "pricey-meet", "unpriced-meet", "cheap-miss"]),
        (Objective.LATENCY, ["pricey-meet", "unpriced-meet", "mid-meet", "cheap-miss"]),
        (Objective.THROUGHPUT, ["mid-meet", "pricey-meet", "unpriced-meet", "cheap-miss"]),
    ],
    ids=["cost", "latency", "throughput"],
)
def test_rank_puts_slo_first_then_the_objective(objective: Objective, order: list[str]) -> None:
    """SLO-meeting first; then cost (unpriced last), e2e latency, or throughput (highest)."""
    assert [c.gpu for c in rank(list(CANDIDATES), objective)] == order


def test_rank_breaks_ties_with_fewer_gpus() -> None:
    """Equal on the objective, the configuration with fewer GPUs comes first."""
    small = configuration("one-gpu", cost=2.0, e2e=1.0, tps=1.0, slo=True, gpus=1)
    large = configuration("two-gpus", cost=2.0, e2e=1.0, tps=1.0, slo=True, gpus=2)
    assert [c.gpu for c in rank([large, small], Objective.COST)] == ["one-gpu", "two-gpus"]


def test_unpriced_gpu_has_no_cost() -> None:
    """A GPU without a price yields configurations without a cost figure."""
    unpriced = msgspec.structs.replace(H100, price_per_hour_usd=None)
    result = plan_for("llama3-8b", [unpriced], space=SearchSpace(max_gpus=1))
    assert result.configurations[0].cost_per_hour is None
    assert result.configurations[0].cost_per_million_output_tokens is None


def test_cost_per_million_tokens_follows_from_price_and_throughput() -> None:
    """$/Mtok = price·GPUs / (tokens/s · 3600) · 10^6."""
    c = plan_for("llama3-8b", [H100], space=SearchSpace(max_gpus=1)).configurations[0]
    assert c.cost_per_hour == pytest.approx(3.0 * c.gpu_count)
    assert c.cost_per_million_output_tokens == pytest.approx(
        c.cost_per_hour / (c.output_tokens_per_s * 3600) * 1e6
    )
