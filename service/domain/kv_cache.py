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
from typing import Annotated

import msgspec

from service.domain.architecture import Architecture, AttentionKind, LayerAttention, MixerKind
from service.domain.gpu import GpuSpec
from service.domain.precision import Precision, parse_dtype
from service.domain.served_dtype import served_precision

MLA_BLOCK_ALIGNMENT_TOKENS = 64
"""vLLM ``HybridAttentionMambaModelConfig``: "Other MLA backends: kernel_block_size 64
alignment" (128 only when CUTLASS_MLA is forced through ``VLLM_ATTENTION_BACKEND``)."""


class KvLayerGroup(msgspec.Struct, frozen=True, kw_only=True):
    """Layers that cache alike: their kind, window and bytes per token (all of them)."""

    kind: Annotated[
        str, msgspec.Meta(description="Attention kind of these layers (full, sliding, ...)")
    ]
    window_tokens: (
        Annotated[
            int, msgspec.Meta(description="Tokens a sliding window keeps; null: the whole context")
        ]
        | None
    )
    num_layers: Annotated[int, msgspec.Meta(description="Layers in the group (count)")]
    bytes_per_token: Annotated[
        int, msgspec.Meta(description="KV cache bytes per token of all these layers, whole model")
    ]


def resolve_kv_precision(
    arch: Architecture, requested: str, gpu: GpuSpec | None = None, weight_dtype: str = "auto"
) -> Precision:
    """``auto`` caches in the model dtype the deployment runs in
    (:func:`~service.domain.served_dtype.served_precision`: fp32 checkpoints run in bf16, a
    bf16 one in fp16 on a chip without bf16, fp16 weights asked for are ``--dtype half``)."""
    return served_precision(arch, gpu, weight_dtype, requested).kv


def kv_bytes_per_element(precision: Precision) -> int:
    """2 bytes for bf16/fp16, 1 for fp8/int8, 4 for fp32."""
    if precision is Precision.FP32:
        return 4
    if precision in (Precision.FP8, Precision.INT8):
        return 1
    if precision in (Precision.BF16, Precision.FP16):
        return 2
    raise ValueError(f"{precision} is not a KV cache precision")


def cache_ranks(tensor_parallel: int, attention_data_parallel: bool) -> tuple[int, int]:
    """(GPUs that keep caches of their own, the TP each lays its cache out at).

    TP: one cache sharded over the ``t`` GPUs, ``(1, t)``. Attention data parallelism over
    the ``t`` GPUs: each rank caches its own sequences unsharded (every KV head, MLA's whole
    latent), ``(t, 1)``; the group holds ``t`` times one rank's sequences."""
    if attention_data_parallel and tensor_parallel > 1:
        return tensor_parallel, 1
    return 1, tensor_parallel


