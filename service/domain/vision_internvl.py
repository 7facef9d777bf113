"""InternVL (``internvl_chat``): the InternViT tower, its MLP projector and its largest image.

The checkpoint format vLLM serves as ``InternVLChatModel`` (InternVL 2.5, 3 and 3.5): the
language model's config is ``llm_config``, the tower's ``vision_config``. Read off
OpenGVLab's ``modeling_intern_vit.py`` / ``modeling_internvl_chat.py`` as the checkpoints ship
them (a copy: https://github.com/armenjeddi/VLMEvalKit/blob/10e955d0cefe81e7040dfe0d03235806b943d9dd/internvl/modeling_intern_vit.py;
vLLM's ``intern_vit.py`` / ``internvl.py`` load the same weights), width ``h``, MLP ``f``,
patch ``p``, image ``S``, ``s = 1 / downsample_ratio``, language-model width ``d``::

    class_embedding h, patch_embedding Conv2d 3·p²·h + h, position_embedding ((S/p)² + 1)·h
    per layer: qkv h·3h (+ 3h with qkv_bias), proj h² + h, fc1 h·f + f, fc2 f·h + h,
               norm1 and norm2 (LayerNorm 2h each, RMSNorm h each), ls1 and ls2 h each,
               q_norm and k_norm h each with qk_normalization
    mlp1: LayerNorm 2·h·s², Linear h·s²·d + d, Linear d² + d

InternViT has no final norm. vLLM drops the layers after ``select_layer`` (-1: none).
Defaults where a key is absent are ``InternVisionConfig``'s (``configuration_intern_vit.py``:
rms_norm, no qkv bias, qk_normalization on).

Largest image (vLLM ``InternVLProcessingInfo``): ``max_dynamic_patch`` tiles of ``S²`` plus
a thumbnail when ``use_thumbnail`` (and more than one tile), each ``(S/p)² / s²`` embedding
rows: InternVL3 (448, 14, 0.5, 12 tiles + 1): 13 · 256 = 3328.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.architecture import InvalidConfig, UnsupportedArchitecture
from service.domain.config_fields import read_bool, read_int, read_str

INTERNVL_TYPES = frozenset({"internvl_chat"})
INTERNVL_HF_TYPES = frozenset({"internvl"})
"""transformers' own format (``-hf`` repos, ``InternVLForConditionalGeneration``)."""
#: Keys the InternVL formulas read from the outer config rather than from vision_config.
INTERNVL_OUTER_KEYS = frozenset(
    {
        "downsample_ratio",
        "select_layer",
        "force_image_size",
        "max_dynamic_patch",
        "use_thumbnail",
        "vision_feature_layer",
    }
)


def _shuffle(config: Mapping[str, Any]) -> int:
    """``s = 1 / downsample_ratio`` (pixel shuffle), an integer >= 1."""
    ratio = config.get("downsample_ratio", 0.5)
    if not isinstance(ratio, int | float) or isinstance(ratio, bool) or not 0 < ratio <= 1:
        raise InvalidConfig("downsample_ratio", f"expected a number in (0, 1], got {ratio!r}")
    scale = round(1 / ratio)
    if abs(scale * ratio - 1) > 1e-9:
        raise InvalidConfig("downsample_ratio", f"expected 1/n, got {ratio!r}")
    return scale


def _layers_loaded(config: Mapping[str, Any], layers: int) -> int:
    """vLLM builds ``layers + select_layer + 1`` layers for a negative ``select_layer``."""
    select = config.get("select_layer", -1)
    if not isinstance(select, int) or isinstance(select, bool) or not -layers <= select < 0:
        raise InvalidConfig("select_layer", f"expected -{layers}..-1, got {select!r}")
    return layers + select + 1


def internvit_layer(vision: Mapping[str, Any]) -> int:
    """One InternViT encoder layer (module formula)."""
    h = read_int(vision, "hidden_size")
    f = read_int(vision, "intermediate_size")
    norm_type = read_str(vision, "norm_type", default="rms_norm")
    if norm_type not in ("layer_norm", "rms_norm"):
        raise InvalidConfig("norm_type", f"expected layer_norm or rms_norm, got {norm_type!r}")
    norm = 2 * h if norm_type == "layer_norm" else h
    qkv = 3 * h * h + (3 * h if read_bool(vision, "qkv_bias", default=False) else 0)
    qk_norm = 2 * h if read_bool(vision, "qk_normalization", default=True) else 0
    return qkv + qk_norm + (h * h + h) + (h * f + f) + (f * h + h) + 2 * norm + 2 * h


