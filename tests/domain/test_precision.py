"""Numeric formats: spellings, bytes per stored element, the compute path they run on."""

from __future__ import annotations

import msgspec
import pytest

from service.domain.kv_cache import kv_bytes_per_element, resolve_kv_precision
from service.domain.precision import (
    KV_CACHE_PRECISIONS,
    WEIGHT_PRECISIONS,
    Precision,
    bytes_per_element,
    compute_precision,
    parse_dtype,
)
from service.domain.weights import resolve_weight_precision
from tests.domain.reference import arch


@pytest.mark.parametrize(
    ("spelling", "precision"),
    [
        ("bfloat16", Precision.BF16),
        ("float16", Precision.FP16),
        ("half", Precision.FP16),
        ("float32", Precision.FP32),
        ("float8_e4m3fn", Precision.FP8),
        ("fp8_e5m2", Precision.FP8),
        ("nvfp4", Precision.NVFP4),
        ("  BF16 ", Precision.BF16),
    ],
    ids=["bfloat16", "float16", "half", "float32", "float8_e4m3fn", "fp8_e5m2", "nvfp4", "padded"],
)
def test_dtype_spellings_parse(spelling: str, precision: Precision) -> None:
    """torch/config/engine spellings map to one Precision, case and spaces ignored."""
    assert parse_dtype(spelling) is precision


@pytest.mark.parametrize("spelling", ["int3", "", "bfloat17"], ids=["int3", "empty", "typo"])
def test_unknown_dtype_is_refused_by_name(spelling: str) -> None:
    """An unknown spelling raises ValueError quoting it."""
    with pytest.raises(ValueError, match=f"unknown precision '{spelling}'"):
        parse_dtype(spelling)


@pytest.mark.parametrize(
    ("precision", "group", "bits"),
    [
        (Precision.FP32, 128, 32.0),
        (Precision.BF16, 128, 16.0),
        (Precision.FP16, 128, 16.0),
        (Precision.FP8, 128, 8.0),
        (Precision.INT8, 128, 8.0),
        (Precision.INT4, 128, 4.15625),  # 4 + 16/128 (fp16 scale) + 4/128 (packed zero)
        (Precision.INT4, 64, 4.3125),  # 4 + 20/64
        (Precision.INT4, 32, 4.625),  # 4 + 20/32
        (Precision.MXFP4, 128, 4.25),  # 4 + 8/32 (one E8M0 scale per 32, OCP MX v1.0)
        (Precision.NVFP4, 128, 4.5),  # 4 + 8/16 (one E4M3 scale per 16, NVFP4)
    ],
    ids=[
        "fp32",
        "bf16",
        "fp16",
        "fp8",
        "int8",
        "int4-g128",
        "int4-g64",
        "int4-g32",
        "mxfp4",
        "nvfp4",
    ],
)
def test_bits_per_stored_weight(precision: Precision, group: int, bits: float) -> None:
    """Bits per weight, scales and zero-points included (sheet §2.2)."""
    assert bytes_per_element(precision, group) * 8 == pytest.approx(bits, rel=1e-12)


@pytest.mark.parametrize(
    ("precision", "quantized"),
    [
        (Precision.FP32, False),
        (Precision.BF16, False),
        (Precision.FP16, False),
        (Precision.FP8, True),
        (Precision.INT8, True),
        (Precision.INT4, True),
        (Precision.MXFP4, True),
        (Precision.NVFP4, True),
    ],
    ids=["fp32", "bf16", "fp16", "fp8", "int8", "int4", "mxfp4", "nvfp4"],
)
def test_formats_below_16_bit_are_quantized(precision: Precision, quantized: bool) -> None:
    """Only formats narrower than 16 bits count as quantised."""
    assert precision.is_quantized is quantized


