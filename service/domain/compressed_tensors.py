"""compressed-tensors (llm-compressor) checkpoints: one format per ``config_groups`` entry.

Each group's ``weights`` ``QuantizationArgs`` (``num_bits``, ``type``, ``strategy``,
``group_size``, ``block_structure``, ``symmetric``, ``actorder``) and the group's ``format``
(``pack-quantized``, ``float-quantized``, ``nvfp4-pack-quantized``...) decide the stored
layout, as vLLM's ``compressed_tensors`` schemes allocate it (``W8A8Fp8``, ``W8A8Int8``,
``WNA16``, ``W4A4Fp4``/``NVFP4``). Groups apply to their ``targets`` in order; ``ignore``
keeps modules 16-bit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.precision import Precision
from service.domain.quant_errors import UnsupportedQuantization, block_shape, config_int
from service.domain.quant_scheme import EVERY_LINEAR, ModuleRule, QuantScheme
from service.domain.weight_format import (
    WeightFormat,
    fp8_block,
    fp8_per_tensor,
    int8_or_fp8_per_channel,
    int8_per_tensor,
    int_grouped,
    mxfp4,
    nvfp4,
)


def compressed_tensors_scheme(
    quant: Mapping[str, Any], ignore: tuple[str, ...], where: str
) -> QuantScheme:
    """One rule per ``config_groups`` entry, in order (compressed-tensors
    ``QuantizationConfig``); a 2:4 ``sparsity_config`` is not modelled. ``where`` is the
    block's key, to name a malformed field."""
    sparsity = quant.get("sparsity_config")
    if isinstance(sparsity, Mapping) and sparsity.get("format") not in (None, "dense"):
        raise UnsupportedQuantization(
            "compressed-tensors", f"sparsity format {sparsity.get('format')!r} is not modelled"
        )
    groups = quant.get("config_groups")
    if not isinstance(groups, Mapping) or not groups:
        raise UnsupportedQuantization("compressed-tensors", "no config_groups")
    rules: list[ModuleRule] = []
    for name, group in groups.items():
        if not isinstance(group, Mapping) or not isinstance(group.get("weights"), Mapping):
            continue
        targets = tuple(str(t) for t in group.get("targets") or (EVERY_LINEAR,))
        layout = str(group.get("format") or quant.get("format") or "").lower()
        fmt = _weights_format(
            f"{where}.config_groups.{name}.weights",
            str(name),
            group["weights"],
            group.get("input_activations"),
            layout,
        )
        rules.append(ModuleRule(targets=targets, format=fmt))
    if not rules:
        raise UnsupportedQuantization("compressed-tensors", "no group quantises weights")
    return QuantScheme(method="compressed-tensors", rules=tuple(rules), ignore=ignore)


def _weights_format(
    where: str, group: str, weights: Mapping[str, Any], inputs: Any, layout: str
) -> WeightFormat:
    """compressed-tensors ``QuantizationArgs`` of the weights (at ``where``) -> a stored
    format."""
    bits = config_int(weights.get("num_bits"))
    is_float = weights.get("type") == "float"
    strategy = str(weights.get("strategy") or "tensor").lower()
    group_size = config_int(weights.get("group_size"))
    static_input = isinstance(inputs, Mapping) and inputs.get("dynamic") is False
    if bits == 4 and is_float:
        if "mxfp4" in layout or group_size == 32:
            return mxfp4()
        return nvfp4()
    if bits == 8 and is_float:
        if strategy == "block":
            block = weights.get("block_structure") or [128, 128]
            return fp8_block(*block_shape(block, f"{where}.block_structure"))
        if strategy == "channel":
            return int8_or_fp8_per_channel(Precision.FP8, static_input_scale=static_input)
        if strategy == "tensor":
            return fp8_per_tensor(static_input_scale=static_input)
    if bits in (4, 8) and not is_float:
        if strategy in ("group", "channel") and (bits == 4 or "pack" in layout):
            return int_grouped(
                bits,
                group_size if strategy == "group" and group_size else -1,
                zero_points=weights.get("symmetric") is False,
                act_order=str(weights.get("actorder") or "").lower() in ("group", "weight"),
            )
        if bits == 8 and strategy == "channel":
            return int8_or_fp8_per_channel(Precision.INT8, static_input_scale=static_input)
        if bits == 8 and strategy == "tensor":
            return int8_per_tensor(static_input_scale=static_input)
    raise UnsupportedQuantization(
        "compressed-tensors",
        f"config group {group!r}: {bits}-bit {'float' if is_float else 'int'} weights with "
        f"strategy {strategy!r} are not modelled",
    )
