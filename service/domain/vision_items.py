"""The largest multimodal item of each modelled family: the embedding rows its encoder gives.

vLLM V1 sizes the encoder budget and the profile run's dummy batch by this figure
(``MultiModalProcessingInfo.get_mm_max_tokens_per_item`` / ``get_max_image_tokens`` of each
model); :mod:`service.domain.engines.encoder_cache` turns it into bytes.
Per family (``T`` = rows of the largest image):

* Llama 4 (``mllama4.py``): 16 tiles + 1 global, ``(S/p)² / round(1/r²)`` each
  (pixel-shuffle ratio ``r``): Scout 17 · 576 / 4 = 2448.
* InternVL (``internvl.py``): :func:`..vision_internvl.internvl_max_tokens_per_image`,
  InternVL3 13 · 256 = 3328.
* Gemma 3 (``gemma3_mm.py``): pan-and-scan off by default, one crop of
  ``mm_tokens_per_image`` (256) soft tokens.
* Mistral 3 / Pixtral (``mistral3.py``): one image of ``S²`` pixels, ``(S / (p·m))²``
  merged patches (``[IMG_BREAK]`` tokens carry no embedding): Mistral-Small-3.x 55² = 3025.
* Qwen3-VL / Qwen3.5 (``qwen3_vl.py`` via ``qwen2_vl.py`` ``get_max_image_tokens``): the
  image processor's ``longest_edge`` of 16,777,216 pixels (its default; the size lives in
  ``preprocessor_config.json``, not ``config.json``) in ``(p·m)²`` merged patches:
  16,777,216 / 32² = 16,384.

* Gemma 4 (``gemma4_mm.py`` ``get_mm_max_tokens_per_item``): images give
  ``default_output_length`` (280) soft tokens, a video 32 frames of 70 soft tokens + 8
  boundary and timestamp tokens = 2496, the most; vLLM profiles that video. Each soft token
  pools ``pooling_kernel_size²`` (9) patches: 32 · 70 · 9 = 20,160 patches. The cache is
  counted at 2496 rows per item, 256 more than the 2240 the tower outputs.

vLLM profiles the modality with the most tokens per item. On families that also take video
(Qwen VL, InternVL) a video's tokens grow with ``max_model_len``; only their image items
are modelled (vLLM's logs show image items for Qwen3-VL and Qwen3.5 at 16,384 tokens).
Unknown towers give 0 (no reservation, and a note says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from service.domain.architecture import InvalidConfig
from service.domain.config_fields import read_int
from service.domain.vision_gemma4 import GEMMA4_TYPES
from service.domain.vision_internvl import (
    INTERNVL_HF_TYPES,
    INTERNVL_TYPES,
    internvl_hf_as_chat,
    internvl_max_tiles,
    internvl_max_tokens_per_image,
    internvl_patches_per_tile,
)
from service.domain.vision_towers import GEMMA3_TYPES, LLAMA4_TYPES, MISTRAL3_TYPES, QWEN_VL_TYPES

LLAMA4_MAX_TILES = 16
"""Llama 4's image processor splits an image into at most ``max_patches`` = 16 tiles (its
default; vLLM ``Mllama4ProcessingInfo.get_max_num_tiles`` reads it) plus one global tile."""

GEMMA4_VIDEO_FRAMES = 32
"""vLLM ``gemma4_mm.py`` ``_VIDEO_MAX_FRAMES``: frames of the largest video."""
GEMMA4_VIDEO_SOFT_TOKENS = 70
"""vLLM ``_VIDEO_MAX_SOFT_TOKENS``: soft tokens per video frame."""
GEMMA4_VIDEO_FRAME_EXTRA_TOKENS = 8
"""``<boi>`` + ``<eoi>`` + about 6 timestamp tokens per frame (vLLM's own bound)."""

QWEN_VL_MAX_PIXELS = 16_777_216
"""Qwen3-VL's image processor ``size["longest_edge"]`` default (transformers
``Qwen2VLImageProcessorFast`` as Qwen3-VL ships it): the pixels of the largest image."""


def llama4_max_tokens_per_image(vision: Mapping[str, Any]) -> int:
    """``(16 + 1) · (image/patch)² / round(1 / pixel_shuffle_ratio²)`` (vLLM ``mllama4.py``
    ``get_patch_per_chunk``): 17 · 576 / 4 = 2448 for Llama-4-Scout."""
    image = read_int(vision, "image_size")
    patch = read_int(vision, "patch_size")
    ratio = vision.get("pixel_shuffle_ratio", 0.5)
    if not isinstance(ratio, int | float) or not 0 < ratio <= 1:
        raise InvalidConfig("pixel_shuffle_ratio", f"expected a number in (0, 1], got {ratio!r}")
    per_tile = (image // patch) ** 2 // round(1 / ratio**2)
    return (LLAMA4_MAX_TILES + 1) * per_tile


def gemma3_max_tokens_per_image(config: Mapping[str, Any]) -> int:
    """``mm_tokens_per_image`` soft tokens (one crop; Gemma3Config default 256)."""
    return read_int(config, "mm_tokens_per_image", default=256)


def pixtral_max_tokens_per_image(config: Mapping[str, Any], vision: Mapping[str, Any]) -> int:
    """``(image_size / (patch · spatial_merge))²`` merged patches of one full-size image."""
    image = read_int(vision, "image_size")
    step = read_int(vision, "patch_size") * read_int(config, "spatial_merge_size", default=2)
    return (image // step) ** 2


def qwen_vl_max_tokens_per_image(vision: Mapping[str, Any]) -> int:
    """``max_pixels / (patch · spatial_merge)²`` rows (processor default ``max_pixels``)."""
    step = read_int(vision, "patch_size") * read_int(vision, "spatial_merge_size", default=2)
    return QWEN_VL_MAX_PIXELS // (step * step)


class LargestItem(msgspec.Struct, frozen=True, kw_only=True):
    """The largest item: embedding rows it gives the language model, patch tokens the tower
    encodes for it (before any merge or pixel shuffle, class tokens included) and the
    tower's widths. All 0 when unknown."""

    rows: int = 0
    patches: int = 0
    hidden_size: int = 0
    intermediate_size: int = 0


def _tower(vision: Mapping[str, Any], rows: int, patches: int) -> LargestItem:
    return LargestItem(
        rows=rows,
        patches=patches,
        hidden_size=read_int(vision, "hidden_size"),
        intermediate_size=read_int(vision, "intermediate_size"),
    )


def largest_item(outer_type: str, config: Mapping[str, Any]) -> LargestItem:
    """The largest image of the towers capplan knows it of (module list), else zeros.

    Patch tokens per tile are ``(S/p)²`` (+ 1 class token for Llama 4 and InternViT);
    Qwen's rows are ``m²`` patches each."""
    vision = config.get("vision_config")
    if not isinstance(vision, Mapping):
        return LargestItem()
    if outer_type in LLAMA4_TYPES:
        grid = (read_int(vision, "image_size") // read_int(vision, "patch_size")) ** 2
        tiles = LLAMA4_MAX_TILES + 1
        return _tower(vision, llama4_max_tokens_per_image(vision), tiles * (grid + 1))
    if outer_type in INTERNVL_HF_TYPES:
        config = internvl_hf_as_chat(config)
        vision = config["vision_config"]
        outer_type = next(iter(INTERNVL_TYPES))
    if outer_type in INTERNVL_TYPES:
        patches = internvl_max_tiles(config) * (internvl_patches_per_tile(config) + 1)
        return _tower(vision, internvl_max_tokens_per_image(config), patches)
    if outer_type in GEMMA3_TYPES:
        grid = (read_int(vision, "image_size") // read_int(vision, "patch_size")) ** 2
        return _tower(vision, gemma3_max_tokens_per_image(config), grid)
    if outer_type in MISTRAL3_TYPES:
        rows = pixtral_max_tokens_per_image(config, vision)
        merge = read_int(config, "spatial_merge_size", default=2)
        return _tower(vision, rows, rows * merge * merge)
    if outer_type in QWEN_VL_TYPES:
        rows = qwen_vl_max_tokens_per_image(vision)
        merge = read_int(vision, "spatial_merge_size", default=2)
        return _tower(vision, rows, rows * merge * merge)
    if outer_type in GEMMA4_TYPES:
        return gemma4_largest_video(vision)
    return LargestItem()


def gemma4_largest_video(vision: Mapping[str, Any]) -> LargestItem:
    """32 frames · (70 + 8) tokens, 32 · 70 · k² patches (Gemma4VisionConfig defaults)."""
    frames, soft = GEMMA4_VIDEO_FRAMES, GEMMA4_VIDEO_SOFT_TOKENS
    pooling = read_int(vision, "pooling_kernel_size", default=3)
    return LargestItem(
        rows=frames * (soft + GEMMA4_VIDEO_FRAME_EXTRA_TOKENS),
        patches=frames * soft * pooling * pooling,
        hidden_size=read_int(vision, "hidden_size", default=768),
        intermediate_size=read_int(vision, "intermediate_size", default=3072),
    )


def encoder_max_tokens_per_item(outer_type: str, config: Mapping[str, Any]) -> int:
    """Embedding rows of the largest image, for the towers capplan knows it of (else 0)."""
    return largest_item(outer_type, config).rows
