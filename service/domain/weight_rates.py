"""Bytes per stored parameter of each group of linear layers, from their exact formats.

For each role (attention, dense MLP, routed experts, shared experts) the rate is
``Σ matrix_bytes / Σ elements`` over that role's linear layers (:mod:`linear_modules`),
each priced in the format the checkpoint's :class:`QuantScheme` gives it: 16-bit when it
is ignored or not targeted, else its :class:`WeightFormat` with scales and zero points.
A precision other than the checkpoint's own is a what-if: every linear layer is priced
in :func:`what_if_format`. Expert biases (gpt-oss) are stored bf16 and priced so.
"""

from __future__ import annotations

import msgspec

from service.domain.architecture import Architecture, MlpKind
from service.domain.kernel_layout import ExpertPadding
from service.domain.linear_modules import Role, linear_modules
from service.domain.precision import Precision, parse_dtype
from service.domain.quant_scheme import QuantScheme
from service.domain.weight_format import (
    WeightFormat,
    int_grouped,
    sixteen_bit,
    what_if_format,
)


class RoleRates(msgspec.Struct, frozen=True, kw_only=True):
    """Average bytes per parameter of each role, and the routed experts' format."""

    attention: float
    mlp: float
    experts: float
    shared: float
    expert_format: WeightFormat


def role_rates(arch: Architecture, precision: Precision) -> RoleRates:
    """Per-role bytes per parameter of ``arch`` stored in ``precision``."""
    small = sixteen_bit(Precision.FP32 if precision is Precision.FP32 else Precision.BF16)
    if not precision.is_quantized:
        fmt = sixteen_bit(precision)
        width = fmt.value_bits / 8
        return RoleRates(attention=width, mlp=width, experts=width, shared=width, expert_format=fmt)
    scheme, fallback, attention_16 = _formats(arch, precision)
    totals: dict[Role, list[float]] = {role: [0.0, 0.0] for role in Role}
    expert_format = fallback
    for module in linear_modules(arch):
        is_expert = module.role is Role.EXPERTS
        if scheme is not None:
            fmt = scheme.format_of(module.name, is_expert=is_expert) or small
        else:
            fmt = small if attention_16 and module.role is Role.ATTENTION else fallback
        if is_expert:
            expert_format = fmt
        totals[module.role][0] += module.count * fmt.matrix_bytes(module.rows, module.cols)
        totals[module.role][1] += module.count * module.rows * module.cols
    bias_elements = _expert_bias_elements(arch)
    totals[Role.EXPERTS][0] += bias_elements * small.value_bits / 8
    totals[Role.EXPERTS][1] += bias_elements
    default = fallback.matrix_bytes(128, 128) / (128 * 128)

    def rate(role: Role) -> float:
        spent, elements = totals[role]
        return spent / elements if elements else default

    return RoleRates(
        attention=rate(Role.ATTENTION),
        mlp=rate(Role.MLP),
        experts=rate(Role.EXPERTS),
        shared=rate(Role.SHARED),
        expert_format=expert_format,
    )


def _formats(
    arch: Architecture, precision: Precision
) -> tuple[QuantScheme | None, WeightFormat, bool]:
    """The checkpoint's scheme when ``precision`` is its own, else a what-if format.

    Rows stored before schemes were recorded carry only ``group_size`` and
    ``attention_quantized``; those are honoured.
    """
    q = arch.quantization
    own = q is not None and parse_dtype(q.weight_dtype) is precision
    if q is not None and own and q.scheme is not None:
        return q.scheme, what_if_format(precision), False
    fallback = what_if_format(precision)
    if own and q is not None and precision is Precision.INT4 and q.group_size:
        fallback = int_grouped(4, q.group_size, zero_points=True)
    return None, fallback, bool(own and q is not None and not q.attention_quantized)


def _expert_bias_elements(arch: Architecture) -> int:
    moe = arch.moe
    if moe is None or not moe.expert_bias:
        return 0
    per_expert = 2 * moe.expert_intermediate_size + arch.hidden_size
    return len(moe.moe_layers) * moe.num_experts * per_expert


def expert_padding_factor(
    arch: Architecture, rates: RoleRates, padding: ExpertPadding | None, tensor_parallel: int
) -> float:
    """Padded over checkpoint bytes of one rank's routed experts (1 when nothing pads).

    Only MXFP4 experts are padded (the layout is vLLM's MXFP4 MoE method's); per expert a
    rank holds ``w13 [2·I_r, H]`` and ``w2 [H, I_r]`` with ``I_r = I / t``, plus bf16
    biases ``2·I_r + H`` where the family has them.
    """
    moe = arch.moe
    fmt = rates.expert_format
    if padding is None or moe is None or fmt.precision is not Precision.MXFP4:
        return 1.0
    if arch.mlp_kind is not MlpKind.GATED:
        return 1.0
    hidden = arch.hidden_size
    per_rank = -(-moe.expert_intermediate_size // tensor_parallel)
    padded_hidden, padded_rank = padding.padded(hidden, per_rank)

    def expert_bytes(h: int, i: int) -> int:
        biases = 2 * (2 * i + h) if moe.expert_bias else 0
        return fmt.matrix_bytes(2 * i, h) + fmt.matrix_bytes(h, i) + biases

    return expert_bytes(padded_hidden, padded_rank) / expert_bytes(hidden, per_rank)