def kv_heads_per_gpu(arch: Architecture, tensor_parallel: int) -> int:
    """``max(1, H_kv // t)``; MLA caches a single latent "head" on every rank."""
    if arch.mla is not None:
        return 1
    return max(1, arch.num_kv_heads // tensor_parallel)


def kv_cache_bytes_per_token_per_layer(
    arch: Architecture,
    precision: Precision,
    tensor_parallel: int = 1,
    layer: LayerAttention | None = None,
) -> int:
    """Bytes one token adds to one layer's cache on one GPU.

    A sparse-attention (DSA indexer) MLA model cached in fp8 uses vLLM's ``fp8_ds_mla``
    layout: the latent in fp8 with an fp32 scale per 128 and the RoPE part in bf16,
    ``r + r/128·4 + 2·rope`` = 656 B for DeepSeek-V3.2 (``DeepseekV32ForCausalLM``
    ``verify_and_update_config`` turns any fp8 KV dtype into it; ``FlashMLASparseBackend``
    ``get_kv_cache_shape``).

    ``layer`` with its own head width / KV heads (Gemma 4 global layers) caches those; a
    shared-KV layer caches nothing; K-as-V layers still cache K and V (vLLM ``gemma4.py``
    loads the key weights into both slots).
    """
    element = kv_bytes_per_element(precision)
    if arch.mla is not None:
        if arch.indexer is not None and element == 1:
            return fp8_ds_mla_bytes_per_token(arch)
        return (arch.mla.kv_lora_rank + arch.mla.qk_rope_head_dim) * element
    if layer is not None and layer.shares_kv:
        return 0
    heads = kv_heads_per_gpu(arch, tensor_parallel)
    if layer is not None and layer.kv_heads is not None:
        heads = max(1, layer.kv_heads // tensor_parallel)
    head_dim = (layer.head_dim if layer is not None else None) or arch.head_dim
    return 2 * heads * head_dim * element


def fp8_ds_mla_bytes_per_token(arch: Architecture) -> int:
    """``kv_lora_rank + kv_lora_rank // 128 · 4 + qk_rope_head_dim · 2`` (module doc)."""
    if arch.mla is None:
        raise ValueError("fp8_ds_mla is an MLA cache layout")
    rank = arch.mla.kv_lora_rank
    return rank + rank // 128 * 4 + arch.mla.qk_rope_head_dim * 2


def kv_cache_bytes_per_token(
    arch: Architecture, precision: Precision, tensor_parallel: int = 1, pipeline_parallel: int = 1
) -> int:
    """Full-context bytes per token on the busiest GPU (every layer holding the token), DSA
    indexer keys included (:func:`indexer_bytes_per_token`).

    For sliding-window models this is the figure before the window caps it; use
    :func:`kv_cache_bytes` for a given context. Llama-3-8B bf16: 131,072 B.
    """
    return max(
        sum(
            count * kv_cache_bytes_per_token_per_layer(arch, precision, tensor_parallel, layer)
            for layer, count in kinds
        )
        + indexer_bytes_per_token(arch, layers)
        for kinds, layers in zip(
            stage_layer_kinds(arch, pipeline_parallel),
            pipeline_stages(arch, pipeline_parallel),
            strict=True,
        )
    )


def indexer_bytes_per_token(arch: Architecture, layers: range | None = None) -> int:
    """DSA indexer key bytes one token adds over ``layers`` (default: all): one
    ``indexer.cache_bytes_per_token`` per layer with its own indexer, whatever the KV dtype
    (vLLM ``DeepseekV32IndexerCache``; SGLang's NSA pool keeps the same fp8 key and scale).
    DeepSeek-V3.2, 61 layers: 61 · 132 = 8,052 B."""
    if arch.indexer is None:
        return 0
    chosen = range(arch.num_layers) if layers is None else layers
    return arch.indexer.cache_bytes_per_token * sum(
        1 for i in chosen if _caches_indexer_key(arch, i)
    )


def _caches_indexer_key(arch: Architecture, layer: int) -> bool:
    """An MLA attention layer with its own DSA indexer (not one reusing an earlier top-k)."""
    indexer = arch.indexer
    return (
        indexer is not None
        and arch.mla is not None
        and arch.mixers[layer] in (MixerKind.ATTENTION, MixerKind.ATTENTION_MAMBA2)
        and not arch.layer_attention[layer].shares_kv
        and (not indexer.layers or layer in indexer.layers)
    )


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

    ``[L_full · T + Σ_sliding min(T, W)] · per_token_per_layer`` plus ``T`` DSA indexer keys
    per indexer layer (:func:`indexer_bytes_per_token`).
    """
    return max(
        sum(
            count
            * tokens_held(layer, context_tokens)
            * kv_cache_bytes_per_token_per_layer(arch, precision, tensor_parallel, layer)
            for layer, count in kinds
        )
        + context_tokens * indexer_bytes_per_token(arch, layers)
        for kinds, layers in zip(
            stage_layer_kinds(arch, pipeline_parallel),
            pipeline_stages(arch, pipeline_parallel),
            strict=True,
        )
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
    counts: dict[tuple[str, int | None], tuple[int, int]] = {}
    for layer in arch.layer_attention:
        per_layer = kv_cache_bytes_per_token_per_layer(arch, precision, tensor_parallel, layer)
        if not per_layer:
            continue
        kind = "mla" if arch.mla is not None else layer.kind.value
        key = (kind, layer.window_tokens)
        n, total = counts.get(key, (0, 0))
        counts[key] = (n + 1, total + per_layer)
    return [
        KvLayerGroup(kind=kind, window_tokens=window, num_layers=n, bytes_per_token=total)
        for (kind, window), (n, total) in counts.items()
    ]


# --- Per-layer cache specs and how an engine's allocator lays them out -------------------


class LayerKvSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What one decoder layer caches on one GPU (the interface architectures produce).

    * attention kinds (``full``, ``sliding``, ``mla``): ``bytes_per_token`` per token held;
      a ``sliding`` layer keeps at most ``window_tokens`` of them;
    * ``state`` (Mamba / linear attention): a fixed ``state_bytes_per_sequence``,
      whatever the context (vLLM ``MambaSpec``).
    """

    kind: str
    bytes_per_token: int = 0
    window_tokens: int | None = None
    state_bytes_per_sequence: int = 0
    state_blocks: int = 1
    """Blocks of state one sequence holds (:func:`state_blocks_per_sequence`)."""

    def page_bytes(self, block_tokens: int) -> int:
        """One block of this layer: ``block · bytes_per_token`` (a state layer: its state)."""
        if self.kind == "state":
            return self.state_bytes_per_sequence
        return block_tokens * self.bytes_per_token


class KvCacheGroup(msgspec.Struct, frozen=True, kw_only=True):
    """Layers sharing one block table in vLLM's hybrid allocator (``KVCacheGroupSpec``).

    ``num_layers`` counts padding layers, which hold memory but no layer.
    """

    spec: LayerKvSpec
    num_layers: int
    block_tokens: int


MAMBA_CACHE_MODE_BLOCKS = {"none": 1, "align": 2}
"""State blocks a sequence holds by vLLM ``mamba_cache_mode`` before speculative ones
(``MambaSpec.max_memory_usage_bytes``: ``page · (1 + num_speculative_blocks)``, and
``page · (2 + num_speculative_blocks)`` in ``align`` mode, where prefix caching keeps the
previous block's state beside the running one; vllm/v1/kv_cache_interface.py)."""

SPECULATIVE_CONV_MIXERS = frozenset({MixerKind.GATED_DELTANET, MixerKind.KDA})
"""Mixers whose convolution state keeps ``k − 1 + num_speculative_tokens`` rows (vLLM
``MambaStateShapeCalculator.gated_delta_net_state_shape`` / ``short_conv_state_shape``:
``conv_kernel_size - 1 + num_spec``)."""


def state_blocks_per_sequence(mamba_cache_mode: str, speculative_tokens: int = 0) -> int:
    """``MAMBA_CACHE_MODE_BLOCKS[mode] + num_speculative_blocks`` (= speculative tokens)."""
    if mamba_cache_mode not in MAMBA_CACHE_MODE_BLOCKS:
        raise ValueError(f"mamba_cache_mode {mamba_cache_mode!r} is not modelled")
    return MAMBA_CACHE_MODE_BLOCKS[mamba_cache_mode] + max(speculative_tokens, 0)


def layer_kv_specs(
    arch: Architecture,
    precision: Precision,
    tensor_parallel: int = 1,
    layers: range | None = None,
    *,
    speculative_tokens: int = 0,
    state_blocks: int = 1,
) -> tuple[LayerKvSpec, ...]:
    """The spec of every caching layer (or of ``layers``, one pipeline stage) on one GPU.

    Attention layers cache ``bytes_per_token`` (full, sliding or chunked-local windows, MLA
    latent); linear-attention / state-space layers (``arch.state``) a fixed state per
    sequence, its convolution state in the activation dtype and its recurrent state in
    ``ssm_state_dtype`` when the config names one (vLLM ``mamba_ssm_cache_dtype``);
    layers without a mixer cache nothing. A layer with its own DSA indexer also caches the
    indexer's key, a cache layer of its own in vLLM (``DeepseekV32IndexerCache``:
    ``MLAAttentionSpec`` of one head of ``indexer.cache_bytes_per_token`` uint8).

    With ``speculative_tokens`` (MTP drafting), the convolution state grows by that many
    rows (:data:`SPECULATIVE_CONV_MIXERS`) and the stage holding the last layer also caches
    the ``mtp_layers`` draft layers, attention layers shaped like the model's full ones
    (vLLM ``Qwen3_5MultiTokenPredictor`` / ``DeepSeekMTP``). ``state_blocks``: blocks of
    state a sequence holds (:func:`state_blocks_per_sequence`).
    """
    chosen = range(arch.num_layers) if layers is None else layers
    state_bytes = _state_bytes_per_sequence(arch, tensor_parallel, speculative_tokens)
    mixers = arch.mixers
    specs = []
    for i in chosen:
        if mixers[i] is MixerKind.NONE:
            continue
        if mixers[i] is not MixerKind.ATTENTION:
            specs.append(
                LayerKvSpec(
                    kind="state", state_bytes_per_sequence=state_bytes, state_blocks=state_blocks
                )
            )
            if mixers[i] is not MixerKind.ATTENTION_MAMBA2:  # Falcon-H1 layers also attend
                continue
        layer = arch.layer_attention[i]
        if layer.shares_kv:
            continue  # reads an earlier layer's cache (vLLM kv_sharing_target_layer_name)
        per_token = kv_cache_bytes_per_token_per_layer(arch, precision, tensor_parallel, layer)
        if arch.mla is not None:
            specs.append(LayerKvSpec(kind="mla", bytes_per_token=per_token))
            if arch.indexer is not None and _caches_indexer_key(arch, i):
                indexer = arch.indexer.cache_bytes_per_token
                specs.append(LayerKvSpec(kind="mla", bytes_per_token=indexer))
        elif layer.kind is not AttentionKind.FULL and layer.window_tokens is not None:
            kind = "sliding" if layer.kind is AttentionKind.SLIDING else "chunked"
            specs.append(
                LayerKvSpec(kind=kind, bytes_per_token=per_token, window_tokens=layer.window_tokens)
            )
        else:
            specs.append(LayerKvSpec(kind="full", bytes_per_token=per_token))
    if speculative_tokens > 0 and arch.mtp_layers and arch.num_layers - 1 in chosen:
        per_token = kv_cache_bytes_per_token_per_layer(arch, precision, tensor_parallel)
        kind = "mla" if arch.mla is not None else "full"
        specs.extend(
            LayerKvSpec(kind=kind, bytes_per_token=per_token) for _ in range(arch.mtp_layers)
        )
    return tuple(specs)


def _state_bytes_per_sequence(
    arch: Architecture, tensor_parallel: int, speculative_tokens: int = 0
) -> int:
    """Convolution state in the activation dtype (``k − 1`` rows, plus one per speculative
    token for :data:`SPECULATIVE_CONV_MIXERS`) + recurrent state in ``ssm_state_dtype``."""
    state = arch.state
    if state is None:
        return 0
    activation = kv_bytes_per_element(resolve_kv_precision(arch, "auto"))
    dtype = state.ssm_state_dtype
    recurrent = kv_bytes_per_element(parse_dtype(dtype)) if dtype else activation
    conv = state.conv_elements(tensor_parallel)
    if speculative_tokens > 0 and state.kind in SPECULATIVE_CONV_MIXERS and state.conv_kernel > 1:
        rows = state.conv_kernel - 1
        conv = conv // rows * (rows + speculative_tokens)
    return conv * activation + state.state_elements(tensor_parallel) * recurrent


def hybrid_kv_groups(
    specs: tuple[LayerKvSpec, ...], block_tokens: int, *, hybrid: bool = True
) -> tuple[KvCacheGroup, ...]:
    """vLLM V1 ``get_kv_cache_groups`` (``vllm/v1/core/kv_cache_utils.py``).

    * one spec for every layer (or ``hybrid=False``, sliding and chunked-local layers treated
      as full, ``unify_hybrid_kv_cache_specs``): one group of all layers;
    * only full / MLA layers of different widths (a DSA indexer's key beside the latent):
      one group whose page is the sum of every layer's (``UniformTypeKVCacheSpecs``);
    * otherwise page sizes are unified first (:func:`unify_page_size`), then layers of each
      spec are cut into groups of ``group_size`` = the smallest spec's layer count, or the
      largest one's when that is < 1.25x the smallest (fewer padding layers); the last group
      of a spec is padded up to ``group_size``.
    """
    if not hybrid:
        specs = tuple(
            LayerKvSpec(kind="full", bytes_per_token=s.bytes_per_token)
            if s.kind in ("sliding", "chunked")
            else s
            for s in specs
        )
    by_spec: dict[LayerKvSpec, int] = {}
    for spec in specs:
        by_spec[spec] = by_spec.get(spec, 0) + 1
    if len(by_spec) == 1:
        ((spec, count),) = by_spec.items()
        return (KvCacheGroup(spec=spec, num_layers=count, block_tokens=block_tokens),)
    if all(s.kind in ("full", "mla") for s in by_spec):
        kind = specs[0].kind
        total = sum(s.bytes_per_token for s in specs)
        uniform = LayerKvSpec(kind=kind, bytes_per_token=total)
        return (KvCacheGroup(spec=uniform, num_layers=1, block_tokens=block_tokens),)
    blocks = unify_page_size(tuple(by_spec), block_tokens)
    smallest, largest = min(by_spec.values()), max(by_spec.values())
    group_size = largest if largest < 1.25 * smallest else smallest
    return tuple(
        KvCacheGroup(spec=spec, num_layers=group_size, block_tokens=blocks[spec])
        for spec, count in by_spec.items()
        for _ in range(math.ceil(count / group_size))
    )


def layer_groups(
    specs: tuple[LayerKvSpec, ...], block_tokens: int, *, hybrid: bool = True
) -> tuple[KvCacheGroup, ...]:
    """Layers counted by spec, no padding (vLLM V0: one block spans every layer; with
    ``hybrid`` a sliding layer still frees what falls out of its window)."""
    counts: dict[LayerKvSpec, int] = {}
    for layer in specs:
        spec = layer
        if not hybrid and layer.kind == "sliding":
            spec = LayerKvSpec(kind="full", bytes_per_token=layer.bytes_per_token)
        counts[spec] = counts.get(spec, 0) + 1
    return tuple(
        KvCacheGroup(spec=spec, num_layers=n, block_tokens=block_tokens)
        for spec, n in counts.items()
    )


def unify_page_size(specs: tuple[LayerKvSpec, ...], block_tokens: int) -> dict[LayerKvSpec, int]:
    """Block tokens per spec so that every page has the largest page's bytes
    (``unify_kv_cache_spec_page_size``): attention blocks grow by ``max_page / page``.

    With state layers (Mamba) vLLM first raises the attention block until one attention page
    holds at least one state (``HybridAttentionMambaModelConfig``, in multiples of the
    attention kernel's block alignment: 16 tokens, 64 for MLA backends) and pads the state
    page to it.
    """
    attention = [s for s in specs if s.kind != "state"]
    states = [s for s in specs if s.kind == "state"]
    block = block_tokens
    if states and attention:
        per_token = max(s.bytes_per_token for s in attention)
        need = max(s.state_bytes_per_sequence for s in states)
        align = MLA_BLOCK_ALIGNMENT_TOKENS if any(s.kind == "mla" for s in attention) else 16
        block = max(block, align * math.ceil(need / (align * per_token)))
    largest = max(s.page_bytes(block) for s in specs)
    result = {}
    for spec in specs:
        if spec.kind == "state":
            result[spec] = 1
            continue
        page = spec.page_bytes(block)
        result[spec] = block * max(1, largest // page)
    return result


def group_page_bytes(groups: tuple[KvCacheGroup, ...]) -> int:
    """Bytes of one block id: ``group_size`` layers of the unified (largest) page; a smaller
    page (a Mamba state) is padded up to it."""
    return max(g.num_layers for g in groups) * max(_unified_page(g) for g in groups)


def _unified_page(group: KvCacheGroup) -> int:
    if group.spec.kind == "state":
        return max(group.spec.state_bytes_per_sequence, 1)
    return group.block_tokens * group.spec.bytes_per_token


def allocator_blocks(available_bytes: int, groups: tuple[KvCacheGroup, ...]) -> int:
    """``num_blocks = available // page_size // group_size`` (``get_num_blocks``)."""
    return max(available_bytes, 0) // group_page_bytes(groups)


def allocator_tokens(num_blocks: int, groups: tuple[KvCacheGroup, ...]) -> int:
    """What vLLM logs as "GPU KV cache size": ``num_blocks // len(groups) · min block``."""
    attention = [g.block_tokens for g in groups if g.spec.kind != "state"]
    block = min(attention) if attention else 0
    return num_blocks // len(groups) * block


def group_blocks_per_sequence(group: KvCacheGroup, context_tokens: int, batched_tokens: int) -> int:
    """Blocks one sequence of ``context_tokens`` takes in one group (``max_memory_usage``).

    full / MLA: ``ceil(T / block)``; sliding: ``ceil(min(W − 1 + batched, T) / block) + 1``
    (the window may start mid-block; ``SlidingWindowSpec``), never above the full count;
    chunked local attention: ``ceil(min(W + batched, T) / block)``
    (``ChunkedLocalAttentionSpec``); state: ``spec.state_blocks``, whatever the context.
    """
    spec, block = group.spec, group.block_tokens
    if spec.kind == "state":
        return spec.state_blocks
    full = math.ceil(context_tokens / block)
    if spec.kind == "sliding" and spec.window_tokens is not None:
        window = min(spec.window_tokens - 1 + batched_tokens, context_tokens)
        return min(full, math.ceil(window / block) + 1)
    if spec.kind == "chunked" and spec.window_tokens is not None:
        return min(
            full, math.ceil(min(spec.window_tokens + batched_tokens, context_tokens) / block)
        )
    return full


def concurrency_tokens(
    num_blocks: int, groups: tuple[KvCacheGroup, ...], max_model_len: int, batched_tokens: int
) -> int:
    """What newer vLLM logs as "GPU KV cache size": ``int(max_concurrency · max_model_len)``
    with ``max_concurrency = num_blocks / Σ_groups blocks of a max_model_len request``
    (``get_kv_cache_capacity`` / ``get_max_concurrency_for_kv_cache_config``)."""
    per_request = blocks_per_sequence(groups, max_model_len, batched_tokens)
    if per_request <= 0:
        return 0
    return int(num_blocks / per_request * max_model_len)


def blocks_per_sequence(
    groups: tuple[KvCacheGroup, ...], context_tokens: int, batched_tokens: int
) -> int:
    """Blocks of the shared pool one sequence needs: the sum over groups."""
    return sum(group_blocks_per_sequence(g, context_tokens, batched_tokens) for g in groups)


def token_pool_bytes_per_token(specs: tuple[LayerKvSpec, ...]) -> int:
    """SGLang's ``cell_size`` / TensorRT-LLM's per-token KV: every layer holds every token
    (``profile_max_num_token``: heads · head_dim · layers · 2 · element, or the MLA latent)."""
    return sum(s.bytes_per_token for s in specs if s.kind != "state")
