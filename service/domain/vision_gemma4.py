"""Gemma 4's vision encoder and its projector into the language model.

Read off transformers ``models/gemma4/modeling_gemma4.py`` (``Gemma4VisionPatchEmbedder``,
``Gemma4VisionAttention``, ``Gemma4VisionEncoderLayer``, ``Gemma4VisionModel``,
``Gemma4MultimodalEmbedder``), width ``h``, MLP ``f``, ``H`` heads and ``H_kv`` KV heads of
``c``, patch ``p``, position table ``P``::

    patch input_proj 3·p²·h (no bias), position_embedding_table 2·P·h
    per layer: q h·H·c, k and v h·H_kv·c each, o H·c·h (no biases), q_norm and k_norm c
               (v_norm has no weight), gated MLP 3·h·f (no biases), 4 RMSNorms 4h
    standardize: std_bias and std_scale, h each (persistent buffers)
    embed_vision: embedding_projection h·d_text (its pre-projection norm has no weight)

The pooler holds no weights. ``use_clipped_linears`` registers four 0-d bound buffers per
linear; they are not in the published checkpoints' totals (gemma-4-E2B-it and -E4B-it come
out exact without them), so they are not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.config_fields import read_bool, read_int

GEMMA4_TYPES = frozenset({"gemma4"})


def gemma4_vision(vision: Mapping[str, Any], text_hidden_size: int) -> int:
    """Parameters of the Gemma 4 vision tower plus ``embed_vision`` (defaults of
    ``Gemma4VisionConfig`` where the config omits a key)."""
    h = read_int(vision, "hidden_size", default=768)
    f = read_int(vision, "intermediate_size", default=3072)
    layers = read_int(vision, "num_hidden_layers", default=16)
    heads = read_int(vision, "num_attention_heads", default=12)
    kv_heads = read_int(vision, "num_key_value_heads", default=heads)
    head_dim = read_int(vision, "head_dim", default=64)
    patch = read_int(vision, "patch_size", default=16)
    positions = read_int(vision, "position_embedding_size", default=10240)
    standardize = read_bool(vision, "standardize", default=False)
    embed = 3 * patch * patch * h + 2 * positions * h
    attention = h * heads * head_dim + 2 * h * kv_heads * head_dim + heads * head_dim * h
    layer = attention + 2 * head_dim + 3 * h * f + 4 * h
    return embed + layers * layer + (2 * h if standardize else 0) + h * text_hidden_size
