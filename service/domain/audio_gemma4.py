"""Gemma 4's audio encoder (E2B/E4B) and its projector into the language model.

Read off transformers ``models/gemma4/modeling_gemma4.py`` (``Gemma4AudioModel`` and its
parts), width ``h``, ``n`` layers, sub-sampling channels ``c0, c1``, kernel ``k``, output
``o``, head width ``c = h / heads``::

    sub-sampling: conv 9·c0, LayerNorm c0 (no bias), conv 9·c0·c1, LayerNorm c1,
                  input_proj (c0 // 4)·c1·h
    per layer: two feed-forwards of h·4h + 4h·h and 2 norms 2h each;
               attention q, k, v, post h² each, relative_k_proj h², per_dim_scale c;
               light conv: linear_start h·2h, linear_end h², depthwise conv h·k, 2 norms 2h;
               norms pre-attention, post-attention, out 3h
    output_proj h·o + o; embed_audio embedding_projection o·d_text

The clippable linears' 0-d bound buffers are not counted (not in the published totals; see
:mod:`service.domain.vision_gemma4`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.architecture import InvalidConfig
from service.domain.config_fields import read_int, read_int_list


def gemma4_audio(audio: Mapping[str, Any], text_hidden_size: int) -> int:
    """Parameters of the Gemma 4 audio tower plus ``embed_audio`` (``Gemma4AudioConfig``
    defaults where the config omits a key)."""
    h = read_int(audio, "hidden_size", default=1024)
    layers = read_int(audio, "num_hidden_layers", default=12)
    heads = read_int(audio, "num_attention_heads", default=8)
    kernel = read_int(audio, "conv_kernel_size", default=5)
    out = read_int(audio, "output_proj_dims", default=1536)
    channels = read_int_list(audio, "subsampling_conv_channels") or (128, 32)
    if len(channels) != 2:
        raise InvalidConfig("subsampling_conv_channels", f"expected 2 entries, got {channels}")
    c0, c1 = channels
    subsample = 9 * c0 + c0 + 9 * c0 * c1 + c1 + (c0 // 4) * c1 * h
    feed_forward = 8 * h * h + 2 * h
    attention = 5 * h * h + h // heads
    light_conv = 3 * h * h + h * kernel + 2 * h
    layer = 2 * feed_forward + attention + light_conv + 3 * h
    return subsample + layers * layer + h * out + out + out * text_hidden_size
