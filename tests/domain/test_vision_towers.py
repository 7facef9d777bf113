"""Vision towers: counted with the language model, in weight memory, and dropped text-only."""

from __future__ import annotations

import math
from typing import Any

from service.domain.hf_config import architecture_from_config
from service.domain.parameters import count_parameters, text_only
from service.domain.precision import Precision
from service.domain.vision_towers import qwen3_vl_vision
from service.domain.weights import weight_memory
from tests.domain.reference import REFERENCE_DIR, load_reference, with_fields


def _config(repo_id: str) -> dict[str, Any]:
    models = load_reference(REFERENCE_DIR / "models_2025.json")["models"]
    [entry] = [m for m in models if m["repo_id"] == repo_id]
    config: dict[str, Any] = entry["config"]
    return config


def test_qwen_vision_tower_formula_on_a_tiny_tower() -> None:
    """h=4, f=8, depth 1, patch 2, t=2, merge 2, o=6, 4 positions:
    embed 3·2·4·4 + 4 + 4·4 = 116; block 16 + 60 + 20 + 40 + 36 = 172;
    merger 8 + 16² + 16 + 16·6 + 6 = 382 -> 670."""
    tower = {
        "hidden_size": 4,
        "intermediate_size": 8,
        "depth": 1,
        "patch_size": 2,
        "temporal_patch_size": 2,
        "spatial_merge_size": 2,
        "out_hidden_size": 6,
        "num_position_embeddings": 4,
    }
    assert qwen3_vl_vision(tower) == 670


def test_deepstack_mergers_add_post_shuffle_normed_mergers() -> None:
    """Each deepstack index adds a merger whose LayerNorm spans h·m² = 16:
    2·16 + 16² + 16 + 16·6 + 6."""
    tower = {
        "hidden_size": 4,
        "intermediate_size": 8,
        "depth": 1,
        "patch_size": 2,
        "out_hidden_size": 6,
        "num_position_embeddings": 4,
    }
    plain = qwen3_vl_vision(tower)
    deep = qwen3_vl_vision({**tower, "deepstack_visual_indexes": [0]})
    assert deep - plain == 32 + 256 + 16 + 96 + 6


def test_encoder_is_in_the_total_and_dropped_text_only() -> None:
    """Gemma 3 27B counts its SigLIP tower; text-only mode leaves exactly the language model."""
    counted = count_parameters(architecture_from_config(_config("google/gemma-3-27b-it")))
    lm_only = text_only(counted)
    assert counted.breakdown.encoder > 0
    assert lm_only.total == counted.total - counted.breakdown.encoder
    assert lm_only.breakdown.total == lm_only.total


def test_encoder_weights_are_loaded_at_16_bit() -> None:
    """bf16 on one GPU: every parameter, encoder included, is 2 bytes."""
    arch = architecture_from_config(_config("google/gemma-3-27b-it"))
    counted = count_parameters(arch)
    memory = weight_memory(arch, counted, Precision.BF16, 1, 1)
    assert memory.total_bytes == memory.per_gpu_bytes == 2 * counted.total


def test_unknown_vision_tower_is_named_not_guessed() -> None:
    """A tower without a formula adds nothing and the notes say its weights are missing."""
    cfg = with_fields(_config("google/gemma-3-27b-it"), model_type="my_vlm")
    cfg["text_config"] = {**cfg["text_config"], "model_type": "gemma3_text"}
    arch = architecture_from_config(cfg)
    assert arch.encoder_parameters == 0
    assert any("no formula for this vision encoder" in note for note in arch.notes)


def test_published_infinity_limits_are_read() -> None:
    """Nemotron-H configs carry time_step_limit [0.0, Infinity]; it changes no shape."""
    cfg = with_fields(_config("nvidia/NVIDIA-Nemotron-Nano-9B-v2"), time_step_limit=[0.0, math.inf])
    assert architecture_from_config(cfg).num_layers == 56


def test_pixtral_projector_bias_adds_two_text_widths() -> None:
    """multimodal_projector_bias adds linear_1 and linear_2 biases: 2·5120."""
    cfg = _config("mistralai/Mistral-Small-3.2-24B-Instruct-2506")
    plain = architecture_from_config(cfg).encoder_parameters
    biased = architecture_from_config({**cfg, "multimodal_projector_bias": True})
    assert biased.encoder_parameters - plain == 2 * 5120
