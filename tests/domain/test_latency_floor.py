"""No latency answer is faster than physics: weight bytes / HBM bandwidth, FLOPs / peak."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.batching import at_concurrency
from service.domain.burst import burst_ttft_seconds
from service.domain.flops import prefill_flops
from service.domain.gpu import GpuSpec
from service.domain.latency import Efficiency, Serving, estimate_latency
from service.domain.precision import Precision, compute_precision
from service.domain.step_time import step_costs
from service.domain.weights import weight_memory
from tests.domain.reference import A100_80, H100, H200, arch, params

DENSE_MODELS = ("llama3-8b", "llama3-70b", "llama2-7b", "llama3.2-1b")

fraction = st.floats(0.05, 1.0)
efficiencies = st.builds(
    Efficiency,
    prefill_mfu=fraction,
    prefill_mbu=fraction,
    decode_mbu=fraction,
    decode_mfu=fraction,
    step_overhead_ms=st.floats(0.0, 5.0),
    layer_overhead_us=st.floats(0.0, 50.0),
)


@st.composite
def deployments(draw: st.DrawFn) -> tuple[str, Serving]:
    model = draw(st.sampled_from(DENSE_MODELS))
    gpu: GpuSpec = draw(st.sampled_from([H100, H200, A100_80]))
    precisions = [Precision.BF16, Precision.FP8] if gpu.dense_tflops_fp8 else [Precision.BF16]
    weights = draw(st.sampled_from(precisions))
    tp = draw(st.sampled_from([1, 2, 4, 8]))
    return model, Serving(
        gpu=gpu, tensor_parallel=tp, weight_precision=weights, kv_precision=weights
    )


def weight_read_floor_ms(model: str, serving: Serving) -> float:
    """Every weight of the GPU's shard read once per decode step at full HBM bandwidth."""
    shard = weight_memory(
        arch(model), params(model), serving.weight_precision, serving.tensor_parallel
    )
    return shard.per_gpu_bytes / serving.gpu.memory_bandwidth_bytes_per_s * 1e3


def prefill_floor_ms(model: str, serving: Serving, prompts: int, tokens: int) -> float:
    """The prompts' FLOPs split over the TP ranks at the dense peak of the compute precision."""
    peak = serving.gpu.peak_flops(compute_precision(serving.weight_precision))
    flops = prompts * prefill_flops(arch(model), params(model), tokens)
    return flops / serving.tensor_parallel / peak * 1e3


@settings(max_examples=60, deadline=None)
@given(
    deployment=deployments(),
    eff=efficiencies,
    batch=st.integers(1, 256),
    isl=st.integers(1, 32_000),
    osl=st.integers(2, 4000),
)
def test_static_batch_latency_respects_the_floors(
    deployment: tuple[str, Serving], eff: Efficiency, batch: int, isl: int, osl: int
) -> None:
    """Batch TTFT >= the batch's prefill FLOPs / peak; TPOT >= weight bytes / bandwidth."""
    model, serving = deployment
    latency = estimate_latency(
        arch(model), params(model), serving, batch_size=batch, input_tokens=isl,
        output_tokens=osl, efficiency=eff,
    )  # fmt: skip
    assert latency.ttft_ms >= prefill_floor_ms(model, serving, batch, isl) * (1 - 1e-9)
    assert latency.tpot_ms >= weight_read_floor_ms(model, serving) * (1 - 1e-9)


@settings(max_examples=60, deadline=None)
@given(
    deployment=deployments(),
    eff=efficiencies,
    users=st.integers(1, 512),
    isl=st.integers(1, 32_000),
    osl=st.integers(2, 4000),
    chunk=st.sampled_from([512, 2048, 8192, 16384]),
)
def test_steady_state_latency_respects_the_floors(
    deployment: tuple[str, Serving],
    eff: Efficiency,
    users: int,
    isl: int,
    osl: int,
    chunk: int,
) -> None:
    """Steady-state TTFT >= one prompt's FLOPs / peak; TPOT >= weight bytes / bandwidth;
    burst TTFT of all users >= all their prompts' FLOPs / peak."""
    model, serving = deployment
    costs = step_costs(arch(model), params(model), serving, input_tokens=isl, output_tokens=osl)
    state = at_concurrency(costs, eff, chunk_tokens=chunk, max_batch=256, concurrency=users)
    burst_ms = (
        burst_ttft_seconds(costs, eff, prompts=users, chunk_tokens=chunk, max_batch=4096) * 1e3
    )
    assert state.ttft_ms >= prefill_floor_ms(model, serving, 1, isl) * (1 - 1e-9)
    assert state.tpot_ms >= weight_read_floor_ms(model, serving) * (1 - 1e-9)
    assert burst_ms >= prefill_floor_ms(model, serving, users, isl) * (1 - 1e-9)
