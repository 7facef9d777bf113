"""How many sequences fit: the KV budget, paged in blocks, against a context length.

vLLM closed form (formula sheet §2.5)::

    num_blocks      = floor(kv_budget / (block_size · kv_bytes_per_token_per_gpu))
    blocks_per_seq  = ceil(context / block_size)            (full-attention layers)
    max_batch       = floor(num_blocks / blocks_per_seq)

Sliding-window layers need at most ``ceil(min(W − 1 + batched_tokens, T) / block) + 1``
blocks (vLLM ``SlidingWindowSpec.max_memory_usage_bytes``) with the hybrid allocator.
"""

from __future__ import annotations

import enum
import math

import msgspec

from service.domain.architecture import Architecture, AttentionKind, LayerAttention
from service.domain.engine import (
    EngineProfile,
    activation_peak_bytes,
    batched_tokens,
    non_torch_bytes,
)
from service.domain.kv_cache import (
    kv_cache_bytes_per_token_per_layer,
    pipeline_stages,
    stage_layer_kinds,
)
from service.domain.precision import Precision
from service.domain.units import format_bytes


class BindingConstraint(enum.StrEnum):
    """What limits the answer."""

    KV_CACHE = "kv_cache_memory"
    WEIGHTS = "weights_exceed_memory"
    MODEL_CONTEXT = "model_max_context"
    MAX_NUM_SEQS = "max_num_seqs"


class Deployment(msgspec.Struct, frozen=True, kw_only=True):
    """Where and how a model is served: the knobs of ``vllm serve``."""

    gpu_memory_bytes: int
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    weight_precision: Precision = Precision.BF16
    kv_precision: Precision = Precision.BF16
    gpu_memory_utilization: float = 0.9
    max_num_seqs: int | None = None


class MemoryBudget(msgspec.Struct, frozen=True, kw_only=True):
    """Per-GPU memory, in bytes, as the engine divides it at start-up."""

    total: int
    usable: int
    weights: int
    activation: int
    non_torch: int
    cudagraph: int
    kv_cache: int


