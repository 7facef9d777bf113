"""Vision encoders of multimodal checkpoints: exact parameters of the tower and projector.

Engines load the encoder with the language model (unless a text-only mode skips it), so
its weights count. Each formula is read off the transformers modelling code:

Qwen3-VL / Qwen3.5 (``models/qwen3_vl/modular_qwen3_vl.py``), width ``h``, MLP ``f``,
``m`` = spatial merge, output width ``o``::

    patch_embed Conv3d 3·t·p²·h + h      pos_embed n_pos·h
    per block: norm1, norm2 LayerNorm 2·2h, qkv h·3h + 3h, proj h² + h, fc1 h·f + f, fc2 f·h + h
    merger: LayerNorm 2h, fc1 (h·m²)² + h·m², fc2 h·m²·o + o
    each deepstack merger: LayerNorm 2·h·m² (post-shuffle), fc1 and fc2 as the merger

Gemma 3 (``models/siglip/modeling_siglip.py`` SiglipVisionTransformer,
``models/gemma3/modeling_gemma3.py`` Gemma3MultiModalProjector)::

    patch Conv2d 3·p²·h + h, positions (image/p)²·h
    per layer: 2 LayerNorms 4h, q/k/v/o 4·(h² + h), fc1 h·f + f, fc2 f·h + h; post LayerNorm 2h
    projector: mm_input_projection h·d_text, mm_soft_emb_norm h

Llama 4 (``models/llama4/modeling_llama4.py`` Llama4VisionModel, pixel-shuffle MLP,
Llama4MultiModalProjector)::

    class embedding h, positions ((image/p)² + 1)·h, unfold-conv patch 3·p²·h (no bias),
    pre/post LayerNorms 4h; per layer q/k/v/o 4·(h² + h), fc1 h·f + f, fc2 f·h + h, 2 LNs 4h;
    adapter fc1 f·in, fc2 out·out (no biases); projector vision_output·d_text

Mistral 3 (``models/pixtral/modeling_pixtral.py``, ``models/mistral3/modeling_mistral3.py``),
``w`` = heads·head_dim, ``s`` = spatial merge::

    patch Conv2d 3·p²·h (no bias), ln_pre h; per layer 2 RMSNorms 2h, q/k/v/o 4·h·w,
    gated MLP 3·h·f (no biases); projector RMSNorm h, patch merger h·s²·h,
    linear_1 h·d_text, linear_2 d_text² (+ biases when multimodal_projector_bias)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.architecture import InvalidConfig, UnsupportedArchitecture
from service.domain.audio_gemma4 import gemma4_audio
from service.domain.config_fields import read_bool, read_int, read_int_list
from service.domain.vision_gemma4 import GEMMA4_TYPES, gemma4_vision
from service.domain.vision_internvl import (
    INTERNVL_HF_TYPES,
    INTERNVL_OUTER_KEYS,
    INTERNVL_TYPES,
    internvl_hf_as_chat,
    internvl_vision,
)

QWEN_VL_TYPES = frozenset({"qwen3_vl", "qwen3_vl_moe", "qwen3_5", "qwen3_5_moe"})
GEMMA3_TYPES = frozenset({"gemma3"})
LLAMA4_TYPES = frozenset({"llama4"})
MISTRAL3_TYPES = frozenset({"mistral3"})
#: Keys a tower formula reads from the outer config rather than from vision_config.
OUTER_CONFIG_KEYS = (
    frozenset({"spatial_merge_size", "multimodal_projector_bias", "mm_tokens_per_image"})
    | INTERNVL_OUTER_KEYS
)


LANGUAGE_MODEL_KEYS = {"internvl_chat": "llm_config"}
"""Multimodal formats whose language model's config is not ``text_config``."""

_UNMODELLED_MULTIMODAL = {
    "phi4mm": "Phi-4-multimodal encoders (SigLIP vision with HD tiling, conformer audio) "
    "and its built-in vision/speech LoRA adapters",
    "phi4_multimodal": "Phi-4-multimodal encoders (SigLIP vision with HD tiling, conformer "
    "audio) and its built-in vision/speech LoRA adapters",
    # vision_config names a timm architecture (mobilenetv5_300m_enc) whose block shapes are in
    # timm, not in the config; the language model (text_config, gemma3n_text) is counted.
    "gemma3n": "Gemma 3n vision tower (timm MobileNet-V5 'mobilenetv5_300m_enc', shapes not "
    "in the config) and USM conformer audio encoder; post text_config alone (model_type "
    "gemma3n_text) to plan the language model",
}


def check_multimodal_supported(model_type: str) -> None:
    """Refuse (422 naming the feature) the multimodal formats capplan has no count for."""
    if model_type in _UNMODELLED_MULTIMODAL:
        raise UnsupportedArchitecture(
            _UNMODELLED_MULTIMODAL[model_type], f"model_type '{model_type}'"
        )


def _qwen_merger(hidden: int, merge: int, out: int, *, postshuffle_norm: bool) -> int:
    wide = hidden * merge * merge
    norm = 2 * (wide if postshuffle_norm else hidden)
    return norm + wide * wide + wide + wide * out + out


