"""Weight memory: by storage format, and per GPU under tensor and pipeline parallelism."""

from __future__ import annotations

import enum
import functools
import math

import msgspec

from service.domain.architecture import Architecture
from service.domain.gpu import GpuSpec
from service.domain.kernel_layout import ExpertPadding
from service.domain.parameters import ParameterCount, attention_weights_per_layer
from service.domain.precision import Precision, parse_dtype
from service.domain.served_dtype import served_precision
from service.domain.weight_rates import expert_padding_factor, role_rates


class WeightsSource(enum.StrEnum):
    """Where a weight figure came from: the checkpoint's safetensors headers (exact bytes
    by dtype) or the config's shapes priced in their storage formats."""

    CHECKPOINT = "checkpoint"
    CONFIG = "config"


class WeightMemory(msgspec.Struct, frozen=True, kw_only=True):
    """Bytes of weights for the whole model and on the busiest GPU, and their source.

    ``padding_bytes`` is what the engine's kernel layout adds to the whole model
    (:mod:`service.domain.kernel_layout`), already inside both totals.
    """

    precision: Precision
    total_bytes: int
    per_gpu_bytes: int
    source: WeightsSource = WeightsSource.CONFIG
    padding_bytes: int = 0


def resolve_weight_precision(
    arch: Architecture, requested: str, gpu: GpuSpec | None = None
) -> Precision:
    """``auto`` is the checkpoint's own format: its quantisation, else the dtype vLLM serves
    its 16/32-bit tensors in on ``gpu`` (:func:`~service.domain.served_dtype.served_precision`:
    fp32 downcast, bf16 as fp16 on a chip without bf16; no GPU: a bf16 chip)."""
    return served_precision(arch, gpu, requested).weights


_SIXTEEN_BIT = frozenset({Precision.BF16, Precision.FP16})


def is_checkpoint_precision(arch: Architecture, precision: Precision) -> bool:
    """Whether the checkpoint's tensors keep their stored size in ``precision`` (so its
    safetensors bytes apply): its own format, or the other 16-bit float a 16-bit checkpoint
    is cast to at load (bf16 served as fp16 on a chip without bf16: the same bytes)."""
    if arch.quantization is not None:
        return parse_dtype(arch.quantization.weight_dtype) is precision
    stored = parse_dtype(arch.checkpoint_dtype)
    return stored is precision or {stored, precision} <= _SIXTEEN_BIT


@functools.lru_cache(maxsize=4096)
def weight_memory(
    arch: Architecture,
    params: ParameterCount,
    precision: Precision,
    tensor_parallel: int = 1,
    pipeline_parallel: int = 1,
    *,
    expert_padding: ExpertPadding | None = None,
    checkpoint_bytes: int | None = None,
) -> WeightMemory:
    """``Σ numel · bytes(format)`` by role; below 16 bit only linear layers are quantised.

    Each role's bytes per parameter come from its exact storage formats
    (:func:`role_rates`: scales, zero points, ignore lists). Embeddings, lm_head, norms,
    biases and MoE routers stay 16-bit (formula sheet §2.2). Under TP the linear layers
    and the vocabulary are split ``t`` ways while norms and routers are replicated; KV
    projections are replicated when ``t`` exceeds the KV heads (vLLM
    ``get_num_kv_heads``). Under PP the busiest stage holds ``ceil(L/pp)`` layers plus the
    larger of embedding and lm_head. ``expert_padding`` is the engine's MXFP4 MoE layout.

    ``checkpoint_bytes`` (default ``arch.checkpoint_bytes``), the exact bytes of the served
    checkpoint from its safetensors headers, replaces the config-derived total when
    ``precision`` is the checkpoint's own format; the per-GPU figure is then scaled by the
    same ratio (source ``checkpoint``).
    """
    b = params.breakdown
    small = 4.0 if precision is Precision.FP32 else 2.0
    if checkpoint_bytes is None:
        checkpoint_bytes = arch.checkpoint_bytes
    rates = role_rates(arch, precision)
    t = tensor_parallel
    padding_total = expert_padding_factor(arch, rates, expert_padding, 1)
    padding_rank = expert_padding_factor(arch, rates, expert_padding, t)
    experts_total = b.routed_experts * rates.experts
    total = (
        b.attention * rates.attention
        + b.mlp * rates.mlp
        + experts_total * padding_total
        + b.shared_experts * rates.shared
        + (b.embedding + b.position_embedding + b.lm_head + b.router + b.norms) * small
        + (b.biases + b.attention_sinks) * small
        + b.encoder * small
    )
    attention_layers = len(arch.attention_layers)
    # Linear-attention / state-space projections and DSA indexers (in b.attention beyond the
    # attention layers' q/k/v/o) are split t ways.
    other_mixers = b.attention - attention_layers * attention_weights_per_layer(arch)
    attention_per_gpu = attention_layers * _attention_weights_per_gpu(arch, t) + other_mixers / t
    layers_per_gpu_share = math.ceil(arch.num_layers / pipeline_parallel) / arch.num_layers
    per_layer_bytes = (
        attention_per_gpu * rates.attention
        + (b.mlp * rates.mlp + b.shared_experts * rates.shared) / t
        + experts_total / t * padding_rank
        + (b.router + b.norms) * small
        + (b.biases + b.attention_sinks) / t * small
    )
    vocab_bytes = (b.embedding + b.lm_head) / t * small + b.position_embedding * small
    if pipeline_parallel > 1:
        vocab_bytes = max(b.embedding, b.lm_head) / t * small + b.position_embedding * small
    # A multimodal encoder stays 16-bit, split t ways, on the first pipeline stage.
    per_gpu = per_layer_bytes * layers_per_gpu_share + vocab_bytes + b.encoder / t * small
    padding = experts_total * (padding_total - 1)
    source = WeightsSource.CONFIG
    if checkpoint_bytes is not None and is_checkpoint_precision(arch, precision):
        per_gpu *= (checkpoint_bytes + padding) / total
        total = checkpoint_bytes + padding
        source = WeightsSource.CHECKPOINT
    return WeightMemory(
        precision=precision,
        total_bytes=math.ceil(total),
        per_gpu_bytes=math.ceil(per_gpu),
        source=source,
        padding_bytes=math.ceil(padding),
    )


def _attention_weights_per_gpu(arch: Architecture, tensor_parallel: int) -> float:
    """One layer's attention weights on one TP rank, with KV-head replication."""
    full = attention_weights_per_layer(arch)
    if arch.mla is not None or tensor_parallel == 1:
        return full / tensor_parallel
    kv_weights = 2 * arch.hidden_size * arch.num_kv_heads * arch.head_dim
    kv_heads_per_gpu = max(1, arch.num_kv_heads // tensor_parallel)
    kv_per_gpu = 2 * arch.hidden_size * kv_heads_per_gpu * arch.head_dim
    return (full - kv_weights) / tensor_parallel + kv_per_gpu
