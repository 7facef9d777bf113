"""Which ``config.json`` keys change a parameter count, for configs of no known family.

A ``model_type`` capplan has no family for is accepted only when every key in its config
is either one the generic (Llama-style) reading uses or one known not to change the count
(token ids, numerics of norms and rotary embeddings, dropout, generation defaults). Any
other key might add or reshape tensors, so the config is refused naming those keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GENERIC_READ_KEYS = frozenset(
    {
        "model_type", "hidden_size", "num_hidden_layers", "num_attention_heads",
        "num_key_value_heads", "head_dim", "intermediate_size", "vocab_size",
        "max_position_embeddings", "tie_word_embeddings", "torch_dtype", "dtype",
        "quantization_config", "compression_config", "attention_bias", "mlp_bias",
        "sliding_window", "layer_types", "use_sliding_window", "max_window_layers",
        "sliding_window_pattern",
    }
)  # fmt: skip
"""Keys the generic reading turns into shapes (see :func:`hf_config._normalise`)."""

COUNT_NEUTRAL_KEYS = frozenset(
    {
        "architectures", "auto_map", "_name_or_path", "transformers_version", "use_cache",
        "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id", "decoder_start_token_id",
        "initializer_range", "initializer_factor", "rms_norm_eps", "layer_norm_eps",
        "layer_norm_epsilon", "norm_eps", "rope_theta", "rope_scaling", "rope_parameters",
        "rope_type", "partial_rotary_factor", "rotary_pct", "rope_interleave", "hidden_act",
        "hidden_activation", "attention_dropout", "hidden_dropout", "dropout",
        "embd_pdrop", "resid_pdrop", "attn_pdrop", "pretraining_tp", "output_attentions",
        "output_hidden_states", "return_dict", "torchscript", "id2label", "label2id",
        "tokenizer_class", "problem_type", "chunk_size_feed_forward", "is_decoder",
        "attn_implementation", "_attn_implementation", "attn_logit_softcapping",
        "final_logit_softcapping", "query_pre_attn_scalar", "no_rope_layers",
        "no_rope_layer_interval", "use_cache_quantization", "temperature", "top_p", "top_k",
        "max_length", "do_sample", "repetition_penalty", "embedding_multiplier",
        "residual_multiplier", "attention_multiplier", "logits_scaling", "use_flash_attn",
        "max_seq_len", "rope_ratio", "original_max_position_embeddings",
    }
)  # fmt: skip
"""Keys that change numerics or defaults, never a tensor's shape."""


def unread_count_keys(config: Mapping[str, Any]) -> list[str]:
    """Keys of ``config`` (with a non-null value) that might change the count but that
    the generic reading ignores; sorted."""
    return sorted(
        key
        for key, value in config.items()
        if value is not None and key not in GENERIC_READ_KEYS and key not in COUNT_NEUTRAL_KEYS
    )
