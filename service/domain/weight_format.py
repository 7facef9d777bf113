"""How one linear weight is stored, and its exact size in bytes.

A weight of ``rows`` outputs by ``cols`` inputs (``nn.Linear.weight`` shape ``[rows, cols]``)
costs::

    bytes = ceil(rows·cols·value_bits / 8)                 packed values
          + ceil(n_scales · scale_bytes)                     scales (2-level: absmax + nested)
          + ceil(n_scales · zero_bits / 8)                   packed zero points
          + cols · column_index_bytes                        act-order g_idx (GPTQ)
          + tensor_bytes                                     per-tensor scalars
    n_scales = ceil(rows / scale_rows) · ceil(cols / scale_cols)

``scale_rows``/``scale_cols`` of 0 mean "the whole dimension" (one scale per tensor along
it). The formats and their sources are the constructors below; every byte figure is what
vLLM allocates when it loads the checkpoint (its ``create_weights`` parameter shapes).
"""

from __future__ import annotations

import math
from typing import Annotated

import msgspec

from service.domain.precision import (
    DEFAULT_INT4_GROUP_SIZE,
    MX_BLOCK_SIZE,
    NVFP4_BLOCK_SIZE,
    Precision,
)

FP32_BYTES = 4
BNB_BLOCK = 64
"""bitsandbytes ``quantize_4bit`` default ``blocksize=64`` (one absmax per 64 weights)."""
BNB_NESTED_BLOCK = 256
"""Double quantisation quantises the absmax values in blocks of 256 (``quantize_blockwise``
of ``absmax`` with ``blocksize=256`` in bitsandbytes ``functional.py``)."""
BNB_NESTED_CONSTANT_BYTES = 256 * FP32_BYTES + 16 * FP32_BYTES + FP32_BYTES
"""Per tensor under double quantisation: the nested 256-entry fp32 code, the 16-entry NF4
code and the fp32 ``offset`` (bitsandbytes ``QuantState``)."""


class WeightFormat(msgspec.Struct, frozen=True, kw_only=True):
    """The stored layout of one linear weight; see the module docstring for the formula."""

    precision: Annotated[Precision, msgspec.Meta(description="Precision of the stored values")]
    value_bits: Annotated[int, msgspec.Meta(description="Bits per stored value")]
    scale_rows: Annotated[int, msgspec.Meta(description="Weight rows per scale (0: no scale)")] = 0
    scale_cols: Annotated[
        int, msgspec.Meta(description="Weight columns per scale (0: no scale)")
    ] = 0
    scale_bytes: Annotated[float, msgspec.Meta(description="Bytes per scale")] = 0.0
    zero_bits: Annotated[int, msgspec.Meta(description="Bits per zero point (0: symmetric)")] = 0
    column_index_bytes: Annotated[
        int, msgspec.Meta(description="Bytes per column index (sparse formats; 0: none)")
    ] = 0
    tensor_bytes: Annotated[
        int, msgspec.Meta(description="Extra bytes per tensor (per-tensor scales)")
    ] = 0
    label: Annotated[str, msgspec.Meta(description="Human name of the format")] = ""

    def matrix_bytes(self, rows: int, cols: int) -> int:
        """Exact bytes of one ``[rows, cols]`` weight in this format."""
        values = math.ceil(rows * cols * self.value_bits / 8)
        if self.scale_bytes == 0 and self.zero_bits == 0:
            return values + cols * self.column_index_bytes + self.tensor_bytes
        n_scales = _blocks(rows, self.scale_rows) * _blocks(cols, self.scale_cols)
        return (
            values
            + math.ceil(n_scales * self.scale_bytes)
            + math.ceil(n_scales * self.zero_bits / 8)
            + cols * self.column_index_bytes
            + self.tensor_bytes
        )


def _blocks(length: int, block: int) -> int:
    return 1 if block == 0 else math.ceil(length / block)


def sixteen_bit(precision: Precision = Precision.BF16) -> WeightFormat:
    """Unquantised bf16/fp16 (2 bytes) or fp32 (4 bytes)."""
    return WeightFormat(precision=precision, value_bits=precision.bits, label=precision.value)


def fp8_per_tensor(*, static_input_scale: bool = False) -> WeightFormat:
    """FP8 e4m3 with one fp32 ``weight_scale`` per tensor, plus an fp32 ``input_scale`` when
    activations are statically quantised (vLLM ``fp8.py`` ``Fp8LinearMethod``;
    compressed-tensors ``strategy: tensor``)."""
    scalars = FP32_BYTES * (2 if static_input_scale else 1)
    return WeightFormat(
        precision=Precision.FP8, value_bits=8, tensor_bytes=scalars, label="fp8-tensor"
    )


def int8_per_tensor(*, static_input_scale: bool = False) -> WeightFormat:
    """INT8 with one fp32 scale per tensor (compressed-tensors W8A8 ``strategy: tensor``)."""
    scalars = FP32_BYTES * (2 if static_input_scale else 1)
    return WeightFormat(
        precision=Precision.INT8, value_bits=8, tensor_bytes=scalars, label="int8-tensor"
    )


def int8_or_fp8_per_channel(
    precision: Precision, *, static_input_scale: bool = False
) -> WeightFormat:
    """8-bit values with one fp32 scale per output row (vLLM compressed-tensors
    ``W8A8Fp8``/``W8A8Int8`` ``ChannelQuantScaleParameter`` float32 ``[rows, 1]``;
    bitsandbytes LLM.int8 ``SCB`` is the same shape)."""
    return WeightFormat(
        precision=precision,
        value_bits=8,
        scale_rows=1,
        scale_bytes=FP32_BYTES,
        tensor_bytes=FP32_BYTES if static_input_scale else 0,
        label=f"{precision.value}-channel",
    )


