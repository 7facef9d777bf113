"""InternVL (``internvl_chat``): InternViT + mlp1 counted, its largest image, its refusals.

Oracles: ``catalog/reference/models_multimodal.json`` (the InternVL3-1B config as published
and a logged exact count, both cited there) and hand arithmetic written in each docstring
from the module formula of :mod:`service.domain.vision_internvl`.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import pytest

from service.domain.architecture import InvalidConfig, UnsupportedArchitecture
from service.domain.hf_config import architecture_from_config
from service.domain.parameters import count_parameters
from service.domain.vision_internvl import internvit_layer, internvl_max_tokens_per_image
from tests.domain.reference import REFERENCE_DIR, load_reference


@functools.cache
def _entry() -> dict[str, Any]:
    models = load_reference(REFERENCE_DIR / "models_multimodal.json")["models"]
    [entry] = [m for m in models if m["repo_id"] == "OpenGVLab/InternVL3-1B"]
    return dict(entry)


def _config(**outer: Any) -> dict[str, Any]:
    config: dict[str, Any] = copy.deepcopy(_entry()["config"])
    config.update(outer)
    return config


def test_internvl3_1b_counts_the_published_figure_exactly() -> None:
    """Language model + InternViT-300M + mlp1 = 938,193,024, the logged count of the model."""
    counted = count_parameters(architecture_from_config(_entry()["config"]))
    assert counted.total == _entry()["total_params"]


def test_internvit_300m_and_mlp1_by_hand() -> None:
    """h 1024, f 4096, 24 layers, patch 14, 448 px, qkv bias, LayerNorm; d 896, s 2:
    embeddings 1024 + 3·14²·1024 + 1024 + 1025·1024 = 1,653,760;
    layer 3,148,800 + 1,049,600 + 4,198,400 + 4,195,328 + 4,096 + 2,048 = 12,598,272 (× 24);
    mlp1 2·4096 + 4096·896 + 896 + 896² + 896 = 4,482,816 -> 308,495,104."""
    arch = architecture_from_config(_entry()["config"])
    assert arch.encoder_parameters == 1_653_760 + 24 * 12_598_272 + 4_482_816


def test_internvit_6b_layer_with_rms_norms_and_qk_norms() -> None:
    """InternViT-6B shapes (h 3200, f 12800, rms_norm, qk_normalization, no qkv bias):
    3·3200² + 2·3200 + (3200² + 3200) + (3200·12800 + 12800) + (12800·3200 + 3200)
    + 2·3200 + 2·3200 = 122,918,400."""
    vision = {
        "hidden_size": 3200,
        "intermediate_size": 12800,
        "norm_type": "rms_norm",
        "qk_normalization": True,
        "qkv_bias": False,
    }
    assert internvit_layer(vision) == 122_918_400


def test_select_layer_drops_the_layers_after_it() -> None:
    """vLLM builds num_hidden_layers + select_layer + 1 layers: -2 loads one layer fewer."""
    full = architecture_from_config(_config()).encoder_parameters
    shorter = architecture_from_config(_config(select_layer=-2)).encoder_parameters
    assert full - shorter == 12_598_272


@pytest.mark.parametrize(
    ("outer", "expected"),
    [
        ({}, 13 * 256),
        ({"use_thumbnail": False}, 12 * 256),
        ({"max_dynamic_patch": 1}, 256),
        ({"max_dynamic_patch": 6}, 7 * 256),
    ],
    ids=["12-tiles-and-thumbnail", "no-thumbnail", "one-tile-no-thumbnail", "6-tiles"],
)
def test_largest_image_in_tiles_of_256_rows(outer: dict[str, Any], expected: int) -> None:
    """(448/14)² / 2² = 256 rows per tile, max_dynamic_patch tiles (+1 thumbnail if > 1)."""
    assert internvl_max_tokens_per_image(_config(**outer)) == expected


def test_the_architecture_carries_the_largest_image() -> None:
    """The normalised model keeps 3328 rows for the engine's encoder-cache reservation."""
    assert architecture_from_config(_entry()["config"]).encoder_max_tokens_per_item == 3328


