"""vLLM V1's profile run keeps a dummy batch of encoder outputs beside the forward pass.

Expected figures are hand arithmetic from vLLM's ``MultiModalBudget._get_max_items`` and
``mllama4.py`` ``get_patch_per_chunk`` / ``get_max_num_tiles`` (module docs of
:mod:`service.domain.engines.encoder_cache` and :mod:`service.domain.vision_items`).
"""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.architecture import Architecture, InvalidConfig
from service.domain.engines.encoder_cache import (
    encoder_cache_bytes,
    encoder_forward_bytes,
    profile_run_peak,
)
from service.domain.engines.profile import EngineProfile
from service.domain.hf_config import architecture_from_config
from service.domain.vision_items import llama4_max_tokens_per_image
from tests.domain.reference import LLAMA_LIKE

SCOUT_VISION = {"image_size": 336, "patch_size": 14, "pixel_shuffle_ratio": 0.5}


def test_llama4_largest_image_is_17_tiles_of_144_tokens() -> None:
    """16 tiles + 1 global, each (336/14)² = 576 patches pixel-shuffled by 4: 17 · 144."""
    assert llama4_max_tokens_per_image(SCOUT_VISION) == 2448


def test_a_pixel_shuffle_ratio_out_of_range_is_invalid() -> None:
    """A ratio outside (0, 1] is a 400 naming the field."""
    with pytest.raises(InvalidConfig) as raised:
        llama4_max_tokens_per_image({**SCOUT_VISION, "pixel_shuffle_ratio": 2})
    assert raised.value.field == "pixel_shuffle_ratio"


def _multimodal(per_item: int = 2448, hidden: int = 5120) -> Architecture:
    arch = architecture_from_config({**LLAMA_LIKE, "hidden_size": hidden})
    return msgspec.structs.replace(arch, encoder_max_tokens_per_item=per_item)


@pytest.mark.parametrize(
    ("tokens", "seqs", "max_model_len", "limit", "expected"),
    [
        # budget 8192 // 2448 = 3 items, decoder 1024 · (8192 // 2448 = 3): 3 · 2448 · 5120 · 2
        (8192, 1024, 8192, None, 3 * 2448 * 5120 * 2),
        # budget raised to one item: max(2048, 2448) // 2448 = 1
        (2048, 256, 8192, None, 1 * 2448 * 5120 * 2),
        # one sequence of 4096 tokens holds 4096 // 2448 = 1 image
        (8192, 1, 4096, None, 1 * 2448 * 5120 * 2),
        # --limit-mm-per-prompt 1 with one sequence: 1 item
        (8192, 1, 131072, 1, 1 * 2448 * 5120 * 2),
        # text-only (limit 0): no encoder profiling
        (8192, 1024, 8192, 0, 0),
    ],
    ids=["scout-h100-defaults", "budget-below-an-item", "one-short-sequence", "limit-1", "text"],
)
def test_encoder_cache_of_the_profile_run(
    tokens: int, seqs: int, max_model_len: int, limit: int | None, expected: int
) -> None:
    """items · T_item · d · 2 bytes, items bounded by the encoder budget and the decoder."""
    assert encoder_cache_bytes(_multimodal(), tokens, seqs, max_model_len, limit) == expected


def test_a_text_model_reserves_no_encoder_cache() -> None:
    """No known largest item (a text model or an unknown tower): nothing reserved."""
    assert encoder_cache_bytes(_multimodal(per_item=0), 8192, 1024, 8192) == 0


@given(
    tokens=st.integers(min_value=1, max_value=65536),
    more=st.integers(min_value=0, max_value=65536),
    seqs=st.integers(min_value=1, max_value=1024),
    per_item=st.integers(min_value=1, max_value=20000),
)
def test_the_encoder_cache_grows_with_the_batch_and_holds_whole_items(
    tokens: int, more: int, seqs: int, per_item: int
) -> None:
    """More batched tokens never shrink it; it is always a whole number of items, >= 1."""
    arch = _multimodal(per_item=per_item, hidden=64)
    small = encoder_cache_bytes(arch, tokens, seqs, 131072)
    large = encoder_cache_bytes(arch, tokens + more, seqs, 131072)
    item = per_item * 64 * 2
    assert small <= large
    assert small % item == 0
    assert small >= item


def _with_tower(patches: int, hidden: int, intermediate: int) -> Architecture:
    return msgspec.structs.replace(
        _multimodal(),
        encoder_patches_per_item=patches,
        encoder_hidden_size=hidden,
        encoder_intermediate_size=intermediate,
    )


def test_the_encoder_forward_is_priced_per_patch_token() -> None:
    """Scout's tower at TP4, 3 items of 17 · 577 patches: 3 · 9809 · 6 · (5632/4 + 1408)."""
    arch = _with_tower(17 * 577, 1408, 5632)
    profile = EngineProfile(
        name="test", version="0", kind="vllm-v1", activation_bytes_per_token_width=6.0
    )
    assert encoder_forward_bytes(arch, profile, 3, 4) == 3 * 9809 * 6 * (1408 + 1408)


@pytest.mark.parametrize(
    ("language_model_peak", "expected_phase"),
    [(10**12, 10**12), (1, 2 * 9809 * 6 * (1408 + 5632))],
    ids=["sampler-larger", "encoder-larger"],
)
def test_the_peak_is_the_larger_phase_plus_the_cache(
    language_model_peak: int, expected_phase: int
) -> None:
    """max(encoder forward, language-model peak) + cache; 16384 tokens hold 6 items but one
    sequence of 4096 tokens only 1 · 2 (limit 2): 2 items of 2448 · 5120 · 2 B."""
    arch = _with_tower(17 * 577, 1408, 5632)
    profile = EngineProfile(
        name="test", version="0", kind="vllm-v1", activation_bytes_per_token_width=6.0
    )
    peak = profile_run_peak(arch, profile, language_model_peak, 16384, 1, 131072, 2)
    assert peak == expected_phase + 2 * 2448 * 5120 * 2


def test_text_only_leaves_the_language_model_peak() -> None:
    """Limit 0: no dummy encoder batch, nothing added."""
    arch = _with_tower(17 * 577, 1408, 5632)
    profile = EngineProfile(name="test", version="0", kind="vllm-v1")
    assert profile_run_peak(arch, profile, 12345, 8192, 1024, 8192, 0) == 12345
