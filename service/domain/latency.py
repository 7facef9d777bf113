"""Roofline latency: prefill (TTFT), decode (TPOT), end to end, and what bounds each phase.

Formula sheet §2.6, with the forward pass split into its two kernel classes (the matmuls
over the weights, and attention over the KV cache), which run one after the other::

    t_phase = roof(W_read/(BW·MBU), F_matmul/(F·MFU))         weight matmuls
            + max(KV_bytes/(BW·MBU), F_attention/(F·MFU))      attention
            + routing_bytes/(BW·MBU)                           MoE token routing
            + 2·L·all_reduce(tokens·d·2 B) + t_overhead        TP communication, fixed cost
    all_reduce(S) = α + 2(n − 1)/n · S/(η·B_link)     (α, η: Efficiency, fitted)
    TTFT    = t_prefill(B prompts of S tokens)
    TPOT    = t_decode(B sequences at the mean context S + N_out/2)
    E2E     = TTFT + TPOT · (N_out − 1)            (the first token comes from prefill)

``roof(m, c) = (m⁴ + c⁴)^(1/4)`` (:func:`roofline_seconds`) is the roofline with a rounded
knee: a matmul whose memory and compute times are close reaches neither roof, since a kernel
overlaps its loads with its math imperfectly; far from the knee it is the larger term (to
within 1 % once one is 1.8 times the other). The exponent is the project's choice, checked by
``capplan validate``: against the sharp ``max`` it lowers the held-out median error of every
family (exponents 3 and 4 about equally, 2 raises the TPOT error, 6 is nearly ``max``).
Attention keeps the sharp ``max``.

When both classes are bound by the same resource this is the sheet's single ``max`` of
the totals; when the matmuls are compute-bound and attention is bandwidth-bound (large
decode batches at long context) their times add, as they do on the GPU. Decode reads every
weight once per step plus each sequence's KV; an MoE step reads the experts its B tokens
touch, ``E·(1 − (1 − k/E)^B)`` per layer (uniform routing). :class:`PhaseTerms` holds the
four rooflines at 100 % efficiency so that calibration can re-price them cheaply.
"""

from __future__ import annotations

import enum
import math
from typing import Annotated

import msgspec

from service.domain.architecture import Architecture
from service.domain.flops import (
    attention_flops_per_token,
    matmul_parameters_per_token,
    prefill_flops,
)
from service.domain.gpu import GpuSpec
from service.domain.host_launch import NO_FLOOR, EagerPrefill
from service.domain.kv_cache import cache_ranks, kv_cache_bytes
from service.domain.moe import (
    all_to_all_seconds,
    grouped_gemm_efficiency,
    moe_layer_count,
    routed_parameters_per_token,
    routing_bytes_per_token,
)
from service.domain.parallel import all_reduce_seconds
from service.domain.parameters import ParameterCount
from service.domain.precision import Precision, bytes_per_element
from service.domain.weights import weight_memory


class Bound(enum.StrEnum):
    """The resource that sets a phase's time."""

    COMPUTE = "compute"
    MEMORY_BANDWIDTH = "memory_bandwidth"
    COMMUNICATION = "communication"
    HOST = "host"
    """The engine's host launching the kernels of a step it runs eagerly
    (:mod:`service.domain.host_launch`)."""


