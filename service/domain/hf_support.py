"""Which configs capplan can count: known families, named refusals, unread keys.

A ``model_type`` with a family is read by that family's rules; one without is accepted only
when every key that can change the count is one the generic reading uses
(:mod:`service.domain.config_keys`); known-but-unmodelled types and keys are refused naming
the feature (422).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.architecture import UnsupportedArchitecture
from service.domain.config_fields import read_bool, read_int, read_int_list
from service.domain.config_keys import unread_count_keys
from service.domain.hf_deepseek_v4 import count_deepseek_v4, deepseek_v4_shape
from service.domain.hf_traits import RECENT_FAMILIES

KNOWN_FAMILIES = frozenset(
    {
        "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma",
        "gemma2", "gemma3_text", "phi3", "gpt2", "deepseek_v2", "deepseek_v3", "gpt_oss",
        "glm4_moe", "smollm3", "seed_oss", "olmo2", "starcoder2", "qwen3_next", "nemotron_h",
        "granitemoehybrid", "llama4_text", "minimax_m2", "ernie4_5_moe", "jamba", "kimi_linear",
        "minimax", "falcon_h1", "hunyuan_v1_dense", "hunyuan_v1_moe", "gemma4_text",
        "gemma3n_text",
    }
) | RECENT_FAMILIES  # fmt: skip

_UNMODELLED_TYPES = {
    "mamba": "state-space (Mamba) layers",
    "mamba2": "state-space (Mamba) layers",
    "falcon_mamba": "state-space (Mamba) layers",
    "bamba": "hybrid Mamba/attention layers",
    "zamba": "hybrid Mamba/attention layers",
    "zamba2": "hybrid Mamba/attention layers",
    "rwkv": "RWKV recurrent layers",
    "recurrent_gemma": "RG-LRU recurrent layers",
}

DEEPSEEK_V4_KV_FEATURE = (
    "DeepSeek-V4 compressed/sparse attention KV cache (per-layer compress_ratios: compressed, "
    "sliding-window, indexer and compressor-state caches)"
)

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


def check_supported(config: Mapping[str, Any], model_type: str, family: str) -> None:
    if model_type == "deepseek_v4":
        _refuse_deepseek_v4(config)
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
    if family.startswith("hunyuan_v1") and read_bool(config, "use_cla", default=False):
        # hunyuan_v1.py HunYuanCrossAttention: CLA layers keep only q/o and reuse K/V.
        raise UnsupportedArchitecture("cross-layer attention (CLA)", "config key 'use_cla'")
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


def _refuse_deepseek_v4(config: Mapping[str, Any]) -> None:
    """DeepSeek-V4: weights are counted exactly (:mod:`.hf_deepseek_v4`; a malformed config is
    400 naming the key), but the engines' cache layout (vLLM's DeepseekV4 attention: compressed
    MLA entries per ``compress_ratio`` tokens, a 128-token sliding window, the ratio-4 layers'
    indexer keys and the compressors' state, grouped by the hybrid allocator) is not modelled,
    so nothing that needs a KV budget is answered: 422 naming it, with the counted size."""
    count = count_deepseek_v4(deepseek_v4_shape(config))
    raise UnsupportedArchitecture(
        DEEPSEEK_V4_KV_FEATURE,
        f"model_type 'deepseek_v4' ({count.total:,} parameters, {count.mtp:,} more in MTP "
        f"layers, {count.checkpoint_bytes:,} bytes as released are counted), but its KV cache "
        "layout is not modelled",
    )
