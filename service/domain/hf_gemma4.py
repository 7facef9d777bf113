"""Gemma 4 (``gemma4`` / ``gemma4_text``) layer structure read from a config.

Read off transformers ``models/gemma4/modeling_gemma4.py`` (``Gemma4TextAttention``,
``Gemma4TextDecoderLayer``, ``Gemma4TextRouter``, ``Gemma4TextModel``) and
``configuration_gemma4.py``, and vLLM ``model_executor/models/gemma4.py``:

* global (``full_attention``) layers use ``global_head_dim`` (512 by default); with
  ``attention_k_eq_v`` they have ``num_global_key_value_heads`` KV heads and no ``v_proj``
  (the keys are reused as values);
* layers ``i >= L - num_kv_shared_layers`` reuse the K/V of the last earlier layer of the same
  type: no ``k_proj``/``v_proj``/``k_norm``, no cache of their own;
* ``enable_moe_block``: the dense MLP stays and ``num_experts`` experts (``top_k_experts``
  per token, ``moe_intermediate_size``) run beside it; the router has ``proj`` d·E, a
  ``scale`` d and a ``per_expert_scale`` E; three more norms per layer;
* per-layer embeddings (``hidden_size_per_layer_input`` p > 0): a table of
  ``vocab_size_per_layer_input`` × L·p, ``per_layer_model_projection`` d × L·p and a norm p;
  per layer a gate d·p, a projection p·d and a norm d;
* ``use_double_wide_mlp``: the dense MLP is 2·intermediate_size wide on shared-KV layers;
* every layer stores a ``layer_scalar`` (a persistent buffer, one element).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from service.domain.architecture import (
    InvalidConfig,
    LayerAttention,
    MixtureOfExperts,
    UnsupportedArchitecture,
)
from service.domain.config_fields import read_bool, read_int

GEMMA4_FAMILY = "gemma4_text"

# Gemma4TextConfig defaults (configuration_gemma4.py) that change the count or the cache.
GEMMA4_DEFAULTS: dict[str, Any] = {
    "vocab_size": 262144,
    "max_position_embeddings": 131072,
    "num_attention_heads": 8,
    "num_key_value_heads": 4,
    "head_dim": 256,
    "sliding_window": 512,
    "hidden_size_per_layer_input": 256,
    "vocab_size_per_layer_input": 262144,
}

_DEFAULT_GLOBAL_HEAD_DIM = 512
_SLIDING_PATTERN = 6  # Gemma4TextConfig: 5 sliding : 1 full when layer_types is absent


class Gemma4Extras(msgspec.Struct, frozen=True, kw_only=True):
    """What a Gemma 4 text model holds beyond the Gemma 3 layout."""

    per_layer_embedding_width: int
    per_layer_embedding_vocab: int
    wide_mlp_layers: tuple[int, ...]
    norms_per_layer: int


def vllm_loaded_extra(layers: tuple[LayerAttention, ...], hidden: int, kv_width: int) -> int:
    """Parameters vLLM holds beyond the checkpoint (``gemma4.py``: one fused ``qkv_proj``
    on every layer): a V slot filled with the keys on K-as-V layers, and unfilled K and V
    slots on shared-KV layers."""
    extra = 0
    for layer in layers:
        width = (layer.kv_heads or 0) * (layer.head_dim or 0) or kv_width
        if layer.values_from_keys:
            extra += hidden * width
        elif layer.shares_kv:
            extra += 2 * hidden * width
    return extra


def with_default_layer_types(config: Mapping[str, Any]) -> dict[str, Any]:
    """``layer_types`` as transformers completes it: 5 sliding : 1 full when absent, and
    the last layer forced to full attention."""
    completed = dict(config)
    if str(config.get("use_bidirectional_attention")) == "all":
        raise UnsupportedArchitecture(
            "bidirectional attention", "use_bidirectional_attention is 'all'"
        )
    layers = read_int(config, "num_hidden_layers")
    kinds = config.get("layer_types")
    if kinds is None:
        kinds = [
            "sliding_attention" if (i + 1) % _SLIDING_PATTERN else "full_attention"
            for i in range(layers)
        ]
    if isinstance(kinds, list) and kinds and len(kinds) == layers:
        kinds = [*kinds[:-1], "full_attention"]
    completed["layer_types"] = kinds
    return completed


def first_shared_layer(config: Mapping[str, Any], num_layers: int) -> int:
    """Index of the first layer reusing an earlier layer's K/V (``num_layers`` when none)."""
    shared = read_int(config, "num_kv_shared_layers", default=0, minimum=0)
    if shared >= num_layers:
        raise InvalidConfig("num_kv_shared_layers", f"{shared} of {num_layers} layers")
    return num_layers - shared


def gemma4_layer_attention(
    config: Mapping[str, Any], base: tuple[LayerAttention, ...]
) -> tuple[LayerAttention, ...]:
    """Per-layer head widths, KV heads, K-as-V and shared KV on top of sliding/full kinds."""
    layers = len(base)
    global_head_dim = read_int(config, "global_head_dim", default=_DEFAULT_GLOBAL_HEAD_DIM)
    k_eq_v = read_bool(config, "attention_k_eq_v", default=False)
    global_kv = None
    if k_eq_v and config.get("num_global_key_value_heads") is not None:
        global_kv = read_int(config, "num_global_key_value_heads")
    first = first_shared_layer(config, layers)
    kinds = config.get("layer_types") or []
    result = []
    for i, layer in enumerate(base):
        full = i < len(kinds) and kinds[i] == "full_attention"
        result.append(
            msgspec.structs.replace(
                layer,
                head_dim=global_head_dim if full else None,
                kv_heads=global_kv if full else None,
                values_from_keys=full and k_eq_v and i < first,
                shares_kv=i >= first,
            )
        )
    return tuple(result)


def gemma4_extras(config: Mapping[str, Any], num_layers: int) -> Gemma4Extras:
    """Per-layer embeddings, double-wide MLPs and the norms each decoder layer holds."""
    width = read_int(config, "hidden_size_per_layer_input", default=0, minimum=0)
    vocab = read_int(config, "vocab_size_per_layer_input", default=0, minimum=0) if width else 0
    first = first_shared_layer(config, num_layers)
    wide = read_bool(config, "use_double_wide_mlp", default=False) and 0 < first < num_layers
    moe = read_bool(config, "enable_moe_block", default=False)
    return Gemma4Extras(
        per_layer_embedding_width=width,
        per_layer_embedding_vocab=vocab,
        wide_mlp_layers=tuple(range(first, num_layers)) if wide else (),
        norms_per_layer=4 + (3 if moe else 0) + (1 if width else 0),
    )


def gemma4_moe(
    config: Mapping[str, Any], num_layers: int, intermediate_size: int
) -> MixtureOfExperts | None:
    """Every layer: the dense MLP (an always-on shared expert of ``intermediate_size``)
    beside the routed experts; ``top_k_experts`` stands for ``num_experts_per_tok``."""
    if not read_bool(config, "enable_moe_block", default=False):
        return None
    experts = read_int(config, "num_experts")
    per_token = read_int(config, "top_k_experts")
    if per_token > experts:
        raise InvalidConfig("top_k_experts", f"{per_token} exceeds the {experts} experts")
    return MixtureOfExperts(
        num_experts=experts,
        experts_per_token=per_token,
        expert_intermediate_size=read_int(config, "moe_intermediate_size"),
        moe_layers=tuple(range(num_layers)),
        num_shared_experts=1,
        shared_expert_intermediate_size=intermediate_size,
        router_scales=True,
    )
