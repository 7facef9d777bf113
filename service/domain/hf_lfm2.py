"""LFM2 (Liquid AI): gated short-convolution layers between grouped-query attention layers.

Read off vLLM ``model_executor/models/lfm2.py`` and transformers ``modeling_lfm2.py``:

* a ``conv`` layer (``Lfm2ShortConv``) holds ``in_proj`` d·3d, a depthwise ``conv`` of
  ``conv_L_cache`` taps per channel (d·L) and ``out_proj`` d·d, biased by ``conv_bias``
  (3d + d + d); its per-sequence state is the convolution's last ``L - 1`` inputs of d
  channels (vLLM ``MambaStateShapeCalculator.short_conv_state_shape`` with
  ``intermediate_size = hidden_size``), no recurrent state;
* a ``full_attention`` layer has q/k/v/out projections without bias and per-head
  ``q_layernorm`` / ``k_layernorm`` (:mod:`service.domain.hf_traits`);
* every layer has ``operator_norm`` and ``ffn_norm`` and a SwiGLU MLP whose width is
  ``block_ff_dim`` adjusted when ``block_auto_adjust_ff_dim``: ``int(2f/3)``, times
  ``block_ffn_dim_multiplier``, rounded up to ``block_multiple_of``;
* the embedding is tied (``tie_embedding``), the final norm is ``embedding_norm``.

Layers attend where ``layer_types`` says ``full_attention`` (else ``conv``), or where
``full_attn_idxs`` lists them (0-based).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.architecture import InvalidConfig, MixerKind, StateSpec
from service.domain.config_fields import read_bool, read_int, read_int_list, read_str_list

_KINDS = {"conv": MixerKind.SHORT_CONV, "full_attention": MixerKind.ATTENTION}


def lfm2_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with LFM2's own keys read as the generic ones: the adjusted MLP width as
    ``intermediate_size`` and ``tie_embedding`` as ``tie_word_embeddings``."""
    width = read_int(config, "block_ff_dim", "intermediate_size")
    if read_bool(config, "block_auto_adjust_ff_dim", default=True):
        width = int(2 * width / 3)
        multiplier = config.get("block_ffn_dim_multiplier", 1.0)
        if multiplier is not None:
            if not isinstance(multiplier, (int, float)) or isinstance(multiplier, bool):
                raise InvalidConfig("block_ffn_dim_multiplier", "expected a number")
            width = int(multiplier * width)
        multiple = read_int(config, "block_multiple_of", default=256)
        width = multiple * ((width + multiple - 1) // multiple)
    normalised = {**config, "intermediate_size": width}
    if "tie_word_embeddings" not in config and "tie_embedding" in config:
        normalised["tie_word_embeddings"] = read_bool(config, "tie_embedding", default=True)
    return normalised


def lfm2_mixers(config: Mapping[str, Any], num_layers: int) -> tuple[MixerKind, ...]:
    """Per layer: short convolution or attention."""
    names = read_str_list(config, "layer_types")
    if names is not None:
        unknown = sorted(set(names) - set(_KINDS))
        if unknown:
            raise InvalidConfig("layer_types", f"unknown layer kind '{unknown[0]}'")
        if len(names) != num_layers:
            raise InvalidConfig("layer_types", f"has {len(names)} entries for {num_layers} layers")
        return tuple(_KINDS[name] for name in names)
    attending = read_int_list(config, "full_attn_idxs")
    if not attending:
        raise InvalidConfig("layer_types", "required field is missing (or full_attn_idxs)")
    if any(i < 0 or i >= num_layers for i in attending):
        raise InvalidConfig("full_attn_idxs", f"indices must lie in 0..{num_layers - 1}")
    return tuple(
        MixerKind.ATTENTION if i in attending else MixerKind.SHORT_CONV for i in range(num_layers)
    )


def short_convolution(config: Mapping[str, Any], hidden_size: int) -> StateSpec:
    """One ``Lfm2ShortConv`` layer: ``in_proj`` and ``out_proj`` (4·d²) and the depthwise
    convolution (d·L), with 5·d biases when ``conv_bias``; state (L − 1)·d."""
    kernel = read_int(config, "conv_L_cache", default=3)
    d = hidden_size
    biases = 5 * d if read_bool(config, "conv_bias", default=False) else 0
    return StateSpec(
        kind=MixerKind.SHORT_CONV,
        conv_kernel=kernel,
        conv_channels=d,
        state_heads=0,
        state_elements_per_head=0,
        matrix_parameters=4 * d * d,
        small_parameters=d * kernel + biases,
    )