def internvl_vision(config: Mapping[str, Any], text_hidden_size: int) -> int:
    """InternViT + ``mlp1`` of an ``internvl_chat`` config (the whole, outer config)."""
    vision = config.get("vision_config")
    if not isinstance(vision, Mapping):
        raise InvalidConfig("vision_config", "expected a JSON object")
    if read_bool(vision, "use_moe", default=False):
        raise UnsupportedArchitecture("InternViT mixture-of-experts MLPs", "vision_config.use_moe")
    h = read_int(vision, "hidden_size")
    patch = read_int(vision, "patch_size")
    image = read_int(vision, "image_size")
    channels = read_int(vision, "num_channels", default=3)
    layers = _layers_loaded(config, read_int(vision, "num_hidden_layers"))
    embed = h + channels * patch * patch * h + h + ((image // patch) ** 2 + 1) * h
    wide = h * _shuffle(config) ** 2
    d = text_hidden_size
    projector = 2 * wide + wide * d + d + d * d + d
    return embed + layers * internvit_layer(vision) + projector


def _vision(config: Mapping[str, Any]) -> Mapping[str, Any]:
    vision = config.get("vision_config")
    if not isinstance(vision, Mapping):
        raise InvalidConfig("vision_config", "expected a JSON object")
    return vision


def internvl_patches_per_tile(config: Mapping[str, Any]) -> int:
    """``(S/p)²`` patches (``S`` = ``force_image_size``, else the tower's ``image_size``)."""
    vision = _vision(config)
    image = read_int(config, "force_image_size", default=read_int(vision, "image_size"))
    return (image // read_int(vision, "patch_size")) ** 2


def internvl_max_tiles(config: Mapping[str, Any]) -> int:
    """``max_dynamic_patch`` tiles, plus the thumbnail when ``use_thumbnail`` and more than one."""
    tiles = read_int(config, "max_dynamic_patch", default=12)
    return tiles + (1 if read_bool(config, "use_thumbnail", default=True) and tiles > 1 else 0)


def internvl_max_tokens_per_image(config: Mapping[str, Any]) -> int:
    """``(max_dynamic_patch + thumbnail) · (S/p)² / s²`` embedding rows (module formula)."""
    return internvl_max_tiles(config) * (internvl_patches_per_tile(config) // _shuffle(config) ** 2)


def _square(vision: Mapping[str, Any], key: str, default: int) -> int:
    """``image_size`` / ``patch_size`` as transformers writes them: an int or ``[h, w]``."""
    value = vision.get(key, default)
    if isinstance(value, list):
        if len(value) != 2 or value[0] != value[1]:
            raise InvalidConfig(key, f"expected a square [n, n], got {value!r}")
        value = value[0]
    return read_int({key: value}, key)


def internvl_hf_as_chat(config: Mapping[str, Any]) -> dict[str, Any]:
    """An ``internvl`` (transformers) config in ``internvl_chat`` terms, same tensors.

    transformers ``modular_internvl.py``: ``attention_bias`` is the qkv bias, ``use_qk_norm``
    the q/k RMSNorms, ``lambda_1``/``lambda_2`` the layer scales, ``multi_modal_projector``
    (``layer_norm``, ``linear_1``, ``linear_2``) is ``mlp1``; ``vision_feature_layer`` is
    ``select_layer``. Defaults are ``InternVLVisionConfig``'s / ``InternVLConfig``'s. The
    largest image (12 tiles + thumbnail) is the processor's default (not in config.json).
    """
    vision = _vision(config)
    if read_bool(vision, "use_mask_token", default=False):
        raise UnsupportedArchitecture("InternVL vision mask token", "vision_config.use_mask_token")
    if not read_bool(vision, "use_mean_pooling", default=True):
        raise UnsupportedArchitecture(
            "InternVL vision final LayerNorm", "vision_config.use_mean_pooling false"
        )
    if not read_bool(vision, "use_absolute_position_embeddings", default=True):
        raise UnsupportedArchitecture(
            "InternVL vision without absolute positions",
            "vision_config.use_absolute_position_embeddings false",
        )
    layer = config.get("vision_feature_layer", -1)
    if isinstance(layer, list):
        raise UnsupportedArchitecture("features from several vision layers", "vision_feature_layer")
    return {
        "downsample_ratio": config.get("downsample_ratio", 0.5),
        "select_layer": layer,
        "vision_config": {
            "hidden_size": read_int(vision, "hidden_size", default=1024),
            "intermediate_size": read_int(vision, "intermediate_size", default=4096),
            "num_hidden_layers": read_int(vision, "num_hidden_layers", default=24),
            "num_channels": read_int(vision, "num_channels", default=3),
            "image_size": _square(vision, "image_size", 448),
            "patch_size": _square(vision, "patch_size", 14),
            "qkv_bias": read_bool(vision, "attention_bias", default=False),
            "qk_normalization": read_bool(vision, "use_qk_norm", default=False),
            "norm_type": read_str(vision, "norm_type", default="layer_norm"),
        },
    }