@pytest.mark.parametrize(
    ("outer", "field"),
    [
        ({"downsample_ratio": 0.3}, "downsample_ratio"),
        ({"downsample_ratio": 0}, "downsample_ratio"),
        ({"select_layer": 0}, "select_layer"),
        ({"select_layer": -25}, "select_layer"),
    ],
    ids=["ratio-not-1-over-n", "ratio-zero", "select-layer-0", "select-layer-too-deep"],
)
def test_bad_outer_keys_are_400s_naming_the_field(outer: dict[str, Any], field: str) -> None:
    """An impossible pixel shuffle or feature layer names the outer key itself."""
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(_config(**outer))
    assert raised.value.field == field


def test_a_bad_language_model_key_names_llm_config() -> None:
    """The language model lives in llm_config, and errors there say so."""
    config = _config()
    config["llm_config"]["num_attention_heads"] = "fourteen"
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(config)
    assert raised.value.field == "llm_config.num_attention_heads"


def test_a_mixture_of_experts_internvit_is_refused() -> None:
    """use_moe swaps the MLPs for experts capplan does not count: 422 naming it."""
    config = _config()
    config["vision_config"]["use_moe"] = True
    with pytest.raises(UnsupportedArchitecture) as raised:
        architecture_from_config(config)
    assert "mixture-of-experts" in raised.value.feature


@pytest.mark.parametrize("model_type", ["phi4mm", "phi4_multimodal"])
def test_phi4_multimodal_is_refused_naming_its_encoders(model_type: str) -> None:
    """Phi-4-multimodal's SigLIP + conformer encoders and LoRA adapters are not counted."""
    config = {"model_type": model_type, "hidden_size": 3072, "num_hidden_layers": 32}
    with pytest.raises(UnsupportedArchitecture) as raised:
        architecture_from_config(config)
    assert "Phi-4-multimodal" in raised.value.feature


def test_internvit_encodes_1025_patch_tokens_per_tile() -> None:
    """13 tiles of (448/14)² patches + 1 class token: 13 · 1025 = 13,325."""
    arch = architecture_from_config(_entry()["config"])
    assert arch.encoder_patches_per_item == 13 * 1025


def _hf_format(**vision: Any) -> dict[str, Any]:
    """InternVL3-1B in transformers' own layout (the ``-hf`` conversion renames, keeps
    every tensor): llm_config -> text_config, qkv_bias -> attention_bias, [n, n] sizes."""
    chat = _config()
    tower = {
        "model_type": "internvl_vision",
        "hidden_size": 1024,
        "intermediate_size": 4096,
        "num_hidden_layers": 24,
        "image_size": [448, 448],
        "patch_size": [14, 14],
        "attention_bias": True,
        "use_qk_norm": False,
        "norm_type": "layer_norm",
        **vision,
    }
    return {
        "model_type": "internvl",
        "text_config": {**chat["llm_config"], "tie_word_embeddings": False},
        "vision_config": tower,
        "downsample_ratio": 0.5,
        "vision_feature_layer": -1,
    }


def test_the_transformers_layout_counts_the_same_tensors() -> None:
    """Same model, transformers' keys: the same 938,193,024 and the same largest image."""
    arch = architecture_from_config(_hf_format())
    assert count_parameters(arch).total == _entry()["total_params"]
    assert arch.encoder_max_tokens_per_item == 13 * 256


@pytest.mark.parametrize(
    ("vision", "feature"),
    [({"use_mask_token": True}, "mask token"), ({"use_mean_pooling": False}, "LayerNorm")],
    ids=["mask-token", "final-layernorm"],
)
def test_unmodelled_transformers_options_are_refused(vision: dict[str, Any], feature: str) -> None:
    """Options InternVL3 checkpoints do not use are 422s naming them, not guesses."""
    with pytest.raises(UnsupportedArchitecture) as raised:
        architecture_from_config(_hf_format(**vision))
    assert feature in raised.value.feature


def test_a_rectangular_patch_is_a_400() -> None:
    """transformers writes [n, n]; anything else names the field."""
    with pytest.raises(InvalidConfig) as raised:
        architecture_from_config(_hf_format(patch_size=[14, 16]))
    assert raised.value.field == "vision_config.patch_size"
