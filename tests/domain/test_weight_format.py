"""Exact bytes of one stored linear weight, format by format, by hand arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.precision import Precision
from service.domain.weight_format import (
    WeightFormat,
    bnb_nf4,
    fp8_block,
    fp8_per_tensor,
    int8_or_fp8_per_channel,
    int8_per_tensor,
    int_grouped,
    mxfp4,
    nvfp4,
    sixteen_bit,
    what_if_format,
)


@pytest.mark.parametrize(
    ("fmt", "rows", "cols", "expected"),
    [
        # 4096·4096·2
        (sixteen_bit(), 4096, 4096, 33_554_432),
        # values 16,777,216 + one fp32 weight_scale
        (fp8_per_tensor(), 4096, 4096, 16_777_220),
        # + an fp32 input_scale for static activations
        (fp8_per_tensor(static_input_scale=True), 4096, 4096, 16_777_224),
        # DeepSeek-V3 gate_proj [18432, 7168]: 132,120,576 + 144·56 tiles · 4 B = 132,152,832
        (fp8_block(128, 128), 18432, 7168, 132_152_832),
        # kv_a_proj_with_mqa [576, 7168]: 4,128,768 + ceil(576/128)=5 · 56 tiles · 4 B
        (fp8_block(128, 128), 576, 7168, 4_129_888),
        # 16,777,216 + 4096 rows · fp32
        (int8_or_fp8_per_channel(Precision.INT8), 4096, 4096, 16_793_600),
        (int8_per_tensor(), 4096, 4096, 16_777_220),
        # GPTQ g128: 8,388,608 packed + 131,072 groups · (2 B scale + 0.5 B zero)
        (int_grouped(4, 128, zero_points=True), 4096, 4096, 8_716_288),
        # act-order adds g_idx and Marlin's sort indices: 4096 · 8 B
        (int_grouped(4, 128, zero_points=True, act_order=True), 4096, 4096, 8_749_056),
        # compressed-tensors symmetric w4a16: no zero points
        (int_grouped(4, 128, zero_points=False), 4096, 4096, 8_650_752),
        # one group per row (channel strategy): 8,388,608 + 4096 · 2 B
        (int_grouped(4, -1, zero_points=False), 4096, 4096, 8_396_800),
        # NF4: 8,388,608 + 262,144 blocks · fp32 absmax + 16-entry fp32 code
        (bnb_nf4(double_quant=False), 4096, 4096, 9_437_248),
        # double quant: 262,144 · (1 + 4/256) + 1,092 B of per-tensor codes and offset
        (bnb_nf4(double_quant=True), 4096, 4096, 8_655_940),
        # gpt-oss expert down_proj [2880, 2880]: 4,147,200 + 2880 · 90 E8M0 scales
        (mxfp4(), 2880, 2880, 4_406_400),
        # 8,388,608 + 4096 · 256 e4m3 scales + fp32 global and input scales
        (nvfp4(), 4096, 4096, 9_437_192),
    ],
    ids=[
        "bf16",
        "fp8-tensor",
        "fp8-tensor-static",
        "fp8-block-divisible",
        "fp8-block-ragged",
        "int8-channel",
        "int8-tensor",
        "gptq-g128",
        "gptq-act-order",
        "ct-w4a16-symmetric",
        "int4-channel",
        "nf4",
        "nf4-double-quant",
        "mxfp4",
        "nvfp4",
    ],
)
def test_matrix_bytes(fmt: WeightFormat, rows: int, cols: int, expected: int) -> None:
    """Each format's bytes follow its library's packing, scales and zero points."""
    assert fmt.matrix_bytes(rows, cols) == expected


FORMATS = [
    fp8_per_tensor(static_input_scale=True),
    fp8_block(128, 128),
    int8_or_fp8_per_channel(Precision.FP8),
    int_grouped(4, 32, zero_points=True, act_order=True),
    int_grouped(8, 128, zero_points=True),
    bnb_nf4(double_quant=True),
    bnb_nf4(double_quant=False),
    mxfp4(),
    nvfp4(),
]


@given(
    fmt=st.sampled_from(FORMATS),
    rows=st.integers(min_value=32, max_value=16384),
    cols=st.integers(min_value=32, max_value=16384),
)
def test_quantised_never_exceeds_sixteen_bit(fmt: WeightFormat, rows: int, cols: int) -> None:
    """A quantised weight, scales included, is never larger than the bf16 one."""
    assert fmt.matrix_bytes(rows, cols) <= sixteen_bit().matrix_bytes(rows, cols)


@given(
    fmt=st.sampled_from(FORMATS),
    rows=st.integers(min_value=1, max_value=8192),
    cols=st.integers(min_value=1, max_value=8192),
)
def test_bytes_cover_the_packed_values(fmt: WeightFormat, rows: int, cols: int) -> None:
    """Scales only add: bytes are at least the packed values ``rows·cols·bits/8``."""
    assert fmt.matrix_bytes(rows, cols) >= rows * cols * fmt.value_bits / 8


@pytest.mark.parametrize(
    ("precision", "label"),
    [
        (Precision.FP8, "fp8-tensor"),
        (Precision.INT8, "int8-channel"),
        (Precision.INT4, "int4-g128"),
        (Precision.MXFP4, "mxfp4"),
        (Precision.NVFP4, "nvfp4"),
        (Precision.BF16, "bf16"),
    ],
    ids=["fp8", "int8", "int4", "mxfp4", "nvfp4", "bf16"],
)
def test_what_if_formats(precision: Precision, label: str) -> None:
    """A what-if precision uses vLLM's online/default layout for it."""
    assert what_if_format(precision).label == label