class Capacity(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to "how many at once" for one deployment and context."""

    fits: bool
    max_batch: int
    kv_cache_tokens: int
    kv_cache_blocks: int
    max_context_for_batch_1: int
    memory: MemoryBudget
    binding_constraint: BindingConstraint
    reasons: tuple[str, ...]


def memory_budget(
    arch: Architecture,
    weights_per_gpu_bytes: int,
    deployment: Deployment,
    profile: EngineProfile,
    max_model_len: int,
) -> MemoryBudget:
    """``total · util − weights − activation − non_torch − cudagraph`` (may be negative)."""
    usable = int(deployment.gpu_memory_bytes * deployment.gpu_memory_utilization)
    activation = activation_peak_bytes(arch, profile, max_model_len, deployment.tensor_parallel)
    other = non_torch_bytes(profile, deployment.tensor_parallel)
    kv = usable - weights_per_gpu_bytes - activation - other - profile.cudagraph_bytes
    return MemoryBudget(
        total=deployment.gpu_memory_bytes,
        usable=usable,
        weights=weights_per_gpu_bytes,
        activation=activation,
        non_torch=other,
        cudagraph=profile.cudagraph_bytes,
        kv_cache=kv,
    )


def layer_blocks(
    layer: LayerAttention, profile: EngineProfile, context_tokens: int, max_model_len: int
) -> int:
    """Blocks one sequence of ``context_tokens`` needs in one layer."""
    block = profile.block_size_tokens
    full = math.ceil(context_tokens / block)
    windowed = layer.kind is AttentionKind.SLIDING and layer.window_tokens is not None
    if not (windowed and profile.hybrid_kv_allocator) or layer.window_tokens is None:
        return full
    chunk = batched_tokens(profile, max_model_len)
    window = min(layer.window_tokens - 1 + chunk, context_tokens)
    return min(full, math.ceil(window / block) + 1)


def sequence_kv_bytes(
    arch: Architecture,
    deployment: Deployment,
    profile: EngineProfile,
    context_tokens: int,
    max_model_len: int,
) -> int:
    """Paged KV bytes of one sequence on the busiest GPU, with block rounding."""
    per_block_layer = profile.block_size_tokens * kv_cache_bytes_per_token_per_layer(
        arch, deployment.kv_precision, deployment.tensor_parallel
    )
    return max(
        sum(
            count * layer_blocks(layer, profile, context_tokens, max_model_len)
            for layer, count in stage
        )
        * per_block_layer
        for stage in stage_layer_kinds(arch, deployment.pipeline_parallel)
    )


def capacity(
    arch: Architecture,
    weights_per_gpu_bytes: int,
    deployment: Deployment,
    profile: EngineProfile,
    context_tokens: int,
    *,
    with_max_context: bool = True,
) -> Capacity:
    """Max concurrent sequences of ``context_tokens`` (the engine's ``max_model_len``).

    ``with_max_context=False`` skips the search for the longest single-sequence context
    (reported as 0), which the planner does not need.
    """
    budget = memory_budget(arch, weights_per_gpu_bytes, deployment, profile, context_tokens)
    layers = max(len(s) for s in pipeline_stages(arch, deployment.pipeline_parallel))
    block_bytes = (
        profile.block_size_tokens
        * layers
        * kv_cache_bytes_per_token_per_layer(
            arch, deployment.kv_precision, deployment.tensor_parallel
        )
    )
    blocks = max(budget.kv_cache, 0) // block_bytes
    tokens = blocks * profile.block_size_tokens
    per_sequence = sequence_kv_bytes(arch, deployment, profile, context_tokens, context_tokens)
    kv_capacity = blocks * block_bytes
    max_batch = kv_capacity // per_sequence
    max_context = (
        max_context_for_batch(arch, deployment, profile, kv_capacity, 1, context_tokens)
        if with_max_context
        else 0
    )
    reasons: list[str] = []
    binding = BindingConstraint.KV_CACHE
    if budget.usable < budget.weights:
        binding = BindingConstraint.WEIGHTS
        reasons.append(
            f"weights need {format_bytes(budget.weights)} per GPU, "
            f"{format_bytes(budget.usable)} usable per GPU "
            f"({deployment.gpu_memory_utilization:.0%} of {format_bytes(budget.total)})"
        )
    elif budget.kv_cache <= 0:
        reasons.append(
            f"no memory left for the KV cache: weights {format_bytes(budget.weights)} + "
            f"activations {format_bytes(budget.activation)} + runtime "
            f"{format_bytes(budget.non_torch)} exceed {format_bytes(budget.usable)} usable"
        )
    if context_tokens > arch.max_context_tokens:
        binding = BindingConstraint.MODEL_CONTEXT
        reasons.append(
            f"context {context_tokens} tokens exceeds the model's maximum of "
            f"{arch.max_context_tokens}"
        )
        max_batch = 0
    elif max_batch == 0 and not reasons:
        reasons.append(
            f"one sequence of {context_tokens} tokens needs {format_bytes(per_sequence)} of KV "
            f"cache, {format_bytes(kv_capacity)} available"
        )
    if deployment.max_num_seqs is not None and max_batch > deployment.max_num_seqs:
        max_batch = deployment.max_num_seqs
        binding = BindingConstraint.MAX_NUM_SEQS
    return Capacity(
        fits=max_batch >= 1,
        max_batch=max_batch,
        kv_cache_tokens=tokens,
        kv_cache_blocks=blocks,
        max_context_for_batch_1=max_context,
        memory=budget,
        binding_constraint=binding,
        reasons=tuple(reasons),
    )


def max_context_for_batch(
    arch: Architecture,
    deployment: Deployment,
    profile: EngineProfile,
    kv_capacity_bytes: int,
    batch: int,
    max_model_len: int,
) -> int:
    """Largest context (<= the model's maximum) for which ``batch`` sequences fit; 0 if none.

    Binary search: paged KV bytes per sequence never decrease as the context grows.
    """

    def fits(context: int) -> bool:
        need = sequence_kv_bytes(arch, deployment, profile, context, max_model_len)
        return batch * need <= kv_capacity_bytes

    low, high = 0, arch.max_context_tokens
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low
