"""Hugging Face ``config.json`` -> :class:`Architecture`.

Family conventions (bias placement, norm counts, tied embeddings by default) follow the
modelling code in Hugging Face ``transformers``. A config with a feature capplan does not
model raises :class:`UnsupportedArchitecture` naming it: never a silent dense guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from service.domain.architecture import (
    Architecture,
    InvalidConfig,
    MlpKind,
    NormKind,
    UnsupportedArchitecture,
)
from service.domain.config_fields import read_bool, read_int, read_optional_int, read_str
from service.domain.hf_layers import latent_attention, layer_attention, mixture_of_experts
from service.domain.quantization import quantization_from_config

KNOWN_FAMILIES = frozenset(
    {
        "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma",
        "gemma2", "gemma3_text", "phi3", "gpt2", "deepseek_v2", "deepseek_v3", "gpt_oss",
    }
)  # fmt: skip

_TIED_BY_DEFAULT = frozenset({"gemma", "gemma2", "gemma3_text", "gpt2"})

_UNMODELLED_TYPES = {
    "mamba": "state-space (Mamba) layers",
    "mamba2": "state-space (Mamba) layers",
    "falcon_mamba": "state-space (Mamba) layers",
    "jamba": "hybrid Mamba/attention layers",
    "bamba": "hybrid Mamba/attention layers",
    "zamba": "hybrid Mamba/attention layers",
    "zamba2": "hybrid Mamba/attention layers",
    "falcon_h1": "hybrid Mamba/attention layers",
    "nemotron_h": "hybrid Mamba/attention layers",
    "granitemoehybrid": "hybrid Mamba/attention layers",
    "rwkv": "RWKV recurrent layers",
    "recurrent_gemma": "RG-LRU recurrent layers",
    "qwen3_next": "linear-attention (Gated DeltaNet) layers",
    "minimax": "linear (lightning) attention layers",
    "lfm2": "short-convolution layers",
    "llama4": "chunked attention with interleaved MoE",
}

_UNMODELLED_KEYS = {
    "ssm_state_size": "state-space (Mamba) layers",
    "mamba_d_state": "state-space (Mamba) layers",
    "attn_layer_indices": "hybrid Mamba/attention layers",
    "layers_block_type": "hybrid Mamba/attention layers",
    "hybrid_override_pattern": "hybrid Mamba/attention layers",
    "linear_attn_config": "linear-attention layers",
}

MAX_LAYERS = 1024
"""Decoder layers accepted in a config (Llama-3.1-405B has 126); bounds per-layer work."""

_FAMILY_DEFAULTS: dict[str, dict[str, Any]] = {
    # transformers Gemma3TextConfig defaults; multimodal Gemma 3 configs omit them.
    "gemma3_text": {"vocab_size": 262208, "max_position_embeddings": 131072},
}

# Keys transformers writes at the top of a multimodal config that describe its language model
# too: the stored dtype and the checkpoint's quantisation.
_INHERITED_KEYS = ("torch_dtype", "dtype", "quantization_config", "compression_config")

_LLAMA_LIKE_KEYS = (
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "vocab_size",
)


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
        note = (
            f"multimodal '{model_type}': only the language model is counted; "
            "the vision encoder's weights are not included"
        )
        return _with_notes(inner, note)
    return _normalise(config, model_type)


def _with_notes(arch: Architecture, *notes: str) -> Architecture:
    return msgspec.structs.replace(arch, notes=(*arch.notes, *notes))


def _check_supported(config: Mapping[str, Any], model_type: str) -> list[str]:
    if model_type in _UNMODELLED_TYPES:
        raise UnsupportedArchitecture(_UNMODELLED_TYPES[model_type], f"model_type '{model_type}'")
    for key, feature in _UNMODELLED_KEYS.items():
        if config.get(key) is not None:
            raise UnsupportedArchitecture(feature, f"config key '{key}'")
    if read_bool(config, "is_encoder_decoder", default=False):
        raise UnsupportedArchitecture("encoder-decoder", f"model_type '{model_type}'")
    if model_type in KNOWN_FAMILIES:
        return []
    if model_type.startswith("gemma3"):
        return []
    if all(key in config for key in _LLAMA_LIKE_KEYS):
        return [f"model_type '{model_type}' is not a known family; counted as llama-like"]
    raise UnsupportedArchitecture(
        f"model_type '{model_type or '(none)'}'",
        "not a known family and the config lacks llama-like fields "
        "(hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, vocab_size)",
    )


def _normalise(config: Mapping[str, Any], model_type: str) -> Architecture:
    config = {**_FAMILY_DEFAULTS.get(model_type, {}), **config}
    notes = _check_supported(config, model_type)
    is_gpt2 = model_type == "gpt2"
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
    intermediate = read_int(config, "intermediate_size", "n_inner", "ffn_dim", default=4 * hidden)
    max_context = read_int(
        config, "max_position_embeddings", "n_positions", "n_ctx", "seq_length", default=2048
    )
    quantization = quantization_from_config(config)
    if config.get("sliding_window") is None and config.get("sliding_window_size") is not None:
        notes.append("'sliding_window_size' read as the sliding window (non-standard key)")
    attention_bias = read_bool(config, "attention_bias", default=False)
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
            config, "tie_word_embeddings", default=model_type in _TIED_BY_DEFAULT
        ),
        mlp_kind=MlpKind.PLAIN if is_gpt2 else MlpKind.GATED,
        norm_kind=NormKind.LAYER if is_gpt2 else NormKind.RMS,
        norms_per_layer=4 if model_type in ("gemma2",) or model_type.startswith("gemma3") else 2,
        layer_attention=layer_attention(config, model_type, layers, max_context),
        max_context_tokens=max_context,
        checkpoint_dtype=_checkpoint_dtype(config),
        qkv_bias=is_gpt2 or model_type.startswith("qwen2") or attention_bias,
        attention_output_bias=is_gpt2 or attention_bias,
        mlp_bias=is_gpt2 or read_bool(config, "mlp_bias", default=False),
        qk_norm=model_type.startswith(("qwen3", "gemma3")),
        attention_sinks=model_type == "gpt_oss",
        fused_qkv=model_type == "phi3",
        learned_position_embeddings=max_context if is_gpt2 else 0,
        moe=mixture_of_experts(config, model_type, layers, intermediate),
        mla=latent_attention(config),
        quantization=quantization,
        notes=tuple(notes),
    )


def _checkpoint_dtype(config: Mapping[str, Any]) -> str:
    """The stored 16/32-bit dtype (``torch_dtype``, or ``dtype`` in newer transformers)."""
    raw = config.get("torch_dtype") or config.get("dtype") or "bfloat16"
    if not isinstance(raw, str):
        raise InvalidConfig("torch_dtype", f"expected a string, got {raw!r}")
    return {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}.get(raw, "bf16")