def fp8_block(block_rows: int, block_cols: int) -> WeightFormat:
    """FP8 e4m3 with one fp32 ``weight_scale_inv`` per ``block_rows × block_cols`` tile,
    ``[ceil(rows/128), ceil(cols/128)]`` for DeepSeek-V3's 128×128 (vLLM ``fp8.py``
    ``create_weights`` with ``weight_block_size``)."""
    return WeightFormat(
        precision=Precision.FP8,
        value_bits=8,
        scale_rows=block_rows,
        scale_cols=block_cols,
        scale_bytes=FP32_BYTES,
        label=f"fp8-block{block_rows}x{block_cols}",
    )


def int_grouped(
    bits: int,
    group_size: int,
    *,
    zero_points: bool,
    act_order: bool = False,
    scale_bytes: int = 2,
) -> WeightFormat:
    """GPTQ / AWQ / compressed-tensors ``pack-quantized`` integer weights.

    Values packed ``32/bits`` per int32; a 16-bit scale per group of ``group_size`` inputs
    per output row; a ``bits``-bit zero point per group when the scheme stores zeros (GPTQ
    and AWQ always store ``qzeros``; compressed-tensors only when ``symmetric: false``).
    Act-order GPTQ keeps ``g_idx`` and vLLM's Marlin adds ``g_idx_sort_indices``: two int32
    per input column (vLLM ``gptq_marlin.py``). ``group_size`` -1 means one group per row.
    """
    group = 0 if group_size <= 0 else group_size
    return WeightFormat(
        precision=Precision.INT4 if bits == 4 else Precision.INT8,
        value_bits=bits,
        scale_rows=1,
        scale_cols=group,
        scale_bytes=scale_bytes,
        zero_bits=bits if zero_points else 0,
        column_index_bytes=2 * FP32_BYTES if act_order else 0,
        label=f"int{bits}-g{group_size}",
    )


def default_int4() -> WeightFormat:
    """What-if int4: GPTQ 4-bit, group 128, zeros stored (AutoGPTQ defaults)."""
    return int_grouped(4, DEFAULT_INT4_GROUP_SIZE, zero_points=True)


def bnb_nf4(*, double_quant: bool) -> WeightFormat:
    """bitsandbytes NF4: packed 4-bit values, an absmax per 64 weights.

    Plain: fp32 absmax (4 bytes per 64). Double quantisation: uint8 absmax per 64, plus an
    fp32 absmax per 256 of those and per-tensor codes (bitsandbytes ``functional.py``
    ``quantize_4bit(compress_statistics=True)``). Blocks run over the flattened tensor;
    for ``cols`` a multiple of 64 that is ``rows · cols/64`` blocks, as here.
    """
    if double_quant:
        return WeightFormat(
            precision=Precision.INT4,
            value_bits=4,
            scale_rows=1,
            scale_cols=BNB_BLOCK,
            scale_bytes=1 + FP32_BYTES / BNB_NESTED_BLOCK,
            tensor_bytes=BNB_NESTED_CONSTANT_BYTES,
            label="nf4-double-quant",
        )
    return WeightFormat(
        precision=Precision.INT4,
        value_bits=4,
        scale_rows=1,
        scale_cols=BNB_BLOCK,
        scale_bytes=FP32_BYTES,
        tensor_bytes=16 * FP32_BYTES,
        label="nf4",
    )


def mxfp4() -> WeightFormat:
    """OCP MXFP4: e2m1 values, one uint8 E8M0 scale per 32 inputs (vLLM ``mxfp4.py``
    ``w13_weight_scale`` ``[E, rows, cols // 32]`` uint8)."""
    return WeightFormat(
        precision=Precision.MXFP4,
        value_bits=4,
        scale_rows=1,
        scale_cols=MX_BLOCK_SIZE,
        scale_bytes=1,
        label="mxfp4",
    )


def nvfp4() -> WeightFormat:
    """NVFP4: e2m1 values, one fp8 e4m3 scale per 16 inputs, an fp32 global weight scale
    and an fp32 input scale per tensor (vLLM ``modelopt.py`` ``ModelOptNvFp4LinearMethod``:
    ``weight_scale`` ``[rows, cols // 16]`` float8_e4m3fn, ``weight_scale_2`` and
    ``input_scale`` fp32; compressed-tensors ``weight_global_scale``/``input_global_scale``)."""
    return WeightFormat(
        precision=Precision.NVFP4,
        value_bits=4,
        scale_rows=1,
        scale_cols=NVFP4_BLOCK_SIZE,
        scale_bytes=1,
        tensor_bytes=2 * FP32_BYTES,
        label="nvfp4",
    )


def what_if_format(precision: Precision) -> WeightFormat:
    """The layout assumed when a request asks for ``precision`` rather than the checkpoint's
    own: vLLM's online fp8 (per-tensor), per-channel int8, GPTQ-g128 int4, MXFP4, NVFP4."""
    if precision is Precision.FP8:
        return fp8_per_tensor()
    if precision is Precision.INT8:
        return int8_or_fp8_per_channel(Precision.INT8)
    if precision is Precision.INT4:
        return default_int4()
    if precision is Precision.MXFP4:
        return mxfp4()
    if precision is Precision.NVFP4:
        return nvfp4()
    return sixteen_bit(precision)