class Efficiency(msgspec.Struct, frozen=True, kw_only=True):
    """Achievable fractions of peak and fixed costs: explicit inputs, not hidden constants.

    The MFUs are shares of the chip's measured matmul rate (the datasheet peak times
    :attr:`~service.domain.gpu.GpuSpec.matmul_efficiency`), not of its marketing peak.

    Defaults from the formula sheet §4.3/§6: end-to-end prefill MFU 0.4-0.6, decode MBU
    0.55-0.8 (Databricks measured 55-60 % at batch 1 with TP), large-GEMM MFU ~0.8;
    kipply's 8 µs per small all-reduce message; a collective moves its bytes at
    ``link_efficiency`` of the link bandwidth (default 1: the link's rate; NCCL's bus
    bandwidth is below it, and the fit says how far). ``moe_half_tokens``: grouped-GEMM
    efficiency of routed experts (:mod:`service.domain.moe`). Fixed costs per forward pass:
    ``step_overhead_ms`` once, plus ``layer_overhead_us`` per decoder layer on the GPU
    (kernel launches and small kernels scale with depth). ``catalog/calibration.yaml``
    holds fitted values (:mod:`service.domain.calibration`).
    """

    prefill_mfu: Annotated[
        float,
        msgspec.Meta(
            description=(
                "Share of the chip's measured matmul rate (datasheet peak x its"
                " achievable_tflops_bf16 share) prefill achieves, 0-1"
            )
        ),
    ] = 0.5
    prefill_mbu: Annotated[
        float, msgspec.Meta(description="Share of peak memory bandwidth prefill achieves, 0-1")
    ] = 0.75
    decode_mbu: Annotated[
        float,
        msgspec.Meta(description="Share of peak memory bandwidth a decode step achieves, 0-1"),
    ] = 0.75
    decode_mfu: Annotated[
        float,
        msgspec.Meta(
            description=(
                "Share of the chip's measured matmul rate (datasheet peak x its"
                " achievable_tflops_bf16 share) a decode step achieves, 0-1"
            )
        ),
    ] = 0.5
    step_overhead_ms: Annotated[
        float, msgspec.Meta(description="Fixed cost per forward pass, milliseconds")
    ] = 0.0
    layer_overhead_us: Annotated[
        float,
        msgspec.Meta(description="Fixed cost per decoder layer per forward pass, microseconds"),
    ] = 0.0
    all_reduce_latency_us: Annotated[
        float, msgspec.Meta(description="Latency of one small all-reduce, microseconds")
    ] = 8.0
    moe_half_tokens: Annotated[
        float,
        msgspec.Meta(
            description=(
                "Tokens per expert at which routed-expert GEMMs reach half efficiency (0: always "
                "full)"
            )
        ),
    ] = 0.0
    link_efficiency: Annotated[
        float,
        msgspec.Meta(
            description=(
                "Share of the GPU-to-GPU link bandwidth a collective (all-reduce, all-to-all) "
                "moves its bytes at, 0-1"
            )
        ),
    ] = 1.0
    source: Annotated[
        str, msgspec.Meta(description="Where these values come from (calibration fit or defaults)")
    ] = "defaults: formula sheet §4.3 and §6 (uncalibrated)"


class Phase(msgspec.Struct, frozen=True, kw_only=True):
    """One forward pass: its time and the parts it is made of, in milliseconds."""

    ms: Annotated[float, msgspec.Meta(description="Time of the pass in milliseconds")]
    compute_ms: Annotated[
        float, msgspec.Meta(description="Time at the achieved FLOP rate, milliseconds")
    ]
    memory_ms: Annotated[
        float, msgspec.Meta(description="Time at the achieved memory bandwidth, milliseconds")
    ]
    communication_ms: Annotated[
        float, msgspec.Meta(description="Time in collectives between GPUs, milliseconds")
    ]
    overhead_ms: Annotated[
        float,
        msgspec.Meta(
            description="Fixed per-pass and per-layer costs, and the wait for the engine's "
            "host when it launches the pass slower than the GPU runs it, milliseconds"
        ),
    ]
    bound: Annotated[
        Bound,
        msgspec.Meta(
            description="The largest part: compute, memory or communication; host when the "
            "engine's kernel launches set the time"
        ),
    ]


class LatencyEstimate(msgspec.Struct, frozen=True, kw_only=True):
    ttft_ms: float
    tpot_ms: float
    e2e_ms: float
    output_tokens_per_s: float
    prefill: Phase
    decode: Phase


class Serving(msgspec.Struct, frozen=True, kw_only=True):
    """A deployment for latency purposes: GPU, parallelism and precisions.

    ``expert_parallel``: MoE experts spread whole over the TP group's GPUs (EP degree =
    ``tensor_parallel``), all-to-all instead of the MLP all-reduce (:mod:`service.domain.moe`).
    ``attention_data_parallel`` (TensorRT-LLM / SGLang attention DP): each GPU runs attention
    for its own share of the sequences with the whole attention weights, so every GPU reads
    all of them (``(1 − 1/t)`` of the attention bytes more than TP) and the attention
    all-reduce goes away; attention FLOPs per GPU are unchanged, and KV bytes per GPU are
    ``1/t`` of a sequence's whole cache (the same as TP's shard unless TP replicates the
    cache: MLA's latent, or fewer KV heads than GPUs). ``mxfp4_activations``: the
    precision the engine quantises activations to for MXFP4 weights
    (:attr:`~service.domain.engines.profile.EngineProfile.mxfp4_activations`).
    ``eager_prefill``: the engine's host time per layer of a prompt step it runs eagerly, a
    floor under such steps (:mod:`service.domain.host_launch`; none by default).
    ``admission_interval_steps``: decode steps between the scheduler's looks for newly
    arrived requests while it only decodes (SGLang ``--scheduler-recv-interval``; 1, every
    step, is every engine's default): an arrival waits for the next look
    (:mod:`service.domain.batching`).
    """

    gpu: GpuSpec
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    weight_precision: Precision = Precision.BF16
    kv_precision: Precision = Precision.BF16
    expert_parallel: bool = False
    attention_data_parallel: bool = False
    mxfp4_activations: Precision = Precision.FP8
    eager_prefill: EagerPrefill = NO_FLOOR
    admission_interval_steps: int = 1


