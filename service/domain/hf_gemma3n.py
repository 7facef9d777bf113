"""Gemma 3n (``gemma3n_text``) language model read from a config.

Read off transformers ``models/gemma3n/modeling_gemma3n.py`` (``Gemma3nTextModel``,
``Gemma3nTextDecoderLayer``, ``Gemma3nTextAttention``, ``Gemma3nTextAltUp``,
``Gemma3nTextLaurelBlock``, ``Gemma3nTextMLP``). Width ``d``, ``L`` layers, ``n`` =
``altup_num_inputs``, ``r`` = ``laurel_rank``, ``p`` = ``hidden_size_per_layer_input``:

* the Gemma 3 layer: q/k/v/o, q_norm and k_norm of ``head_dim`` (``v_norm`` has no scale),
  a gated MLP and four norms; every layer the same ``head_dim`` and KV heads;
* layers ``i >= L - num_kv_shared_layers`` reuse the K/V of the last earlier layer of the same
  type (``is_kv_shared_layer``): no cache of their own, and transformers builds no
  ``k_proj``/``v_proj``/``k_norm`` for them, as in Gemma 4 (:func:`hf_gemma4.first_shared_layer`);
* per-layer embeddings as Gemma 4's (:func:`hf_gemma4.gemma4_extras`): a table of
  ``vocab_size_per_layer_input`` × L·p, ``per_layer_model_projection`` d × L·p, a norm p; per
  layer ``per_layer_input_gate`` d·p, ``per_layer_projection`` p·d, a norm d;
* LAuReL per layer: ``linear_left`` d·r, ``linear_right`` r·d, ``post_laurel_norm`` d;
* AltUp per layer: ``modality_router`` d·n, ``prediction_coefs`` n·n², ``correction_coefs``
  n·n, ``router_norm`` d, ``correct_output_scale`` d; model-level ``altup_projections`` and
  ``altup_unembed_projections``, n − 1 of d·d each;
* ``intermediate_size`` may be a list, one width per layer (MatFormer slicing).

Parameters beyond the Gemma 3 layer: ``2·L·d·r + L·d·n + 2·(n-1)·d²`` matrix weights and
``L·(n³ + n²)`` coefficients, plus three norms of ``d`` per layer (LAuReL, router, output
scale) beside the per-layer-embedding norm.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from service.domain.architecture import InvalidConfig, LayerAttention, UnsupportedArchitecture
from service.domain.config_fields import read_int
from service.domain.hf_gemma4 import first_shared_layer, gemma4_extras

GEMMA3N_FAMILY = "gemma3n_text"

# Gemma3nTextConfig defaults (configuration_gemma3n.py) that change the count or the cache.
GEMMA3N_DEFAULTS: dict[str, Any] = {
    "vocab_size": 262400,
    "vocab_size_per_layer_input": 262144,
    "hidden_size_per_layer_input": 256,
    "max_position_embeddings": 32768,
    "sliding_window": 512,
    "altup_num_inputs": 4,
    "laurel_rank": 64,
}

_SLIDING_PATTERN = 5  # 4 local sliding-window layers for every global layer when absent
_GEMMA3_NORMS = 4  # input, post-attention, pre- and post-feedforward
_GEMMA3N_LAYER_NORMS = 3  # post_laurel_norm, altup.router_norm, altup.correct_output_scale


class Gemma3nExtras(msgspec.Struct, frozen=True, kw_only=True):
    """What a Gemma 3n text model holds beyond the Gemma 3 layout."""

    per_layer_embedding_width: int
    per_layer_embedding_vocab: int
    norms_per_layer: int
    matrix_parameters: int
    small_parameters: int
    vllm_loaded_extra: int


def gemma3n_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """``layer_types`` completed as Gemma3nTextConfig does (4 sliding : 1 full when absent)
    and a per-layer ``intermediate_size`` list read as one width (equal widths only)."""
    completed = dict(config)
    layers = read_int(config, "num_hidden_layers")
    if config.get("layer_types") is None:
        completed["layer_types"] = [
            "sliding_attention" if (i + 1) % _SLIDING_PATTERN else "full_attention"
            for i in range(layers)
        ]
    widths = config.get("intermediate_size")
    if isinstance(widths, list):
        if len(widths) != layers:
            raise InvalidConfig(
                "intermediate_size", f"has {len(widths)} entries for {layers} layers"
            )
        if not widths or not all(isinstance(w, int) and not isinstance(w, bool) for w in widths):
            raise InvalidConfig("intermediate_size", "expected a list of integers")
        if len(set(widths)) != 1:
            raise UnsupportedArchitecture(
                "per-layer MLP widths (a MatFormer-sliced intermediate_size)",
                f"intermediate_size has {len(set(widths))} distinct widths",
            )
        completed["intermediate_size"] = widths[0]
    return completed


def gemma3n_layer_attention(
    config: Mapping[str, Any], base: tuple[LayerAttention, ...]
) -> tuple[LayerAttention, ...]:
    """Sliding/full kinds from ``layer_types``; the last ``num_kv_shared_layers`` share KV."""
    first = first_shared_layer(config, len(base))
    return tuple(
        msgspec.structs.replace(layer, shares_kv=i >= first) for i, layer in enumerate(base)
    )


def gemma3n_extras(
    config: Mapping[str, Any], num_layers: int, hidden: int, kv_width: int, head_dim: int
) -> Gemma3nExtras:
    """Per-layer embeddings (Gemma 4's), LAuReL and AltUp parameters of the whole model, and
    what vLLM loads beyond them: its ``Gemma3nAttention`` has a fused ``qkv_proj`` and a
    ``k_norm`` on every layer, filled from the K/V the checkpoint keeps for shared-KV layers,
    ``(2·d·H_kv·h + h)`` per such layer."""
    ple = gemma4_extras(config, num_layers)
    if not ple.per_layer_embedding_width:
        raise InvalidConfig("hidden_size_per_layer_input", "must be positive for Gemma 3n")
    n = read_int(config, "altup_num_inputs")
    rank = read_int(config, "laurel_rank")
    active = read_int(config, "altup_active_idx", default=0, minimum=0)
    if active >= n:
        raise InvalidConfig("altup_active_idx", f"{active} is not one of the {n} AltUp inputs")
    per_layer_matrices = 2 * hidden * rank + hidden * n
    return Gemma3nExtras(
        per_layer_embedding_width=ple.per_layer_embedding_width,
        per_layer_embedding_vocab=ple.per_layer_embedding_vocab,
        norms_per_layer=_GEMMA3_NORMS + 1 + _GEMMA3N_LAYER_NORMS,
        matrix_parameters=num_layers * per_layer_matrices + 2 * (n - 1) * hidden * hidden,
        small_parameters=num_layers * (n**3 + n**2),
        vllm_loaded_extra=(num_layers - first_shared_layer(config, num_layers))
        * (2 * hidden * kv_width + head_dim),
    )