@pytest.mark.parametrize(
    ("weights", "compute"),
    [
        (Precision.FP8, Precision.FP8),
        (Precision.INT8, Precision.INT8),
        (Precision.NVFP4, Precision.NVFP4),
        (Precision.INT4, Precision.BF16),
        (Precision.MXFP4, Precision.BF16),
        (Precision.FP32, Precision.FP32),
        (Precision.FP16, Precision.FP16),
        (Precision.BF16, Precision.BF16),
    ],
    ids=[
        "w8a8-fp8",
        "w8a8-int8",
        "w4a4-fp4",
        "w4a16-int4",
        "mxfp4-dequant",
        "fp32",
        "fp16",
        "bf16",
    ],
)
def test_compute_precision_of_stored_weights(weights: Precision, compute: Precision) -> None:
    """Group-quantised int4 and mxfp4 are multiplied in 16 bit; fp8/int8/fp4 run natively."""
    assert compute_precision(weights) is compute


def test_weight_choices_offer_auto_and_nvfp4_as_a_what_if() -> None:
    """Weights may be asked as auto or any format, nvfp4 included (spelled once)."""
    assert WEIGHT_PRECISIONS[0] == "auto"
    assert "nvfp4" in WEIGHT_PRECISIONS
    assert "fp4" not in WEIGHT_PRECISIONS


def test_kv_choices_are_sixteen_bit_and_fp8() -> None:
    """The KV dtype menu starts with auto and offers 16-bit and fp8 only."""
    assert KV_CACHE_PRECISIONS == ("auto", "bf16", "fp16", "fp8")


def test_fp4_is_an_alias_of_nvfp4() -> None:
    """``fp4`` and ``nvfp4`` name one format, written ``nvfp4``."""
    assert Precision.FP4 is Precision.NVFP4
    assert parse_dtype("fp4").value == "nvfp4"


@pytest.mark.parametrize(
    ("precision", "size"),
    [(Precision.FP32, 4), (Precision.BF16, 2), (Precision.FP16, 2), (Precision.FP8, 1)],
    ids=["fp32", "bf16", "fp16", "fp8"],
)
def test_kv_bytes_per_element(precision: Precision, size: int) -> None:
    """KV elements cost their dtype's width."""
    assert kv_bytes_per_element(precision) == size


def test_int4_is_not_a_kv_cache_precision() -> None:
    """Group-quantised int4 is a weight format, not a KV cache dtype."""
    with pytest.raises(ValueError, match="not a KV cache precision"):
        kv_bytes_per_element(Precision.INT4)


@pytest.mark.parametrize(
    ("model", "requested", "expected"),
    [
        ("llama2-7b", "auto", Precision.FP16),
        ("llama3-8b", "auto", Precision.BF16),
        ("llama3-8b", "fp8", Precision.FP8),
    ],
    ids=["fp16-checkpoint-caches-fp16", "bf16-checkpoint-caches-bf16", "explicit-fp8"],
)
def test_kv_precision_auto_follows_the_checkpoint(
    model: str, requested: str, expected: Precision
) -> None:
    """KV ``auto`` caches in the activation dtype; an explicit request wins."""
    assert resolve_kv_precision(arch(model), requested) is expected


def test_fp32_checkpoint_caches_kv_in_bf16() -> None:
    """fp32 checkpoints are served in bf16, so their KV cache is bf16."""
    fp32_model = msgspec.structs.replace(arch("llama3-8b"), checkpoint_dtype="fp32")
    assert resolve_kv_precision(fp32_model, "auto") is Precision.BF16


@pytest.mark.parametrize(
    ("model", "requested", "expected"),
    [
        ("llama2-7b", "auto", Precision.FP16),
        ("llama3-8b", "auto", Precision.BF16),
        ("llama3-8b", "int4", Precision.INT4),
    ],
    ids=["fp16-checkpoint", "bf16-checkpoint", "explicit-int4"],
)
def test_weight_precision_auto_is_the_checkpoint_format(
    model: str, requested: str, expected: Precision
) -> None:
    """Weights ``auto`` is the checkpoint's dtype; an explicit request wins."""
    assert resolve_weight_precision(arch(model), requested) is expected
