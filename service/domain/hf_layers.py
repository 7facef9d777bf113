"""Per-layer structure read from a config: attention windows, MLA shapes, DSA indexers.

Mixture-of-experts placement lives in :mod:`service.domain.hf_moe`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.architecture import (
    AttentionKind,
    InvalidConfig,
    LayerAttention,
    MultiHeadLatentAttention,
    SparseAttentionIndexer,
    UnsupportedArchitecture,
)
from service.domain.config_fields import (
    read_bool,
    read_int,
    read_int_list,
    read_optional_int,
    read_str_list,
)

FULL = LayerAttention(kind=AttentionKind.FULL)

_LAYER_TYPE_KINDS = {
    "full_attention": AttentionKind.FULL,
    "attention": AttentionKind.FULL,
    "global": AttentionKind.FULL,
    "sliding_attention": AttentionKind.SLIDING,
    "sliding_window": AttentionKind.SLIDING,
    "local": AttentionKind.SLIDING,
}


# Layer kinds transformers names that are not full or sliding attention: known, unmodelled.
_UNMODELLED_LAYER_TYPES = frozenset(
    {"linear_attention", "mamba", "chunked_attention", "conv", "recurrent", "hybrid"}
)


def _sliding(window: int, max_context: int) -> LayerAttention:
    """A window at least as long as the context is full attention in effect (published
    configs such as Phi-3.5-mini's say 262,144 for a 131,072-token context)."""
    if window >= max_context:
        return FULL
    return LayerAttention(kind=AttentionKind.SLIDING, window_tokens=window)


def layer_attention(
    config: Mapping[str, Any], model_type: str, num_layers: int, max_context: int
) -> tuple[LayerAttention, ...]:
    """Which layers use full attention and which a sliding window.

    Sources, in order: an explicit ``layer_types`` list (Gemma 3, gpt-oss, newer
    transformers); Gemma 2's 1:1 local/global alternation (arXiv:2408.00118) and Gemma 3's
    ``sliding_window_pattern`` (5 local : 1 global, arXiv:2503.19786), layer ``i`` local
    when ``(i + 1) % pattern != 0`` as in transformers; Qwen2/3 ``use_sliding_window`` from
    ``max_window_layers`` on; otherwise ``sliding_window`` on every layer (Mistral v0.1).
    """
    window = read_optional_int(config, "sliding_window", "sliding_window_size")
    layer_types = read_str_list(config, "layer_types")
    if layer_types is not None:
        if len(layer_types) != num_layers:
            raise InvalidConfig(
                "layer_types", f"has {len(layer_types)} entries for {num_layers} layers"
            )
        unknown = sorted({kind for kind in layer_types if kind not in _LAYER_TYPE_KINDS})
        unmodelled = [kind for kind in unknown if kind in _UNMODELLED_LAYER_TYPES]
        if unmodelled:
            raise UnsupportedArchitecture(
                f"layer type '{unmodelled[0]}'",
                f"not modelled for model_type '{model_type}'",
            )
        if unknown:
            raise InvalidConfig("layer_types", f"unknown layer kind '{unknown[0]}'")
        kinds = [_LAYER_TYPE_KINDS[kind] for kind in layer_types]
        if AttentionKind.SLIDING in kinds and window is None:
            raise InvalidConfig("sliding_window", "required when layer_types has sliding layers")
        if AttentionKind.SLIDING in kinds and window is not None and window > max_context:
            raise InvalidConfig(
                "sliding_window",
                f"{window} tokens exceeds the {max_context}-token context of the sliding layers "
                "layer_types names",
            )
        return tuple(
            _sliding(window, max_context) if kind is AttentionKind.SLIDING and window else FULL
            for kind in kinds
        )
    if window is None:
        return (FULL,) * num_layers
    pattern = _alternation_period(config, model_type)
    if pattern is not None:
        return tuple(
            _sliding(window, max_context) if (i + 1) % pattern else FULL for i in range(num_layers)
        )
    if model_type.startswith(("qwen2", "qwen3")):
        if not read_bool(config, "use_sliding_window", default=False):
            return (FULL,) * num_layers
        first = read_int(config, "max_window_layers", default=num_layers, minimum=0)
        return tuple(
            _sliding(window, max_context) if i >= first else FULL for i in range(num_layers)
        )
    return (_sliding(window, max_context),) * num_layers


def chunked_attention(
    config: Mapping[str, Any], num_layers: int, max_context: int
) -> tuple[LayerAttention, ...]:
    """Llama 4: RoPE layers attend within chunks of ``attention_chunk_size``; NoPE layers
    (``no_rope_layers[i] == 0``; by default every ``no_rope_layer_interval``-th, 4) attend
    fully (transformers ``Llama4TextConfig``, vLLM ``Llama4Attention``)."""
    chunk = read_optional_int(config, "attention_chunk_size")
    flags = read_int_list(config, "no_rope_layers")
    if not flags:
        interval = read_int(config, "no_rope_layer_interval", default=4)
        flags = tuple(int((i + 1) % interval != 0) for i in range(num_layers))
    if len(flags) != num_layers:
        raise InvalidConfig("no_rope_layers", f"has {len(flags)} entries for {num_layers} layers")
    if chunk is None or chunk >= max_context:
        return (FULL,) * num_layers
    chunked = LayerAttention(kind=AttentionKind.CHUNKED, window_tokens=chunk)
    return tuple(chunked if flag else FULL for flag in flags)


def _alternation_period(config: Mapping[str, Any], model_type: str) -> int | None:
    if model_type in ("gemma2", "vaultgemma"):  # VaultGemmaConfig is Gemma2Config's layout
        return 2
    if model_type.startswith("gemma3"):
        return read_int(config, "sliding_window_pattern", default=6)
    if config.get("sliding_window_pattern") is not None:
        return read_int(config, "sliding_window_pattern")
    return None


def latent_attention(config: Mapping[str, Any]) -> MultiHeadLatentAttention | None:
    """MLA shapes when the config has ``kv_lora_rank`` (DeepSeek-V2/V3, Kimi K2)."""
    if config.get("kv_lora_rank") is None:
        return None
    return MultiHeadLatentAttention(
        q_lora_rank=read_optional_int(config, "q_lora_rank"),
        kv_lora_rank=read_int(config, "kv_lora_rank"),
        qk_rope_head_dim=read_int(config, "qk_rope_head_dim"),
        qk_nope_head_dim=read_int(config, "qk_nope_head_dim"),
        v_head_dim=read_int(config, "v_head_dim"),
    )


def sparse_attention_indexer(
    config: Mapping[str, Any], hidden_size: int, mla: MultiHeadLatentAttention | None
) -> SparseAttentionIndexer | None:
    """DeepSeek-V3.2 / GLM-5 DSA indexer when the config has ``index_n_heads``.

    Parameters per layer (DeepSeek-V3.2-Exp ``inference/model.py``, ``Indexer``):
    ``wq_b`` q_lora·H_i·h_i + ``wk`` d·h_i + ``k_norm`` LayerNorm 2·h_i + ``weights_proj`` d·H_i.
    """
    if config.get("index_n_heads") is None:
        return None
    if mla is None or not mla.q_lora_rank:
        raise UnsupportedArchitecture(
            "sparse-attention indexer without MLA", "index_n_heads needs q_lora_rank"
        )
    heads = read_int(config, "index_n_heads")
    head_dim = read_int(config, "index_head_dim")
    parameters = mla.q_lora_rank * heads * head_dim + hidden_size * head_dim
    parameters += 2 * head_dim + hidden_size * heads
    kinds = read_str_list(config, "indexer_types")
    layers: tuple[int, ...] = ()
    if kinds is not None:
        unknown = sorted(set(kinds) - {"full", "shared"})
        if unknown:
            raise InvalidConfig("indexer_types", f"unknown indexer kind '{unknown[0]}'")
        layers = tuple(i for i, kind in enumerate(kinds) if kind == "full")
    return SparseAttentionIndexer(
        num_heads=heads,
        head_dim=head_dim,
        top_k_tokens=read_int(config, "index_topk"),
        parameters_per_layer=parameters,
        layers=layers,
    )
