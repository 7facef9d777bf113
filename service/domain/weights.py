"""Weight memory: by precision, and per GPU under tensor and pipeline parallelism."""

from __future__ import annotations

import functools
import math

import msgspec

from service.domain.architecture import Architecture
from service.domain.parameters import ParameterCount, attention_weights_per_layer
from service.domain.precision import (
    DEFAULT_INT4_GROUP_SIZE,
    Precision,
    bytes_per_element,
    parse_dtype,
)


class WeightMemory(msgspec.Struct, frozen=True, kw_only=True):
    """Bytes of weights for the whole model and on the busiest GPU."""

    precision: Precision
    total_bytes: int
    per_gpu_bytes: int


def resolve_weight_precision(arch: Architecture, requested: str) -> Precision:
    """``auto`` is the checkpoint's own format: its quantisation, else its 16/32-bit dtype."""
    if requested != "auto":
        return parse_dtype(requested)
    if arch.quantization is not None:
        return parse_dtype(arch.quantization.weight_dtype)
    return parse_dtype(arch.checkpoint_dtype)


def _group_size(arch: Architecture, precision: Precision) -> int:
    q = arch.quantization
    if q is not None and q.group_size and parse_dtype(q.weight_dtype) is precision:
        return q.group_size
    return DEFAULT_INT4_GROUP_SIZE


def _attention_stays_16_bit(arch: Architecture, precision: Precision) -> bool:
    """Checkpoints such as gpt-oss quantise only the experts and keep attention in bf16."""
    q = arch.quantization
    return q is not None and not q.attention_quantized and parse_dtype(q.weight_dtype) is precision


@functools.lru_cache(maxsize=4096)
def weight_memory(
    arch: Architecture,
    params: ParameterCount,
    precision: Precision,
    tensor_parallel: int = 1,
    pipeline_parallel: int = 1,
) -> WeightMemory:
    """``Σ numel · bytes(dtype)``; below 16 bit only the linear layers are quantised.

    Embeddings, lm_head, norms, biases and MoE routers stay 16-bit in quantised
    checkpoints (formula sheet §2.2), which matters for large vocabularies: Llama-3-8B in
    int4-g128 is 5.73 GB, not 8.03e9 · 0.52. Under TP the linear layers and the
    vocabulary are split ``t`` ways while norms and routers are replicated; KV projections
    are replicated when ``t`` exceeds the KV heads (vLLM ``get_num_kv_heads``). Under PP the
    busiest stage holds ``ceil(L/pp)`` layers plus the larger of embedding and lm_head.
    """
    b = params.breakdown
    small = 4.0 if precision is Precision.FP32 else 2.0
    linear = bytes_per_element(precision, _group_size(arch, precision))
    attention = small if _attention_stays_16_bit(arch, precision) else linear
    t = tensor_parallel
    layer_linear = b.mlp + b.routed_experts + b.shared_experts
    total = (
        b.attention * attention
        + layer_linear * linear
        + (b.embedding + b.position_embedding + b.lm_head + b.router + b.norms) * small
        + (b.biases + b.attention_sinks) * small
    )
    attention_layers = len(arch.attention_layers)
    # Linear-attention / state-space projections and DSA indexers (in b.attention beyond the
    # attention layers' q/k/v/o) are split t ways.
    other_mixers = b.attention - attention_layers * attention_weights_per_layer(arch)
    attention_per_gpu = attention_layers * _attention_weights_per_gpu(arch, t) + other_mixers / t
    layers_per_gpu_share = math.ceil(arch.num_layers / pipeline_parallel) / arch.num_layers
    per_layer_bytes = (
        attention_per_gpu * attention
        + layer_linear / t * linear
        + (b.router + b.norms) * small
        + (b.biases + b.attention_sinks) / t * small
    )
    vocab_bytes = (b.embedding + b.lm_head) / t * small + b.position_embedding * small
    if pipeline_parallel > 1:
        vocab_bytes = max(b.embedding, b.lm_head) / t * small + b.position_embedding * small
    per_gpu = per_layer_bytes * layers_per_gpu_share + vocab_bytes
    return WeightMemory(
        precision=precision, total_bytes=math.ceil(total), per_gpu_bytes=math.ceil(per_gpu)
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
