"""Roofline latency: prefill (TTFT), decode (TPOT), end to end, and what bounds each phase.

Formula sheet §2.6::

    t_phase = max(bytes / (t·BW·MBU), FLOPs / (t·F·MFU)) + t_comm + t_overhead
    TTFT    = t_prefill(B prompts of S tokens)
    TPOT    = t_decode(B sequences at the mean context S + N_out/2)
    E2E     = TTFT + TPOT · (N_out − 1)            (the first token comes from prefill)

Decode reads every weight once per step plus each sequence's KV; an MoE step reads the
experts its B tokens touch, ``E·(1 − (1 − k/E)^B)`` per layer (uniform routing).
"""

from __future__ import annotations

import enum

import msgspec

from service.domain.architecture import Architecture
from service.domain.flops import decode_flops_per_token, prefill_flops
from service.domain.gpu import GpuSpec
from service.domain.kv_cache import kv_cache_bytes
from service.domain.parallel import all_reduce_seconds
from service.domain.parameters import ParameterCount
from service.domain.precision import Precision, bytes_per_element, compute_precision
from service.domain.weights import weight_memory


class Bound(enum.StrEnum):
    """The resource that sets a phase's time."""

    COMPUTE = "compute"
    MEMORY_BANDWIDTH = "memory_bandwidth"
    COMMUNICATION = "communication"


class Efficiency(msgspec.Struct, frozen=True, kw_only=True):
    """Achievable fractions of peak and fixed costs: explicit inputs, not hidden constants.

    Defaults from the formula sheet §4.3/§6: end-to-end prefill MFU 0.4-0.6, decode MBU
    0.55-0.8 (Databricks measured 55-60 % at batch 1 with TP), large-GEMM MFU ~0.8;
    kipply's 8 µs per small all-reduce message.
    """

    prefill_mfu: float = 0.5
    prefill_mbu: float = 0.75
    decode_mbu: float = 0.75
    decode_mfu: float = 0.5
    step_overhead_ms: float = 0.0
    all_reduce_latency_us: float = 8.0
    source: str = "defaults: formula sheet §4.3 and §6 (uncalibrated)"


class Phase(msgspec.Struct, frozen=True, kw_only=True):
    """One forward pass: its time and the parts it is made of, in milliseconds."""

    ms: float
    compute_ms: float
    memory_ms: float
    communication_ms: float
    overhead_ms: float
    bound: Bound


class LatencyEstimate(msgspec.Struct, frozen=True, kw_only=True):
    ttft_ms: float
    tpot_ms: float
    e2e_ms: float
    output_tokens_per_s: float
    prefill: Phase
    decode: Phase


class Serving(msgspec.Struct, frozen=True, kw_only=True):
    """A deployment for latency purposes: GPU, parallelism and precisions."""

    gpu: GpuSpec
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    weight_precision: Precision = Precision.BF16
    kv_precision: Precision = Precision.BF16


def experts_touched(num_experts: int, experts_per_token: int, tokens: int) -> float:
    """Expected distinct experts hit by ``tokens`` tokens: ``E·(1 − (1 − k/E)^B)``."""
    return num_experts * (1 - (1 - experts_per_token / num_experts) ** tokens)


def weight_bytes_read(
    arch: Architecture, params: ParameterCount, serving: Serving, tokens_in_step: int
) -> float:
    """Weight bytes one GPU reads in a forward pass over ``tokens_in_step`` tokens."""
    memory = weight_memory(
        arch, params, serving.weight_precision, serving.tensor_parallel, serving.pipeline_parallel
    )
    if arch.moe is None:
        return float(memory.per_gpu_bytes)
    moe = arch.moe
    touched = experts_touched(moe.num_experts, moe.experts_per_token, tokens_in_step)
    stage_share = 1 / serving.pipeline_parallel
    routed_bytes = (
        params.breakdown.routed_experts
        * bytes_per_element(serving.weight_precision)
        / serving.tensor_parallel
        * stage_share
    )
    return memory.per_gpu_bytes - routed_bytes * (1 - touched / moe.num_experts)


def _phase(
    flops_per_gpu: float,
    bytes_per_gpu: float,
    tokens_in_step: int,
    arch: Architecture,
    serving: Serving,
    efficiency: Efficiency,
    *,
    mfu: float,
    mbu: float,
) -> Phase:
    gpu = serving.gpu
    pp = serving.pipeline_parallel
    peak = gpu.peak_flops(compute_precision(serving.weight_precision))
    compute_s = pp * flops_per_gpu / (peak * mfu)
    memory_s = pp * bytes_per_gpu / (gpu.memory_bandwidth_bytes_per_s * mbu)
    message_bytes = tokens_in_step * arch.hidden_size * 2
    comm_s = (
        2
        * arch.num_layers
        * all_reduce_seconds(
            message_bytes,
            serving.tensor_parallel,
            gpu.interconnect_bandwidth_bytes_per_s,
            efficiency.all_reduce_latency_us * 1e-6,
        )
    )
    overhead_s = efficiency.step_overhead_ms / 1e3
    parts = {
        Bound.COMPUTE: compute_s,
        Bound.MEMORY_BANDWIDTH: memory_s,
        Bound.COMMUNICATION: comm_s,
    }
    bound = max(parts, key=lambda key: parts[key])
    total = max(compute_s, memory_s) + comm_s + overhead_s
    return Phase(
        ms=total * 1e3,
        compute_ms=compute_s * 1e3,
        memory_ms=memory_s * 1e3,
        communication_ms=comm_s * 1e3,
        overhead_ms=efficiency.step_overhead_ms,
        bound=bound,
    )


def estimate_latency(
    arch: Architecture,
    params: ParameterCount,
    serving: Serving,
    *,
    batch_size: int,
    input_tokens: int,
    output_tokens: int,
    efficiency: Efficiency | None = None,
) -> LatencyEstimate:
    """TTFT, TPOT, end-to-end latency and output throughput of a batch served together."""
    eff = efficiency or Efficiency()
    t = serving.tensor_parallel
    kv_args = {"tensor_parallel": t, "pipeline_parallel": serving.pipeline_parallel}
    # Each GPU does 1/(t·pp) of the FLOPs; _phase runs the pp stages one after another.
    gpus = t * serving.pipeline_parallel
    prefill_tokens = batch_size * input_tokens
    prefill = _phase(
        batch_size * prefill_flops(arch, params, input_tokens) / gpus,
        weight_bytes_read(arch, params, serving, prefill_tokens)
        + batch_size * kv_cache_bytes(arch, serving.kv_precision, input_tokens, **kv_args),
        prefill_tokens,
        arch,
        serving,
        eff,
        mfu=eff.prefill_mfu,
        mbu=eff.prefill_mbu,
    )
    mean_context = input_tokens + output_tokens // 2
    decode = _phase(
        batch_size * decode_flops_per_token(arch, params, mean_context) / gpus,
        weight_bytes_read(arch, params, serving, batch_size)
        + batch_size * kv_cache_bytes(arch, serving.kv_precision, mean_context, **kv_args),
        batch_size,
        arch,
        serving,
        eff,
        mfu=eff.decode_mfu,
        mbu=eff.decode_mbu,
    )
    e2e_ms = prefill.ms + decode.ms * (output_tokens - 1)
    return LatencyEstimate(
        ttft_ms=prefill.ms,
        tpot_ms=decode.ms,
        e2e_ms=e2e_ms,
        output_tokens_per_s=batch_size * output_tokens / (e2e_ms / 1e3),
        prefill=prefill,
        decode=decode,
    )
