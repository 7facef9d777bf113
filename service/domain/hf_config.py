"""Hugging Face ``config.json`` -> :class:`Architecture`.

Family conventions (bias placement, norm counts, tied embeddings by default) follow the
modelling code in Hugging Face ``transformers``. A config with a feature capplan does not
model raises :class:`UnsupportedArchitecture` naming it: never a silent dense guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from service.domain.architecture import Architecture, InvalidConfig, UnsupportedArchitecture
from service.domain.config_fields import (
    read_bool,
    read_int,
    read_int_list,
    read_optional_int,
    read_str,
)
from service.domain.config_keys import unread_count_keys
from service.domain.hf_families import FAMILY_ALIASES, family_traits
from service.domain.hf_hybrid import (
    HybridLayout,
    falcon_h1_layout,
    granite_hybrid_layout,
    jamba_layout,
    kimi_linear_layout,
    minimax_layout,
    nemotron_h_layout,
    qwen3_next_layout,
)
from service.domain.hf_layers import (
    FULL,
    chunked_attention,
    latent_attention,
    layer_attention,
    mixture_of_experts,
    sparse_attention_indexer,
)
from service.domain.quantization import quantization_from_config
from service.domain.vision_towers import OUTER_CONFIG_KEYS, encoder_parameters

KNOWN_FAMILIES = frozenset(
    {
        "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma",
        "gemma2", "gemma3_text", "phi3", "gpt2", "deepseek_v2", "deepseek_v3", "gpt_oss",
        "glm4_moe", "smollm3", "seed_oss", "olmo2", "starcoder2", "qwen3_next", "nemotron_h",
        "granitemoehybrid", "llama4_text", "minimax_m2", "ernie4_5_moe", "jamba", "kimi_linear",
        "minimax", "falcon_h1",
    }
)  # fmt: skip

_UNMODELLED_TYPES = {
    "mamba": "state-space (Mamba) layers",
    "mamba2": "state-space (Mamba) layers",
    "falcon_mamba": "state-space (Mamba) layers",
    "bamba": "hybrid Mamba/attention layers",
    "zamba": "hybrid Mamba/attention layers",
    "zamba2": "hybrid Mamba/attention layers",
    "rwkv": "RWKV recurrent layers",
    "recurrent_gemma": "RG-LRU recurrent layers",
    "lfm2": "short-convolution layers",
    "gemma3n": "Gemma 3n layers (AltUp, LAuReL, per-layer embeddings)",
    "gemma3n_text": "Gemma 3n layers (AltUp, LAuReL, per-layer embeddings)",
    "gemma4": "Gemma 4 layers (per-layer head sizes, K=V projections, shared KV layers, PLE)",
    "gemma4_text": "Gemma 4 layers (per-layer head sizes, K=V projections, shared KV layers, PLE)",
}

_UNMODELLED_KEYS = {
    "ssm_state_size": "state-space (Mamba) layers",
    "mamba_d_state": "state-space (Mamba) layers",
    "attn_layer_indices": "hybrid Mamba/attention layers",
    "layers_block_type": "hybrid Mamba/attention layers",
    "hybrid_override_pattern": "hybrid Mamba/attention layers",
    "linear_attn_config": "linear-attention layers",
    "moe_latent_size": "latent-projected MoE experts",
}

# Keys a family reads itself, so _UNMODELLED_KEYS does not refuse them there.
_FAMILY_KEYS = {
    "nemotron_h": frozenset(
        {"ssm_state_size", "layers_block_type", "hybrid_override_pattern", "moe_latent_size"}
    ),
    "granitemoehybrid": frozenset({"mamba_d_state", "layers_block_type"}),
    "jamba": frozenset({"mamba_d_state", "layers_block_type"}),
    "kimi_linear": frozenset({"linear_attn_config"}),
    "falcon_h1": frozenset({"mamba_d_state"}),
}

MAX_LAYERS = 1024
"""Decoder layers accepted in a config (Llama-3.1-405B has 126); bounds per-layer work."""

_FAMILY_DEFAULTS: dict[str, dict[str, Any]] = {
    # transformers Gemma3TextConfig defaults (configuration_gemma3.py); multimodal Gemma 3
    # configs such as gemma-3-4b-it's omit them.
    "gemma3_text": {
        "vocab_size": 262208,
        "max_position_embeddings": 131072,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "head_dim": 256,
        "sliding_window": 4096,
    },
}

# Keys transformers writes at the top of a multimodal config that describe its language model
# too: the stored dtype and the checkpoint's quantisation.
_INHERITED_KEYS = ("torch_dtype", "dtype", "quantization_config", "compression_config")


def architecture_from_config(config: Mapping[str, Any]) -> Architecture:
    """Normalise a ``config.json`` dict; multimodal configs use their ``text_config``."""
    if not isinstance(config, Mapping):
        raise InvalidConfig("config", "expected a JSON object")
    model_type = read_str(config, "model_type", default="")
    text_config = config.get("text_config")
    if isinstance(text_config, Mapping) and "hidden_size" not in config:
        inner_type = read_str(text_config, "model_type", default=f"{model_type}_text")
        inherited = {key: config[key] for key in _INHERITED_KEYS if key in config}
        try:
            inner = _normalise({**inherited, **text_config}, inner_type)
        except InvalidConfig as exc:
            if exc.field not in text_config:
                raise
            raise InvalidConfig(f"text_config.{exc.field}", exc.detail) from exc
        return _with_vision_tower(inner, config, model_type)
    return _normalise(config, model_type)


def _with_vision_tower(
    arch: Architecture, config: Mapping[str, Any], model_type: str
) -> Architecture:
    """Count the vision encoder the engine loads beside the language model, when known."""
    vision = config.get("vision_config")
    if not isinstance(vision, Mapping):
        return arch
    try:
        encoder = encoder_parameters(model_type, config, arch.hidden_size)
    except InvalidConfig as exc:
        where = "" if exc.field in OUTER_CONFIG_KEYS else "vision_config."
        raise InvalidConfig(f"{where}{exc.field}", exc.detail) from exc
    if encoder is None:
        return _with_notes(
            arch,
            f"multimodal '{model_type}': only the language model is counted; capplan has no "
            "formula for this vision encoder, whose weights are not included",
        )
    note = f"multimodal '{model_type}': vision encoder of {encoder:,} parameters counted"
    return msgspec.structs.replace(arch, encoder_parameters=encoder, notes=(*arch.notes, note))


def _with_notes(arch: Architecture, *notes: str) -> Architecture:
    return msgspec.structs.replace(arch, notes=(*arch.notes, *notes))


def family_of(model_type: str) -> str:
    """The modelling family of ``model_type`` (aliases resolved; Gemma 3 variants)."""
    return FAMILY_ALIASES.get(model_type, model_type)


# Kimi K3 reuses model_type kimi_linear with layers Kimi-Linear does not have.
_KIMI_K3_KEYS = (
    "routed_expert_hidden_size",
    "mla_use_output_gate",
    "attn_res_block_size",
    "latent_moe_use_norm",
)

_GENERIC_REQUIRED_KEYS = (
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "vocab_size",
)


def _check_supported(config: Mapping[str, Any], model_type: str, family: str) -> None:
    if model_type in _UNMODELLED_TYPES:
        raise UnsupportedArchitecture(_UNMODELLED_TYPES[model_type], f"model_type '{model_type}'")
    own_keys = _FAMILY_KEYS.get(family, frozenset())
    for key, feature in _UNMODELLED_KEYS.items():
        if config.get(key) is not None and key not in own_keys:
            raise UnsupportedArchitecture(feature, f"config key '{key}'")
    kimi_k3 = [key for key in _KIMI_K3_KEYS if config.get(key)]
    if family == "kimi_linear" and kimi_k3:
        raise UnsupportedArchitecture(
            "Kimi K3 layers (latent MoE, gated MLA, attention residual blocks)",
            f"config keys {', '.join(kimi_k3)}",
        )
    if family == "minimax" and read_int(config, "shared_intermediate_size", default=0, minimum=0):
        raise UnsupportedArchitecture(
            "MiniMax shared experts", "config key 'shared_intermediate_size'"
        )
    if family == "minimax_m2" and 0 in read_int_list(config, "attn_type_list"):
        raise UnsupportedArchitecture(
            "linear (lightning) attention layers", "attn_type_list has 0 (lightning) layers"
        )
    if read_bool(config, "is_encoder_decoder", default=False):
        raise UnsupportedArchitecture("encoder-decoder", f"model_type '{model_type}'")
    if family in KNOWN_FAMILIES:
        return
    missing = [key for key in _GENERIC_REQUIRED_KEYS if key not in config]
    if missing:
        raise UnsupportedArchitecture(
            f"model_type '{model_type or '(none)'}'",
            f"not a known family and the config lacks {', '.join(missing)}",
        )
    unread = unread_count_keys(config)
    if unread:
        shown = ", ".join(unread[:12]) + (
            f" and {len(unread) - 12} more" if len(unread) > 12 else ""
        )
        raise UnsupportedArchitecture(
            f"model_type '{model_type or '(none)'}'",
            "not a known family, and its config has keys that may change the parameter count "
            f"which capplan does not read: {shown}",
        )


def _normalise(config: Mapping[str, Any], model_type: str) -> Architecture:
    family = family_of(model_type)
    config = {**_FAMILY_DEFAULTS.get(family, {}), **config}
    _check_supported(config, model_type, family)
    notes: list[str] = []
    if family not in KNOWN_FAMILIES:
        notes.append(
            f"model_type '{model_type}' is not a known family; every key of its config that "
            "can change the parameter count is one capplan reads (generic decoder layout)"
        )
    traits = family_traits(config, family)
    layers = read_int(config, "num_hidden_layers", "n_layer", "num_layers", maximum=MAX_LAYERS)
    hidden = read_int(config, "hidden_size", "n_embd", "d_model")
    heads = read_int(config, "num_attention_heads", "n_head")
    kv_heads = read_int(config, "num_key_value_heads", default=heads)
    if heads % kv_heads:
        raise InvalidConfig("num_key_value_heads", f"{kv_heads} does not divide {heads} heads")
    head_dim = read_optional_int(config, "head_dim")
    if head_dim is None:
        if hidden % heads:
            raise InvalidConfig("head_dim", f"absent and hidden_size {hidden} % {heads} heads != 0")
        head_dim = hidden // heads
    # Llama 4's dense layers use intermediate_size_mlp; intermediate_size is its experts'.
    dense_keys = ("intermediate_size_mlp",) if family == "llama4_text" else ()
    intermediate = read_int(
        config, *dense_keys, "intermediate_size", "n_inner", "ffn_dim", default=4 * hidden
    )
    max_context = read_int(
        config, "max_position_embeddings", "n_positions", "n_ctx", "seq_length", default=2048
    )
    if config.get("sliding_window") is None and config.get("sliding_window_size") is not None:
        notes.append("'sliding_window_size' read as the sliding window (non-standard key)")
    layout = hybrid_layout(config, family, layers, hidden, heads, head_dim)
    if layout is not None and len(layout.mixers) != layers:
        raise InvalidConfig(
            "num_hidden_layers", f"{layers} layers but the layer pattern has {len(layout.mixers)}"
        )
    mtp_layers = _mtp_layers(config, family)
    if mtp_layers:
        notes.append(
            f"{mtp_layers} multi-token-prediction layer(s) counted apart from the total: "
            "engines load them only when speculative decoding uses them"
        )
    kinds = config.get("indexer_types")
    if isinstance(kinds, list) and len(kinds) != layers:
        raise InvalidConfig("indexer_types", f"has {len(kinds)} entries for {layers} layers")
    moe = mixture_of_experts(config, family, layers, intermediate)
    if layout is not None and layout.moe_blocks and moe is not None:
        moe = msgspec.structs.replace(moe, moe_layers=layout.moe_blocks)
    is_gpt2 = family == "gpt2"
    mla = latent_attention(config)
    return Architecture(
        model_type=model_type or "unknown",
        num_layers=layers,
        hidden_size=hidden,
        num_attention_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate_size=intermediate,
        vocab_size=read_int(config, "vocab_size"),
        tie_word_embeddings=read_bool(
            config, "tie_word_embeddings", default=traits.tied_by_default
        ),
        mlp_kind=traits.mlp_kind,
        norm_kind=traits.norm_kind,
        norms_per_layer=traits.norms_per_layer,
        layer_attention=(FULL,) * layers
        if layout is not None
        else chunked_attention(config, layers, max_context)
        if family == "llama4_text"
        else layer_attention(config, family, layers, max_context),
        max_context_tokens=max_context,
        checkpoint_dtype=_checkpoint_dtype(config),
        qkv_bias=traits.qkv_bias,
        attention_output_bias=traits.output_bias,
        mlp_bias=traits.mlp_bias,
        qk_norm=traits.qk_norm,
        qk_norm_full_width=traits.qk_norm_full_width,
        attention_query_gate=traits.query_gate,
        attention_sinks=traits.attention_sinks,
        fused_qkv=traits.fused_qkv,
        learned_position_embeddings=max_context if is_gpt2 else 0,
        moe=moe,
        mla=mla,
        indexer=sparse_attention_indexer(config, hidden, mla),
        quantization=quantization_from_config(config),
        layer_mixers=layout.mixers if layout is not None else (),
        state=layout.state if layout is not None else None,
        mlp_free_layers=layout.mlp_free_layers if layout is not None else (),
        lm_head_bias=family == "ernie4_5_moe" and read_bool(config, "use_bias", default=False),
        mtp_layers=mtp_layers,
        mtp_layout="deepseek" if family in ("deepseek_v3", "glm4_moe") else family,
        notes=tuple(notes),
    )


def _mtp_layers(config: Mapping[str, Any], family: str) -> int:
    """Multi-token-prediction layers the checkpoint stores (DeepSeek-V3 and GLM-4.5:
    ``num_nextn_predict_layers``; Qwen3-Next: ``mtp_num_hidden_layers``)."""
    if family in ("deepseek_v3", "glm4_moe"):
        return read_int(config, "num_nextn_predict_layers", default=0, minimum=0)
    if family == "qwen3_next":
        return read_int(config, "mtp_num_hidden_layers", default=0, minimum=0)
    return 0


def hybrid_layout(
    config: Mapping[str, Any],
    family: str,
    num_layers: int,
    hidden_size: int,
    heads: int,
    head_dim: int,
) -> HybridLayout | None:
    """The per-layer mixers of a hybrid family, or None when every layer attends."""
    if family == "qwen3_next":
        return qwen3_next_layout(config, num_layers, hidden_size)
    if family == "nemotron_h":
        return nemotron_h_layout(config, hidden_size)
    if family == "granitemoehybrid":
        return granite_hybrid_layout(config, num_layers, hidden_size)
    if family == "jamba":
        return jamba_layout(config, num_layers, hidden_size)
    if family == "kimi_linear":
        return kimi_linear_layout(config, num_layers, hidden_size)
    if family == "minimax":
        return minimax_layout(config, num_layers, hidden_size, heads, head_dim)
    if family == "falcon_h1":
        return falcon_h1_layout(config, num_layers, hidden_size)
    return None


def _checkpoint_dtype(config: Mapping[str, Any]) -> str:
    """The stored 16/32-bit dtype (``torch_dtype``, or ``dtype`` in newer transformers)."""
    raw = config.get("torch_dtype") or config.get("dtype") or "bfloat16"
    if not isinstance(raw, str):
        raise InvalidConfig("torch_dtype", f"expected a string, got {raw!r}")
    return {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}.get(raw, "bf16")