def qwen3_vl_vision(vision: Mapping[str, Any]) -> int:
    """Qwen3-VL / Qwen3.5 vision tower with its patch mergers."""
    h = read_int(vision, "hidden_size")
    f = read_int(vision, "intermediate_size")
    depth = read_int(vision, "depth")
    patch = read_int(vision, "patch_size")
    temporal = read_int(vision, "temporal_patch_size", default=2)
    channels = read_int(vision, "in_channels", default=3)
    merge = read_int(vision, "spatial_merge_size", default=2)
    out = read_int(vision, "out_hidden_size")
    positions = read_int(vision, "num_position_embeddings")
    deepstack = len(read_int_list(vision, "deepstack_visual_indexes"))
    embed = channels * temporal * patch * patch * h + h + positions * h
    block = 4 * h + (3 * h * h + 3 * h) + (h * h + h) + (h * f + f) + (f * h + h)
    mergers = _qwen_merger(h, merge, out, postshuffle_norm=False)
    mergers += deepstack * _qwen_merger(h, merge, out, postshuffle_norm=True)
    return embed + depth * block + mergers


def gemma3_vision(vision: Mapping[str, Any], text_hidden_size: int) -> int:
    """Gemma 3's SigLIP tower (no pooling head) and its multimodal projector."""
    if read_bool(vision, "vision_use_head", default=False):
        raise UnsupportedArchitecture("SigLIP pooling head", "vision_config.vision_use_head")
    h = read_int(vision, "hidden_size")
    f = read_int(vision, "intermediate_size")
    layers = read_int(vision, "num_hidden_layers")
    patch = read_int(vision, "patch_size")
    image = read_int(vision, "image_size")
    channels = read_int(vision, "num_channels", default=3)
    embed = channels * patch * patch * h + h + (image // patch) ** 2 * h
    layer = 4 * h + 4 * (h * h + h) + (h * f + f) + (f * h + h)
    projector = h * text_hidden_size + h
    return embed + layers * layer + 2 * h + projector


def llama4_vision(vision: Mapping[str, Any], text_hidden_size: int) -> int:
    """Llama 4's vision model, pixel-shuffle adapter and projector (``modeling_llama4.py``)."""
    h = read_int(vision, "hidden_size")
    f = read_int(vision, "intermediate_size")
    layers = read_int(vision, "num_hidden_layers")
    patch = read_int(vision, "patch_size")
    image = read_int(vision, "image_size")
    channels = read_int(vision, "num_channels", default=3)
    adapter_in = read_int(vision, "projector_input_dim")
    adapter_out = read_int(vision, "projector_output_dim")
    output = read_int(vision, "vision_output_dim")
    projector_bias = read_bool(vision, "multi_modal_projector_bias", default=False)
    embed = h + ((image // patch) ** 2 + 1) * h + channels * patch * patch * h + 4 * h
    layer = 4 * (h * h + h) + (h * f + f) + (f * h + h) + 4 * h
    adapter = f * adapter_in + adapter_out * adapter_out
    projector = output * text_hidden_size + (text_hidden_size if projector_bias else 0)
    return embed + layers * layer + adapter + projector


def pixtral_vision(config: Mapping[str, Any], text_hidden_size: int) -> int:
    """Mistral 3's Pixtral tower and projector; ``config`` is the whole (outer) config."""
    vision = config.get("vision_config")
    if not isinstance(vision, Mapping):
        raise InvalidConfig("vision_config", "expected a JSON object")
    h = read_int(vision, "hidden_size")
    f = read_int(vision, "intermediate_size")
    layers = read_int(vision, "num_hidden_layers")
    patch = read_int(vision, "patch_size")
    heads = read_int(vision, "num_attention_heads")
    head_dim = read_int(vision, "head_dim", default=h // heads)
    channels = read_int(vision, "num_channels", default=3)
    merge = read_int(config, "spatial_merge_size", default=2)
    projector_bias = read_bool(config, "multimodal_projector_bias", default=False)
    width = heads * head_dim
    tower = channels * patch * patch * h + h + layers * (2 * h + 4 * h * width + 3 * h * f)
    d = text_hidden_size
    projector = h + h * merge * merge * h + h * d + d * d + (2 * d if projector_bias else 0)
    return tower + projector


def vision_tower_parameters(
    outer_type: str, vision: Mapping[str, Any], text_hidden_size: int
) -> int | None:
    """The encoder's parameters, or None when capplan has no formula for this tower."""
    if outer_type in QWEN_VL_TYPES:
        return qwen3_vl_vision(vision)
    if outer_type in GEMMA3_TYPES:
        return gemma3_vision(vision, text_hidden_size)
    if outer_type in LLAMA4_TYPES:
        return llama4_vision(vision, text_hidden_size)
    if outer_type in GEMMA4_TYPES:
        return gemma4_vision(vision, text_hidden_size)
    return None


def encoder_parameters(
    outer_type: str, config: Mapping[str, Any], text_hidden_size: int
) -> int | None:
    """The multimodal encoder of ``config`` (its ``vision_config``), None when unknown."""
    vision = config.get("vision_config")
    if not isinstance(vision, Mapping):
        return 0
    if outer_type in MISTRAL3_TYPES:
        return pixtral_vision(config, text_hidden_size)
    if outer_type in INTERNVL_TYPES:
        return internvl_vision(config, text_hidden_size)
    if outer_type in INTERNVL_HF_TYPES:
        return internvl_vision(internvl_hf_as_chat(config), text_hidden_size)
    tower = vision_tower_parameters(outer_type, vision, text_hidden_size)
    audio = config.get("audio_config")
    if tower is not None and outer_type in GEMMA4_TYPES and isinstance(audio, Mapping):
        try:
            tower += gemma4_audio(audio, text_hidden_size)
        except InvalidConfig as exc:
            raise InvalidConfig(f"audio_config.{exc.field}", exc.detail) from exc
    return tower