def experts_touched(num_experts: int, experts_per_token: int, tokens: float) -> float:
    """Expected distinct experts hit by ``tokens`` tokens: ``E·(1 − (1 − k/E)^B)``."""
    untouched: float = (1 - experts_per_token / num_experts) ** tokens
    return num_experts * (1 - untouched)


def rows_per_touched_expert(num_experts: int, experts_per_token: int, tokens: float) -> float:
    """Rows of each expert GEMM that runs in a step over ``tokens`` tokens:
    ``T·k / E_touched`` (at least 1 when any token runs). The grouped-GEMM waste
    (:mod:`service.domain.moe`) falls on the experts a step touches, not on all ``E``: the
    average over every expert, ``T·k/E``, tends to 0 at a small batch although each expert
    that runs still multiplies at least one row (4 tokens of a top-8-of-256 model: 32 rows
    over 31 touched experts, not 0.125 rows each)."""
    if tokens <= 0 or num_experts == 0:
        return 0.0
    return tokens * experts_per_token / experts_touched(num_experts, experts_per_token, tokens)


def weight_bytes_read(
    arch: Architecture, params: ParameterCount, serving: Serving, tokens_in_step: int
) -> float:
    """Weight bytes one GPU reads in a forward pass over ``tokens_in_step`` tokens."""
    memory = weight_memory(
        arch, params, serving.weight_precision, serving.tensor_parallel, serving.pipeline_parallel
    )
    tp, pp = serving.tensor_parallel, serving.pipeline_parallel
    replicated = 0.0
    if serving.attention_data_parallel and tp > 1:
        attention = params.breakdown.attention * bytes_per_element(serving.weight_precision)
        replicated = attention * (1 - 1 / tp) / pp
    if arch.moe is None:
        return memory.per_gpu_bytes + replicated
    moe = arch.moe
    touched = experts_touched(moe.num_experts, moe.experts_per_token, tokens_in_step)
    stage_share = 1 / serving.pipeline_parallel
    routed_bytes = (
        params.breakdown.routed_experts
        * bytes_per_element(serving.weight_precision)
        / serving.tensor_parallel
        * stage_share
    )
    return memory.per_gpu_bytes + replicated - routed_bytes * (1 - touched / moe.num_experts)


def matmul_peak_flops(
    gpu: GpuSpec, weights: Precision, mxfp4_activations: Precision = Precision.FP8
) -> float:
    """Peak of the weight matmuls (:meth:`GpuSpec.execution`) as the chip reaches it: the
    dense rate of the format where its tensor cores take it (FP8 on Hopper and Blackwell,
    NVFP4 on Blackwell, MXFP4 there as W4A8 at the FP8 rate when the engine quantises
    activations to 8 bit, INT8), else the 16-bit rate at which a weight-only kernel
    multiplies after dequantising (INT4/FP4 on Ampere and Hopper: decode still reads 4-bit
    weights), times the chip's measured share of its datasheet peak
    (:attr:`GpuSpec.matmul_efficiency`). A format with no kernel at all is priced at 16 bit
    here; the planner and the answers refuse it."""
    execution = gpu.execution(weights, mxfp4_activations)
    peak = execution.peak_flops or gpu.peak_flops(execution.compute)
    return peak * gpu.matmul_efficiency


def attention_peak_flops(gpu: GpuSpec, kv: Precision) -> float:
    """Peak of attention's own matmuls (Q·Kᵀ and P·V over the KV cache): the FP8 rate
    where the KV cache is FP8 and the chip computes FP8 (FlashAttention-3, FlashInfer and
    TensorRT-LLM's FP8 context FMHA read the FP8 cache as it is), else the 16-bit rate, times
    the chip's measured share of its datasheet peak (:attr:`GpuSpec.matmul_efficiency`). The
    weight format never reaches attention: an NVFP4 or INT4 checkpoint's attention runs at
    8 or 16 bit, not at its 4-bit matmul rate."""
    compute = Precision.FP8 if kv is Precision.FP8 else Precision.BF16
    return gpu.peak_flops(compute) * gpu.matmul_efficiency


