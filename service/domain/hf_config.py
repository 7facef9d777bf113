"""Hugging Face ``config.json`` -> :class:`Architecture`.

Family conventions (bias placement, norm counts, tied embeddings by default) follow the
modelling code in Hugging Face ``transformers``. A config with a feature capplan does not
model raises :class:`UnsupportedArchitecture` naming it: never a silent dense guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from service.domain.architecture import Architecture, InvalidConfig
from service.domain.config_fields import read_bool, read_int, read_optional_int, read_str
from service.domain.hf_families import FAMILY_ALIASES, family_traits
from service.domain.hf_gemma3n import (
    GEMMA3N_DEFAULTS,
    GEMMA3N_FAMILY,
    gemma3n_config,
    gemma3n_extras,
    gemma3n_layer_attention,
)
from service.domain.hf_gemma4 import (
    GEMMA4_DEFAULTS,
    GEMMA4_FAMILY,
    gemma4_extras,
    gemma4_layer_attention,
    vllm_loaded_extra,
    with_default_layer_types,
)
from service.domain.hf_hybrid import hybrid_layout
from service.domain.hf_layers import (
    FULL,
    chunked_attention,
    latent_attention,
    layer_attention,
    sparse_attention_indexer,
)
from service.domain.hf_lfm2 import lfm2_config
from service.domain.hf_moe import mixture_of_experts
from service.domain.hf_support import KNOWN_FAMILIES, check_supported
from service.domain.quantization import quantization_from_config
from service.domain.vision_items import largest_item
from service.domain.vision_towers import (
    LANGUAGE_MODEL_KEYS,
    OUTER_CONFIG_KEYS,
    check_multimodal_supported,
    encoder_parameters,
)

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
    GEMMA4_FAMILY: GEMMA4_DEFAULTS,
    GEMMA3N_FAMILY: GEMMA3N_DEFAULTS,
}

# Keys transformers writes at the top of a multimodal config that describe its language model
# too: the stored dtype and the checkpoint's quantisation.
_INHERITED_KEYS = ("torch_dtype", "dtype", "quantization_config", "compression_config")


def architecture_from_config(config: Mapping[str, Any]) -> Architecture:
    """Normalise a ``config.json`` dict; multimodal configs use their ``text_config``."""
    if not isinstance(config, Mapping):
        raise InvalidConfig("config", "expected a JSON object")
    model_type = read_str(config, "model_type", default="")
    check_multimodal_supported(model_type)
    text_key = LANGUAGE_MODEL_KEYS.get(model_type, "text_config")
    text_config = config.get(text_key)
    if isinstance(text_config, Mapping) and (
        text_key != "text_config" or "hidden_size" not in config
    ):
        inner_type = read_str(text_config, "model_type", default=f"{model_type}_text")
        inherited = {key: config[key] for key in _INHERITED_KEYS if key in config}
        try:
            inner = _normalise({**inherited, **text_config}, inner_type)
        except InvalidConfig as exc:
            if exc.field not in text_config:
                raise
            raise InvalidConfig(f"{text_key}.{exc.field}", exc.detail) from exc
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
        outer = exc.field in OUTER_CONFIG_KEYS or exc.field.startswith("audio_config.")
        where = "" if outer else "vision_config."
        raise InvalidConfig(f"{where}{exc.field}", exc.detail) from exc
    if encoder is None:
        return _with_notes(
            arch,
            f"multimodal '{model_type}': only the language model is counted; capplan has no "
            "formula for this vision encoder, whose weights are not included",
        )
    notes = [f"multimodal '{model_type}': vision encoder of {encoder:,} parameters counted"]
    try:
        item = largest_item(model_type, config)
    except InvalidConfig as exc:
        where = "" if exc.field in OUTER_CONFIG_KEYS else "vision_config."
        raise InvalidConfig(f"{where}{exc.field}", exc.detail) from exc
    if not item.rows:
        notes.append(
            f"multimodal '{model_type}': the largest input of this encoder is not modelled, so "
            "no encoder-cache reservation is made for the engine's profile run"
        )
    return msgspec.structs.replace(
        arch,
        encoder_parameters=encoder,
        encoder_max_tokens_per_item=item.rows,
        encoder_patches_per_item=item.patches,
        encoder_hidden_size=item.hidden_size,
        encoder_intermediate_size=item.intermediate_size,
        notes=(*arch.notes, *notes),
    )


def _with_notes(arch: Architecture, *notes: str) -> Architecture:
    return msgspec.structs.replace(arch, notes=(*arch.notes, *notes))


def family_of(model_type: str) -> str:
    """The modelling family of ``model_type`` (aliases resolved; Gemma 3 variants)."""
    return FAMILY_ALIASES.get(model_type, model_type)


def _normalise(config: Mapping[str, Any], model_type: str) -> Architecture:
    family = family_of(model_type)
    config = {**_FAMILY_DEFAULTS.get(family, {}), **config}
    if family == "lfm2":
        config = lfm2_config(config)
    check_supported(config, model_type, family)
    if family == GEMMA4_FAMILY:
        config = with_default_layer_types(config)
    if family == GEMMA3N_FAMILY:
        config = gemma3n_config(config)
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
    # Hunyuan names it attention_head_dim (vLLM hunyuan_v1.py HunYuanAttention).
    head_keys = ("attention_head_dim",) if family.startswith("hunyuan_v1") else ()
    head_dim = read_optional_int(config, "head_dim", *head_keys)
    if head_dim is None and hidden % heads and config.get("kv_lora_rank") is not None:
        # MLA shapes come from the lora ranks, not hidden/heads (GLM-4.7-Flash: 2048 wide, 20
        # heads); transformers' DeepseekV3Config sets head_dim = qk_rope_head_dim.
        head_dim = read_int(config, "qk_rope_head_dim")
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
    attention = (
        (FULL,) * layers
        if layout is not None
        else chunked_attention(config, layers, max_context)
        if family == "llama4_text"
        else layer_attention(config, family, layers, max_context)
    )
    gemma4 = gemma4_extras(config, layers) if family == GEMMA4_FAMILY else None
    if gemma4 is not None:
        attention = gemma4_layer_attention(config, attention)
        extra = vllm_loaded_extra(attention, hidden, kv_heads * head_dim)
        if extra:
            notes.append(
                f"vLLM's fused qkv_proj holds {extra:,} parameters beyond the checkpoint "
                "(keys copied into the value slot of K-as-V layers, unfilled K/V slots of "
                "shared-KV layers); not in this count"
            )
    gemma3n = None
    if family == GEMMA3N_FAMILY:
        gemma3n = gemma3n_extras(config, layers, hidden, kv_heads * head_dim, head_dim)
        attention = gemma3n_layer_attention(config, attention)
        if gemma3n.vllm_loaded_extra:
            notes.append(
                f"vLLM loads the K/V projections the checkpoint keeps for shared-KV layers "
                f"({gemma3n.vllm_loaded_extra:,} parameters, unused); not in this count"
            )
    ple = gemma4 or gemma3n
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
        norms_per_layer=ple.norms_per_layer if ple else traits.norms_per_layer,
        layer_attention=attention,
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
        per_layer_embedding_width=ple.per_layer_embedding_width if ple else 0,
        per_layer_embedding_vocab=ple.per_layer_embedding_vocab if ple else 0,
        extra_matrix_parameters=gemma3n.matrix_parameters if gemma3n else 0,
        extra_small_parameters=gemma3n.small_parameters if gemma3n else 0,
        layer_scalars=gemma4 is not None,
        activation_parameters_per_layer=traits.activation_parameters,
        wide_mlp_layers=gemma4.wide_mlp_layers if gemma4 else (),
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


def _checkpoint_dtype(config: Mapping[str, Any]) -> str:
    """The stored 16/32-bit dtype (``torch_dtype``, or ``dtype`` in newer transformers)."""
    raw = config.get("torch_dtype") or config.get("dtype") or "bfloat16"
    if not isinstance(raw, str):
        raise InvalidConfig("torch_dtype", f"expected a string, got {raw!r}")
    stored = _CHECKPOINT_DTYPES.get(raw.removeprefix("torch."))
    if stored is None:
        known = ", ".join(sorted(_CHECKPOINT_DTYPES))
        raise InvalidConfig("torch_dtype", f"unknown dtype {raw!r}; expected one of {known}")
    return stored


#: ``torch_dtype`` spellings (with or without ``torch.``) and the precision they store.
_CHECKPOINT_DTYPES = {
    "float32": "fp32",
    "float": "fp32",
    "float16": "fp16",
    "half": "fp16",
    "bfloat16": "bf16",
}
