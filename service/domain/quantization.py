"""What a quantised checkpoint stores, read from its ``quantization_config``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.architecture import InvalidConfig, Quantization
from service.domain.precision import DEFAULT_INT4_GROUP_SIZE


def quantization_from_config(config: Mapping[str, Any]) -> Quantization | None:
    """Detect fp8, GPTQ/AWQ int4/int8, mxfp4, NVFP4 and compressed-tensors checkpoints.

    Returns None for an unquantised checkpoint. ``attention_quantized`` is False when the
    checkpoint keeps attention in 16 bit (gpt-oss lists ``self_attn`` in
    ``modules_to_not_convert``): only the MLP/expert weights are then stored quantised.
    """
    raw = config.get("quantization_config")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidConfig("quantization_config", "expected an object")
    method = str(raw.get("quant_method", "")).lower()
    skipped = raw.get("modules_to_not_convert") or raw.get("ignore") or []
    attention_quantized = not any("attn" in str(module) for module in skipped)
    weight_dtype, group = _weight_format(method, raw)
    if weight_dtype is None:
        return None
    return Quantization(
        method=method,
        weight_dtype=weight_dtype,
        group_size=group,
        attention_quantized=attention_quantized,
    )


def _weight_format(method: str, raw: Mapping[str, Any]) -> tuple[str | None, int | None]:
    if method in ("fp8", "fbgemm_fp8"):
        return "fp8", None
    if method in ("gptq", "awq", "autoround"):
        bits = raw.get("bits", raw.get("w_bit", 4))
        group = raw.get("group_size", raw.get("q_group_size", DEFAULT_INT4_GROUP_SIZE))
        group_size = int(group) if isinstance(group, int) and group > 0 else DEFAULT_INT4_GROUP_SIZE
        return ("int8" if bits == 8 else "int4"), group_size
    if method == "mxfp4":
        return "mxfp4", None
    if method == "bitsandbytes":
        return ("int8" if raw.get("load_in_8bit") else "int4"), 64
    if method == "modelopt":
        algo = str(raw.get("quant_algo", "")).upper()
        return ("fp4" if "FP4" in algo else "fp8"), None
    if method == "compressed-tensors":
        return _compressed_tensors_format(raw)
    return None, None


def _compressed_tensors_format(raw: Mapping[str, Any]) -> tuple[str | None, int | None]:
    groups = raw.get("config_groups")
    if not isinstance(groups, Mapping):
        return None, None
    for group in groups.values():
        weights = group.get("weights") if isinstance(group, Mapping) else None
        if not isinstance(weights, Mapping):
            continue
        bits = weights.get("num_bits")
        kind = str(weights.get("type", "int"))
        group_size = weights.get("group_size")
        size = int(group_size) if isinstance(group_size, int) and group_size > 0 else None
        if bits == 8:
            return ("fp8" if kind == "float" else "int8"), None
        if bits == 4:
            return ("fp4" if kind == "float" else "int4"), size or DEFAULT_INT4_GROUP_SIZE
    return None, None