class PhaseTerms(msgspec.Struct, frozen=True, kw_only=True):
    """One forward pass on one GPU at 100 % of every peak, in seconds (×pp stages), with
    the all-reduces it issues and the decoder layers it runs (for the fixed costs).
    ``kv_s``: the KV cache bytes attention reads and writes; ``routing_s``: an MoE model's
    token routing through its experts (:func:`~service.domain.moe.routing_bytes_per_token`),
    memory traffic of kernels of its own (gather, activation, scatter) that overlap
    neither the matmuls nor attention."""

    weight_read_s: float
    matmul_s: float
    kv_s: float
    attention_s: float
    communication_s: float
    all_reduces: int
    layers: int = 0
    routing_s: float = 0.0
    expert_matmul_s: float = 0.0
    tokens_per_expert: float = 0.0


def phase_terms(
    arch: Architecture,
    serving: Serving,
    *,
    weight_bytes: float,
    matmul_flops: float,
    kv_bytes: float,
    attention_flops: float,
    tokens_in_step: int,
    expert_flops: float = 0.0,
) -> PhaseTerms:
    """Price a forward pass's bytes and FLOPs (per GPU) at the GPU's peaks."""
    gpu = serving.gpu
    pp = serving.pipeline_parallel
    peak = matmul_peak_flops(gpu, serving.weight_precision, serving.mxfp4_activations)
    bandwidth = gpu.memory_bandwidth_bytes_per_s
    message_bytes = tokens_in_step * arch.hidden_size * 2
    tp, link = serving.tensor_parallel, gpu.interconnect_bandwidth_bytes_per_s
    all_reduces = 2 * arch.num_layers if tp > 1 else 0
    all_to_alls = 0
    if serving.attention_data_parallel and tp > 1:
        all_reduces -= arch.num_layers
    if serving.expert_parallel and tp > 1:
        all_to_alls = 2 * moe_layer_count(arch)
        all_reduces -= moe_layer_count(arch)
    routing = routing_bytes_per_token(arch, tp, serving.expert_parallel)
    communication = all_reduces * all_reduce_seconds(message_bytes, tp, link, 0.0)
    communication += all_to_alls * all_to_all_seconds(arch, tokens_in_step, tp, link)
    return PhaseTerms(
        weight_read_s=pp * weight_bytes / bandwidth,
        matmul_s=pp * matmul_flops / peak,
        kv_s=pp * kv_bytes / bandwidth,
        routing_s=tokens_in_step * routing / bandwidth,
        attention_s=pp * attention_flops / attention_peak_flops(gpu, serving.kv_precision),
        communication_s=communication,
        all_reduces=all_reduces + all_to_alls,
        layers=arch.num_layers,
        expert_matmul_s=pp * expert_flops / peak,
        tokens_per_expert=rows_per_touched_expert(
            arch.moe.num_experts, arch.moe.experts_per_token, tokens_in_step
        )
        if arch.moe is not None
        else 0.0,
    )


def matmul_compute_s(terms: PhaseTerms, efficiency: Efficiency, mfu: float) -> float:
    """Matmul time at ``mfu``, the routed experts' share slowed by their grouped-GEMM
    efficiency at the step's tokens per expert (:mod:`service.domain.moe`)."""
    g = grouped_gemm_efficiency(terms.tokens_per_expert, efficiency.moe_half_tokens)
    expert = terms.expert_matmul_s / g if terms.expert_matmul_s else 0.0
    return (terms.matmul_s - terms.expert_matmul_s + expert) / mfu


#: The rounded knee's exponent (module doc): ``max`` as it grows, a plain sum at 1.
ROOFLINE_KNEE_EXPONENT = 4


def roofline_seconds(memory_s: float, compute_s: float) -> float:
    """A kernel's time from its memory and compute times: ``(m⁴ + c⁴)^(1/4)`` (module doc),
    at least the larger of the two, at most 19 % above it (equal terms)."""
    if memory_s > compute_s:
        high, low = memory_s, compute_s
    else:
        high, low = compute_s, memory_s
    if not 0.0 < high < math.inf:
        return high
    knee = ROOFLINE_KNEE_EXPONENT
    return float(high * (1.0 + (low / high) ** knee) ** (1.0 / knee))


def phase_seconds(terms: PhaseTerms, efficiency: Efficiency, *, mfu: float, mbu: float) -> float:
    """The module formula: each kernel class at its roofline, plus communication and overhead."""
    matmuls = roofline_seconds(terms.weight_read_s / mbu, matmul_compute_s(terms, efficiency, mfu))
    attention = max(terms.kv_s / mbu, terms.attention_s / mfu)
    return (
        matmuls
        + attention
        + terms.routing_s / mbu
        + _communication_s(terms, efficiency)
        + _overhead_s(terms, efficiency)
    )


