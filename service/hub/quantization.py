"""What a checkpoint stores, read from its config and its safetensors totals (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations
from typing import Any

from service.domain.precision import Precision

_BY_METHOD: Mapping[str, Precision] = {
    "fp8": Precision.FP8,
    "fbgemm_fp8": Precision.FP8,
    "mxfp4": Precision.MXFP4,
}
_BY_BITS: Mapping[int, Precision] = {4: Precision.INT4, 8: Precision.INT8}
_INTEGER_METHODS = frozenset({"gptq", "awq", "auto-round", "autoround"})


def detect_quantization(config: Mapping[str, Any]) -> Precision | None:
    """The weight format a ``config.json`` declares in ``quantization_config``.

    Precision is a str enum, so results compare equal to ``"fp8"``, ``"int4"``... None
    means unquantised, or a method capplan does not model (3-bit GPTQ, HQQ...).
    """
    quant = _quantization_config(config)
    if quant is None:
        return None
    method = str(quant.get("quant_method", "")).lower()
    if method in _BY_METHOD:
        return _BY_METHOD[method]
    if method in _INTEGER_METHODS:
        return _BY_BITS.get(_int(quant.get("bits", quant.get("w_bit", 4))))
    if method == "bitsandbytes":
        return _bitsandbytes(quant)
    if method == "modelopt":
        return _modelopt(str(quant.get("quant_algo", "")).upper())
    if method == "compressed-tensors":
        return _compressed_tensors(quant)
    return None


def _quantization_config(config: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The quantization block, also under its legacy name or a multimodal ``text_config``."""
    for scope in (config, config.get("text_config")):
        if not isinstance(scope, Mapping):
            continue
        for key in ("quantization_config", "compression_config"):
            if isinstance(block := scope.get(key), Mapping):
                return block
    return None


def _bitsandbytes(quant: Mapping[str, Any]) -> Precision | None:
    if quant.get("load_in_4bit") or quant.get("_load_in_4bit"):
        return Precision.INT4
    if quant.get("load_in_8bit") or quant.get("_load_in_8bit"):
        return Precision.INT8
    return None


def _modelopt(algorithm: str) -> Precision | None:
    """NVIDIA ModelOpt ``quant_algo``: ``FP8``, ``NVFP4``, ``W4A16_AWQ``, ``W8A8_SQ...``."""
    if "FP4" in algorithm:
        return Precision.FP4
    if "FP8" in algorithm:
        return Precision.FP8
    if "INT4" in algorithm or algorithm.startswith("W4"):
        return Precision.INT4
    if "INT8" in algorithm or algorithm.startswith("W8"):
        return Precision.INT8
    return None


def _compressed_tensors(quant: Mapping[str, Any]) -> Precision | None:
    """The widest weight format among ``config_groups`` (mixed schemes size by the largest)."""
    groups = quant.get("config_groups")
    if not isinstance(groups, Mapping):
        return None
    found: list[tuple[int, Precision]] = []
    for group in groups.values():
        weights = group.get("weights") if isinstance(group, Mapping) else None
        if not isinstance(weights, Mapping):
            continue
        bits = _int(weights.get("num_bits"))
        is_float = weights.get("type") == "float"
        layout = f"{group.get('format', '')} {quant.get('format', '')}".lower()
        if bits == 8:
            found.append((8, Precision.FP8 if is_float else Precision.INT8))
        elif bits == 4 and is_float:
            found.append((4, Precision.MXFP4 if "mxfp4" in layout else Precision.FP4))
        elif bits == 4:
            found.append((4, Precision.INT4))
    return max(found, key=lambda item: item[0])[1] if found else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def safetensors_total_agrees(
    hub_total: int,
    computed_total: int,
    num_layers: int,
    head_dim: int,
    *,
    vocab_size: int | None = None,
    hidden_size: int | None = None,
    mask_positions: int | None = None,
) -> tuple[bool, str]:
    """Whether the Hub's safetensors total matches a computed parameter count.

    Checkpoints store a few tensors that are not parameters; a difference made up of any
    combination of these known extras is accepted:

    * rotary ``inv_freq`` buffers, ``num_layers · head_dim / 2`` (older Llama exports);
    * a tied ``lm_head`` stored anyway, ``vocab_size · hidden_size``;
    * GPT-2 ``attn.bias`` causal masks, ``num_layers · mask_positions²``.

    Returns ``(agrees, explanation)``.
    """
    if hub_total == computed_total:
        return True, "exact match"
    extras = _known_extras(num_layers, head_dim, vocab_size, hidden_size, mask_positions)
    difference = hub_total - computed_total
    for size in range(1, len(extras) + 1):
        for chosen in combinations(extras, size):
            if sum(count for _, count in chosen) == difference:
                parts = " + ".join(f"{name} ({count:,})" for name, count in chosen)
                return True, f"hub stores {difference:,} extra elements: {parts}"
    known = ", ".join(f"{name} = {count:,}" for name, count in extras) or "none applicable"
    return False, (
        f"hub total {hub_total:,} differs from computed {computed_total:,} by {difference:+,}, "
        f"which no known convention explains (checked: {known})"
    )


def _known_extras(
    num_layers: int,
    head_dim: int,
    vocab_size: int | None,
    hidden_size: int | None,
    mask_positions: int | None,
) -> list[tuple[str, int]]:
    extras = [("rotary inv_freq buffers", num_layers * head_dim // 2)]
    if vocab_size is not None and hidden_size is not None:
        extras.append(("untied lm_head copy", vocab_size * hidden_size))
    if mask_positions is not None:
        extras.append(("attn.bias mask buffers", num_layers * mask_positions**2))
    return extras
