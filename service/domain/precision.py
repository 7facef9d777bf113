"""Numeric formats and their average storage cost in bytes per element.

Exact per-tensor byte formulas (scales, zero points, block grids) live in
:mod:`service.domain.weight_format`; this module names the formats and gives the
whole-model average a format costs, which the latency roofline uses.
"""

from __future__ import annotations

import enum

DEFAULT_INT4_GROUP_SIZE = 128
"""GPTQ/AWQ default quantisation group (AutoGPTQ/AutoAWQ ``group_size=128``)."""

MX_BLOCK_SIZE = 32
"""OCP Microscaling (MX) v1.0: 32 elements share one 8-bit E8M0 scale."""

NVFP4_BLOCK_SIZE = 16
"""NVIDIA NVFP4: 16 e2m1 elements share one FP8 (E4M3) scale, plus one fp32 global scale
per tensor (NVIDIA Blackwell NVFP4 format; vLLM ``modelopt.py`` ``weight_scale`` /
``weight_scale_2``)."""


class Precision(enum.StrEnum):
    """A storage/compute format for weights or the KV cache.

    ``NVFP4`` is NVIDIA's 4-bit float (e2m1 values, an e4m3 scale per 16 elements, an fp32
    global scale per tensor); ``FP4`` is kept as an alias of it for older callers.
    """

    FP32 = "fp32"
    BF16 = "bf16"
    FP16 = "fp16"
    FP8 = "fp8"
    INT8 = "int8"
    INT4 = "int4"
    MXFP4 = "mxfp4"
    NVFP4 = "nvfp4"
    FP4 = "nvfp4"  # alias of NVFP4

    @property
    def is_quantized(self) -> bool:
        """Formats below 16 bits, where embeddings and lm_head normally stay 16-bit."""
        return self in _QUANTIZED

    @property
    def bits(self) -> int:
        """Bits of one stored value, before any scales."""
        return _BITS[self]


_QUANTIZED = frozenset(
    {Precision.FP8, Precision.INT8, Precision.INT4, Precision.MXFP4, Precision.NVFP4}
)
_BITS = {
    Precision.FP32: 32,
    Precision.BF16: 16,
    Precision.FP16: 16,
    Precision.FP8: 8,
    Precision.INT8: 8,
    Precision.INT4: 4,
    Precision.MXFP4: 4,
    Precision.NVFP4: 4,
}

WEIGHT_PRECISIONS: tuple[str, ...] = ("auto", *(p.value for p in Precision))
"""Weight precisions a request may name; ``nvfp4`` is a what-if on GPUs with FP4 cores."""

KV_CACHE_PRECISIONS: tuple[str, ...] = ("auto", "bf16", "fp16", "fp8")


def bytes_per_element(precision: Precision, group_size: int = DEFAULT_INT4_GROUP_SIZE) -> float:
    """Average bytes one stored weight costs, scales and zero-points included.

    * int4 (GPTQ/AWQ): 4 bits + a 16-bit scale and a packed 4-bit zero per group of ``g``:
      ``(4 + 20/g)/8`` bytes, 0.5195 at g = 128 (AutoGPTQ ``QuantLinear`` buffer shapes).
    * mxfp4: 4 bits + one 8-bit scale per 32 elements = 4.25 bits (OCP MX v1.0).
    * nvfp4: 4 bits + one 8-bit scale per 16 elements = 4.5 bits (the per-tensor fp32
      global scale is negligible here; the exact formula counts it).
    * fp8/int8: 1 byte (per-tensor/per-channel scales are negligible).
    """
    if precision is Precision.FP32:
        return 4.0
    if precision in (Precision.BF16, Precision.FP16):
        return 2.0
    if precision in (Precision.FP8, Precision.INT8):
        return 1.0
    if precision is Precision.INT4:
        return (4 + 20 / group_size) / 8
    if precision is Precision.MXFP4:
        return (4 + 8 / MX_BLOCK_SIZE) / 8
    return (4 + 8 / NVFP4_BLOCK_SIZE) / 8


def compute_precision(weights: Precision) -> Precision:
    """The precision the matrix units run in for weights stored as ``weights``.

    fp8/int8/nvfp4 weights can run on the fast low-precision path (W8A8, W4A4); int4
    group-quantised weights (W4A16) and mxfp4 are dequantised and multiplied in 16 bit.
    Whether a given GPU has that path is :meth:`GpuSpec.execution`'s question.
    """
    if weights in (Precision.FP8, Precision.INT8, Precision.NVFP4):
        return weights
    if weights is Precision.FP32:
        return Precision.FP32
    if weights is Precision.FP16:
        return Precision.FP16
    return Precision.BF16


def parse_dtype(name: str) -> Precision:
    """Map config/engine spellings (``bfloat16``, ``float16``...) to a Precision."""
    key = name.strip().lower()
    try:
        return _ALIASES[key]
    except KeyError:
        raise ValueError(f"unknown precision '{name}'") from None


_ALIASES: dict[str, Precision] = {
    "fp32": Precision.FP32,
    "float32": Precision.FP32,
    "float": Precision.FP32,
    "bf16": Precision.BF16,
    "bfloat16": Precision.BF16,
    "fp16": Precision.FP16,
    "float16": Precision.FP16,
    "half": Precision.FP16,
    "fp8": Precision.FP8,
    "fp8_e4m3": Precision.FP8,
    "fp8_e5m2": Precision.FP8,
    "float8_e4m3fn": Precision.FP8,
    "int8": Precision.INT8,
    "int4": Precision.INT4,
    "mxfp4": Precision.MXFP4,
    "fp4": Precision.NVFP4,
    "nvfp4": Precision.NVFP4,
}
