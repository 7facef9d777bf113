"""The KV cache: bytes per token, per layer kind, per GPU, and for a context.

Formula sheet §2.3::

    full / sliding layer:  2 · H_kv_per_gpu · h · b_kv     bytes per token per layer (K and V)
    MLA layer:             (kv_lora_rank + qk_rope_head_dim) · b_kv       (latent, one "head")
    sliding layer holds    min(T, W) tokens; a full layer holds T

``H_kv_per_gpu = max(1, H_kv // t)``: KV heads are split across tensor-parallel ranks and
replicated once ``t`` exceeds them; MLA's latent is replicated on every rank (vLLM
``ModelConfig.get_num_kv_heads``). Sources: kipply, NVIDIA, Databricks, DeepSeek-V2 paper.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator

import msgspec

from service.domain.architecture import Architecture, AttentionKind, LayerAttention
from service.domain.precision import Precision, parse_dtype


class KvLayerGroup(msgspec.Struct, frozen=True, kw_only=True):
    """Layers that cache alike: their kind, window and bytes per token (all of them)."""

    kind: str
    window_tokens: int | None
    num_layers: int
    bytes_per_token: int


def resolve_kv_precision(arch: Architecture, requested: str) -> Precision:
    """``auto`` caches in the model's activation dtype (bf16/fp16; fp32 models run in bf16)."""
    if requested != "auto":
        return parse_dtype(requested)
    dtype = parse_dtype(arch.checkpoint_dtype)
    return Precision.FP16 if dtype is Precision.FP16 else Precision.BF16


def kv_bytes_per_element(precision: Precision) -> int:
    """2 bytes for bf16/fp16, 1 for fp8/int8, 4 for fp32."""
    if precision is Precision.FP32:
        return 4
    if precision in (Precision.FP8, Precision.INT8):
        return 1
    if precision in (Precision.BF16, Precision.FP16):
        return 2
    raise ValueError(f"{precision} is not a KV cache precision")


def kv_heads_per_gpu(arch: Architecture, tensor_parallel: int) -> int:
    """``max(1, H_kv // t)``; MLA caches a single latent "head" on every rank."""
    if arch.mla is not None:
        return 1
    return max(1, arch.num_kv_heads // tensor_parallel)


def kv_cache_bytes_per_token_per_layer(
    arch: Architecture, precision: Precision, tensor_parallel: int = 1
) -> int:
    """Bytes one token adds to one layer's cache on one GPU."""
    element = kv_bytes_per_element(precision)
    if arch.mla is not None:
        return (arch.mla.kv_lora_rank + arch.mla.qk_rope_head_dim) * element
    return 2 * kv_heads_per_gpu(arch, tensor_parallel) * arch.head_dim * element


def kv_cache_bytes_per_token(
    arch: Architecture, precision: Precision, tensor_parallel: int = 1, pipeline_parallel: int = 1
) -> int:
    """Full-context bytes per token on the busiest GPU (every layer holding the token).

    For sliding-window models this is the figure before the window caps it; use
    :func:`kv_cache_bytes` for a given context. Llama-3-8B bf16: 131,072 B.
    """
    layers = max(len(stage) for stage in pipeline_stages(arch, pipeline_parallel))
    return layers * kv_cache_bytes_per_token_per_layer(arch, precision, tensor_parallel)


def tokens_held(layer: LayerAttention, context_tokens: int) -> int:
    """A full layer holds every token; a sliding layer at most its window."""
    if layer.kind is AttentionKind.SLIDING and layer.window_tokens is not None:
        return min(context_tokens, layer.window_tokens)
    return context_tokens


def kv_cache_bytes(
    arch: Architecture,
    precision: Precision,
    context_tokens: int,
    *,
    tensor_parallel: int = 1,
    pipeline_parallel: int = 1,
) -> int:
    """Bytes one sequence of ``context_tokens`` occupies on the busiest GPU (exact, unpaged).

    ``[L_full · T + Σ_sliding min(T, W)] · per_token_per_layer``.
    """
    per_layer = kv_cache_bytes_per_token_per_layer(arch, precision, tensor_parallel)
    return max(
        sum(count * tokens_held(layer, context_tokens) for layer, count in stage) * per_layer
        for stage in stage_layer_kinds(arch, pipeline_parallel)
    )


@functools.lru_cache(maxsize=1024)
def stage_layer_kinds(
    arch: Architecture, pipeline_parallel: int = 1
) -> tuple[tuple[tuple[LayerAttention, int], ...], ...]:
    """Per pipeline stage, each distinct layer attention with how many layers have it.

    Sums over layers only depend on (kind, window), so grouping keeps them exact while
    the planner's inner loop stays independent of the layer count.
    """
    stages = []
    for stage in pipeline_stages(arch, pipeline_parallel):
        counts: dict[LayerAttention, int] = {}
        for i in stage:
            layer = arch.layer_attention[i]
            counts[layer] = counts.get(layer, 0) + 1
        stages.append(tuple(counts.items()))
    return tuple(stages)


def pipeline_stages(arch: Architecture, pipeline_parallel: int) -> Iterator[range]:
    """Contiguous layer ranges of ``ceil(L/pp)`` layers, one per pipeline stage."""
    size = math.ceil(arch.num_layers / pipeline_parallel)
    for start in range(0, arch.num_layers, size):
        yield range(start, min(start + size, arch.num_layers))


def kv_layer_groups(
    arch: Architecture, precision: Precision, tensor_parallel: int = 1
) -> list[KvLayerGroup]:
    """The cache by layer kind: full, each sliding window, or MLA latent."""
    per_layer = kv_cache_bytes_per_token_per_layer(arch, precision, tensor_parallel)
    counts: dict[tuple[str, int | None], int] = {}
    for layer in arch.layer_attention:
        kind = "mla" if arch.mla is not None else layer.kind.value
        key = (kind, layer.window_tokens)
        counts[key] = counts.get(key, 0) + 1
    return [
        KvLayerGroup(kind=kind, window_tokens=window, num_layers=n, bytes_per_token=n * per_layer)
        for (kind, window), n in counts.items()
    ]
