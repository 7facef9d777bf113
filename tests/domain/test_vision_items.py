"""The largest multimodal item of each modelled family, as vLLM sizes its profile run by it.

Expected rows are hand arithmetic from the vLLM processing code named in
:mod:`service.domain.vision_items`, on the published configs of
``catalog/reference/models_2025.json``.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.hf_config import architecture_from_config
from service.domain.vision_items import encoder_max_tokens_per_item, largest_item
from tests.domain.reference import REFERENCE_DIR, load_reference


def _config(repo_id: str) -> dict[str, Any]:
    models = load_reference(REFERENCE_DIR / "models_2025.json")["models"]
    [entry] = [m for m in models if m["repo_id"] == repo_id]
    config: dict[str, Any] = entry["config"]
    return config


@pytest.mark.parametrize(
    ("repo_id", "expected"),
    [
        # 16 tiles + 1 global, (336/14)² = 576 patches pixel-shuffled by 4
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", 17 * 144),
        # one crop of mm_tokens_per_image soft tokens
        ("google/gemma-3-27b-it", 256),
        # 1540 px in 14-px patches merged 2×2: 55 × 55
        ("mistralai/Mistral-Small-3.2-24B-Instruct-2506", 55 * 55),
        # 16,777,216 px in (16·2)² merged patches
        ("Qwen/Qwen3.8-27B", 16_777_216 // 32**2),
    ],
    ids=["llama4-scout", "gemma3-27b", "mistral-small-3.2", "qwen3.5-vl-tower"],
)
def test_rows_of_the_largest_image(repo_id: str, expected: int) -> None:
    """Embedding rows the largest image gives the language model, per family."""
    config = _config(repo_id)
    assert encoder_max_tokens_per_item(str(config["model_type"]), config) == expected


def test_gemma4_profiles_its_largest_video() -> None:
    """32 frames × (70 soft + 8 boundary/timestamp tokens) = 2496 > 280 per image; the tower
    pools 3² patches per soft token: 32 · 70 · 9 patches."""
    arch = architecture_from_config(_config("google/gemma-4-E4B-it"))
    assert arch.encoder_max_tokens_per_item == 32 * 78
    assert arch.encoder_patches_per_item == 32 * 70 * 9


def test_an_unknown_largest_input_is_said_not_guessed() -> None:
    """A tower whose largest input capplan does not know gives 0 rows: no reservation."""
    assert encoder_max_tokens_per_item("my_vlm", _config("google/gemma-3-27b-it")) == 0


def test_a_text_model_has_no_multimodal_item() -> None:
    """No vision_config: nothing to profile."""
    assert encoder_max_tokens_per_item("qwen3", _config("Qwen/Qwen3-8B")) == 0


@pytest.mark.parametrize(
    ("repo_id", "patches"),
    [
        # 17 tiles of (336/14)² patches + 1 class token
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", 17 * 577),
        # one crop of (896/14)² patches, no class token
        ("google/gemma-3-27b-it", 64 * 64),
        # 55² merged rows of 2×2 patches
        ("mistralai/Mistral-Small-3.2-24B-Instruct-2506", 55 * 55 * 4),
        # 16,384 merged rows of 2×2 patches
        ("Qwen/Qwen3.8-27B", 16_384 * 4),
    ],
    ids=["llama4-scout", "gemma3-27b", "mistral-small-3.2", "qwen3.5-vl-tower"],
)
def test_patch_tokens_the_tower_encodes(repo_id: str, patches: int) -> None:
    """The encoder forward of the profile run runs over these patch tokens per item."""
    config = _config(repo_id)
    item = largest_item(str(config["model_type"]), config)
    assert item.patches == patches
    assert item.hidden_size == config["vision_config"]["hidden_size"]
