"""What a quantised checkpoint stores, read from its ``quantization_config``.

The single place that reads quantisation from a config: the catalog, the API and the Hub
importer all use :func:`detect_quantization` / :func:`quantization_from_config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.architecture import Quantization
from service.domain.precision import DEFAULT_INT4_GROUP_SIZE, Precision

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
        bits = _int(quant.get("bits", quant.get("w_bit", 4)))
        return _BY_BITS.get(bits) if bits is not None else None
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


def quantization_from_config(config: Mapping[str, Any]) -> Quantization | None:
    """The checkpoint's stored weight format, or None when unquantised or not modelled.

    ``attention_quantized`` is False when the checkpoint keeps attention in 16 bit
    (gpt-oss lists ``self_attn`` in ``modules_to_not_convert``): only the MLP/expert
    weights are then stored quantised. ``group_size`` is the int4 scale group (GPTQ/AWQ
    ``group_size``, compressed-tensors ``weights.group_size``), 128 when unstated.
    """
    precision = detect_quantization(config)
    quant = _quantization_config(config)
    if precision is None or quant is None:
        return None
    skipped = quant.get("modules_to_not_convert") or quant.get("ignore") or []
    attention_quantized = not any("attn" in str(module) for module in skipped)
    return Quantization(
        method=str(quant.get("quant_method", "")).lower(),
        weight_dtype=precision.value,
        group_size=_group_size(quant) if precision is Precision.INT4 else None,
        attention_quantized=attention_quantized,
    )


def _group_size(quant: Mapping[str, Any]) -> int:
    candidates = [quant.get("group_size"), quant.get("q_group_size")]
    groups = quant.get("config_groups")
    if isinstance(groups, Mapping):
        for group in groups.values():
            weights = group.get("weights") if isinstance(group, Mapping) else None
            if isinstance(weights, Mapping):
                candidates.append(weights.get("group_size"))
    for value in candidates:
        size = _int(value)
        if size is not None and size > 0:
            return size
    return DEFAULT_INT4_GROUP_SIZE