def _communication_s(terms: PhaseTerms, efficiency: Efficiency) -> float:
    """Collective bytes at the link's bandwidth times ``link_efficiency``, plus each
    message's latency."""
    return (
        terms.communication_s / efficiency.link_efficiency
        + terms.all_reduces * efficiency.all_reduce_latency_us * 1e-6
    )


def _overhead_s(terms: PhaseTerms, efficiency: Efficiency) -> float:
    return efficiency.step_overhead_ms / 1e3 + terms.layers * efficiency.layer_overhead_us / 1e6


def phase_time(terms: PhaseTerms, efficiency: Efficiency, *, mfu: float, mbu: float) -> Phase:
    """:func:`phase_seconds` with its parts: compute, memory, communication, overhead."""
    comm_s = _communication_s(terms, efficiency)
    compute_s = matmul_compute_s(terms, efficiency, mfu) + terms.attention_s / mfu
    memory_s = (terms.weight_read_s + terms.kv_s + terms.routing_s) / mbu
    parts = {
        Bound.COMPUTE: compute_s,
        Bound.MEMORY_BANDWIDTH: memory_s,
        Bound.COMMUNICATION: comm_s,
    }
    return Phase(
        ms=phase_seconds(terms, efficiency, mfu=mfu, mbu=mbu) * 1e3,
        compute_ms=compute_s * 1e3,
        memory_ms=memory_s * 1e3,
        communication_ms=comm_s * 1e3,
        overhead_ms=_overhead_s(terms, efficiency) * 1e3,
        bound=max(parts, key=lambda key: parts[key]),
    )


def prefill_terms(
    arch: Architecture, params: ParameterCount, serving: Serving, *, prompts: int, tokens: int
) -> PhaseTerms:
    """``prompts`` prompts of ``tokens`` tokens in one pass: weights once, KV written.

    Each GPU does 1/(t·pp) of the FLOPs; :func:`phase_terms` runs the pp stages one after
    another.
    """
    gpus = serving.tensor_parallel * serving.pipeline_parallel
    step_tokens = prompts * tokens
    matmul = 2 * matmul_parameters_per_token(arch, params) * tokens
    return phase_terms(
        arch,
        serving,
        weight_bytes=weight_bytes_read(arch, params, serving, step_tokens),
        matmul_flops=prompts * matmul / gpus,
        kv_bytes=prompts * _kv_bytes(arch, serving, tokens),
        attention_flops=prompts * (prefill_flops(arch, params, tokens) - matmul) / gpus,
        tokens_in_step=step_tokens,
        expert_flops=2 * routed_parameters_per_token(arch, params) * step_tokens / gpus,
    )


def decode_terms(
    arch: Architecture, params: ParameterCount, serving: Serving, *, batch: int, context: int
) -> PhaseTerms:
    """One decode step of ``batch`` sequences at ``context`` tokens: weights once, KV each."""
    gpus = serving.tensor_parallel * serving.pipeline_parallel
    return phase_terms(
        arch,
        serving,
        weight_bytes=weight_bytes_read(arch, params, serving, batch),
        matmul_flops=batch * 2 * matmul_parameters_per_token(arch, params) / gpus,
        kv_bytes=batch * _kv_bytes(arch, serving, context),
        attention_flops=batch * attention_flops_per_token(arch, context) / gpus,
        tokens_in_step=batch,
        expert_flops=2 * routed_parameters_per_token(arch, params) * batch / gpus,
    )


def _kv_bytes(arch: Architecture, serving: Serving, context: int) -> float:
    """KV bytes of one sequence per GPU: its TP shard, or under attention data parallelism
    its unsharded cache on one of the ``t`` ranks, ``1/t`` of it per GPU on average (MLA and
    replicated KV heads are not copied onto every GPU there; :func:`cache_ranks`)."""
    ranks, cache_tp = cache_ranks(serving.tensor_parallel, serving.attention_data_parallel)
    whole = kv_cache_bytes(
        arch,
        serving.kv_precision,
        context,
        tensor_parallel=cache_tp,
        pipeline_parallel=serving.pipeline_parallel,
    )
    return whole / ranks


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
    prefill = phase_time(
        prefill_terms(arch, params, serving, prompts=batch_size, tokens=input_tokens),
        eff,
        mfu=eff.prefill_mfu,
        mbu=eff.prefill_mbu,
    )
    decode = phase_time(
        decode_terms(
            arch, params, serving, batch=batch_size, context=input_tokens + output_tokens // 2
        ),
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
