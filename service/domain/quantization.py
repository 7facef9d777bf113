"""What a quantised checkpoint stores, read from its ``quantization_config``.

The single place that reads quantisation from a config: the catalog, the API and the Hub
importer all use :func:`quantization_from_config` / :func:`detect_quantization`. A method
or scheme capplan does not model raises :class:`UnsupportedQuantization` (an API 422 naming
the method), never a silent 16-bit guess; a malformed field (a scale block that is not
``[rows, cols]``) raises :class:`InvalidConfig` (an API 400 naming it). Formats and their byte
formulas are in :mod:`service.domain.weight_format`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.architecture import InvalidConfig, Quantization
from service.domain.compressed_tensors import compressed_tensors_scheme
from service.domain.precision import DEFAULT_INT4_GROUP_SIZE, Precision
from service.domain.quant_errors import UnsupportedQuantization, block_shape, config_int
from service.domain.quant_scheme import EVERY_LINEAR, ModuleRule, QuantScheme
from service.domain.weight_format import (
    WeightFormat,
    bnb_nf4,
    fp8_block,
    fp8_per_tensor,
    int8_or_fp8_per_channel,
    int_grouped,
    mxfp4,
    nvfp4,
)

__all__ = [
    "UnsupportedQuantization",
    "detect_quantization",
    "quantization_from_config",
    "scheme_from_config",
]

_IGNORE_KEYS = ("modules_to_not_convert", "ignore", "exclude_modules", "ignored_layers")
_GPTQ_METHODS = frozenset({"gptq", "gptq_marlin", "auto-round", "autoround"})


def quantization_from_config(config: Mapping[str, Any]) -> Quantization | None:
    """The checkpoint's stored weight format, or None when the checkpoint is unquantised.

    ``attention_quantized`` is False when the scheme keeps every attention projection in
    16 bit (gpt-oss: experts-only MXFP4). ``group_size`` is the int4 scale group.
    """
    found = _quantization_config(config)
    if found is None:
        return None
    scheme = scheme_from_config(found[1], where=found[0])
    precision = _widest(scheme)
    attention_format = scheme.format_of("model.layers.0.self_attn.q_proj", is_expert=False)
    return Quantization(
        method=scheme.method,
        weight_dtype=precision.value,
        group_size=_int4_group(scheme) if precision is Precision.INT4 else None,
        attention_quantized=attention_format is not None,
        scheme=scheme,
    )


def detect_quantization(config: Mapping[str, Any]) -> Precision | None:
    """The weight format a ``config.json`` declares (the widest, for mixed schemes).

    Precision is a str enum, so results compare equal to ``"fp8"``, ``"int4"``... None
    means unquantised; an unmodelled method raises :class:`UnsupportedQuantization`.
    """
    found = _quantization_config(config)
    return None if found is None else _widest(scheme_from_config(found[1], where=found[0]))


def scheme_from_config(
    quant: Mapping[str, Any], *, where: str = "quantization_config"
) -> QuantScheme:
    """Parse one ``quantization_config`` block into a :class:`QuantScheme`; a malformed
    field is :class:`InvalidConfig` naming ``<where>.<field>``."""
    method = str(quant.get("quant_method", "")).lower()
    ignore = _ignore_list(quant)
    if method in ("fp8", "fbgemm_fp8"):
        return _single(method, _fp8(method, quant, where), ignore)
    if method == "mxfp4":
        return QuantScheme(
            method=method,
            rules=(ModuleRule(targets=(EVERY_LINEAR,), format=mxfp4()),),
            ignore=ignore,
            experts_only=True,
        )
    if method in _GPTQ_METHODS or method in ("awq", "awq_marlin"):
        return _single(method, _gptq_or_awq(method, quant), ignore)
    if method == "bitsandbytes":
        skip = tuple(str(m) for m in quant.get("llm_int8_skip_modules") or ())
        return _single(method, _bitsandbytes(quant), ignore + skip)
    if method == "modelopt":
        return _single(method, _modelopt(quant), ignore)
    if method == "compressed-tensors":
        return compressed_tensors_scheme(quant, ignore, where)
    raise UnsupportedQuantization(
        method or "(none)",
        "capplan models fp8, fbgemm_fp8, mxfp4, gptq, awq, bitsandbytes, modelopt "
        "(FP8, NVFP4) and compressed-tensors checkpoints",
    )


def _single(method: str, fmt: WeightFormat, ignore: tuple[str, ...]) -> QuantScheme:
    return QuantScheme(
        method=method, rules=(ModuleRule(targets=(EVERY_LINEAR,), format=fmt),), ignore=ignore
    )


def _quantization_config(config: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """The quantization block and its key, also under its legacy name or a multimodal
    ``text_config``."""
    for scope in (config, config.get("text_config")):
        if not isinstance(scope, Mapping):
            continue
        for key in ("quantization_config", "compression_config"):
            block = scope.get(key)
            if isinstance(block, Mapping):
                return key, block
            if block is not None:
                raise InvalidConfig(key, f"expected an object, got {type(block).__name__}")
    return None


def _ignore_list(quant: Mapping[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for key in _IGNORE_KEYS:
        value = quant.get(key)
        if isinstance(value, list | tuple):
            found.extend(str(item) for item in value)
    nested = quant.get("quantization")
    if isinstance(nested, Mapping):
        found.extend(_ignore_list(nested))
    return tuple(found)


def _fp8(method: str, quant: Mapping[str, Any], where: str) -> WeightFormat:
    """HF/vLLM ``fp8``: 2-D block scales when ``weight_block_size`` is set (``[rows, cols]``,
    any other shape is malformed, as vLLM's ``Fp8Config`` says), else one scale per tensor
    (static ``activation_scheme`` adds an input scale); ``fbgemm_fp8`` scales per output
    channel (vLLM ``fbgemm_fp8.py``)."""
    if method == "fbgemm_fp8":
        return int8_or_fp8_per_channel(Precision.FP8)
    block = quant.get("weight_block_size")
    if block is not None:
        return fp8_block(*block_shape(block, f"{where}.weight_block_size"))
    return fp8_per_tensor(static_input_scale=quant.get("activation_scheme") == "static")


def _gptq_or_awq(method: str, quant: Mapping[str, Any]) -> WeightFormat:
    bits = config_int(quant.get("bits", quant.get("w_bit", 4)))
    if bits not in (4, 8):
        raise UnsupportedQuantization(method, f"{bits}-bit weights are not modelled (4 or 8)")
    group = config_int(quant.get("group_size", quant.get("q_group_size", DEFAULT_INT4_GROUP_SIZE)))
    act_order = method in _GPTQ_METHODS and bool(quant.get("desc_act"))
    return int_grouped(
        bits,
        DEFAULT_INT4_GROUP_SIZE if group is None else group,
        zero_points=method in _GPTQ_METHODS or bool(quant.get("zero_point", True)),
        act_order=act_order,
    )


def _bitsandbytes(quant: Mapping[str, Any]) -> WeightFormat:
    if quant.get("load_in_4bit") or quant.get("_load_in_4bit"):
        return bnb_nf4(double_quant=bool(quant.get("bnb_4bit_use_double_quant")))
    if quant.get("load_in_8bit") or quant.get("_load_in_8bit"):
        return int8_or_fp8_per_channel(Precision.INT8)
    raise UnsupportedQuantization("bitsandbytes", "neither load_in_4bit nor load_in_8bit is set")


def _modelopt(quant: Mapping[str, Any]) -> WeightFormat:
    """NVIDIA ModelOpt ``quant_algo`` (also nested under ``quantization``): FP8 with static
    per-tensor weight and input scales, NVFP4 (vLLM ``modelopt.py``), and TensorRT-LLM's
    W4A16_AWQ (int4, an fp16 scale per group, no zeros) and W8A8 SmoothQuant (int8,
    per-channel scales)."""
    nested = quant.get("quantization")
    scope = nested if isinstance(nested, Mapping) else quant
    algorithm = str(scope.get("quant_algo", quant.get("quant_algo", ""))).upper()
    if algorithm == "FP8":
        return fp8_per_tensor(static_input_scale=True)
    if algorithm == "NVFP4":
        return nvfp4()
    if algorithm == "W4A16_AWQ":
        group = config_int(scope.get("group_size", quant.get("group_size")))
        return int_grouped(4, group or DEFAULT_INT4_GROUP_SIZE, zero_points=False)
    if algorithm.startswith(("W8A8_SQ", "INT8_SQ")):
        return int8_or_fp8_per_channel(Precision.INT8)
    raise UnsupportedQuantization(
        f"modelopt {algorithm or '(no quant_algo)'}", "only FP8, NVFP4, W4A16_AWQ, W8A8_SQ"
    )


def _widest(scheme: QuantScheme) -> Precision:
    """The widest quantised format among the rules (mixed schemes size by the largest)."""
    return max((rule.format.precision for rule in scheme.rules), key=lambda p: p.bits)


def _int4_group(scheme: QuantScheme) -> int:
    for rule in scheme.rules:
        if rule.format.precision is Precision.INT4 and rule.format.scale_cols > 0:
            return rule.format.scale_cols
    return DEFAULT_INT4_GROUP_SIZE
