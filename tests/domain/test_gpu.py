"""Accelerator peaks: the dense rate for each compute precision, and what a chip supports."""

from __future__ import annotations

import msgspec
import pytest

from service.domain.gpu import (
    TYPICAL_MATMUL_EFFICIENCY,
    ExecutionMode,
    GpuSpec,
    achievable_rate_problem,
)
from service.domain.precision import Precision
from tests.domain.reference import A100_80, H100, L4, T4_LIKE

BLACKWELL_LIKE = msgspec.structs.replace(
    H100, id="b200", dense_tflops_fp4=9000.0, dense_tflops_mxfp4=9000.0, compute_capability="10.0"
)
VOLTA_LIKE = msgspec.structs.replace(T4_LIKE, id="v100", compute_capability="7.0")


@pytest.mark.parametrize(
    ("gpu", "precision", "tflops"),
    [
        (H100, Precision.BF16, 989.0),
        (H100, Precision.FP16, 989.0),
        (H100, Precision.FP8, 1979.0),
        (H100, Precision.INT8, 1979.0),
        (A100_80, Precision.INT8, 624.0),
        (A100_80, Precision.FP8, 312.0),  # no fp8 path: the 16-bit rate
        (L4, Precision.INT8, 121.0),  # no int8 figure: the 16-bit rate
        (BLACKWELL_LIKE, Precision.NVFP4, 9000.0),
        (BLACKWELL_LIKE, Precision.MXFP4, 9000.0),
        (H100, Precision.NVFP4, 989.0),  # no fp4 cores: dequantised, 16-bit maths
        (A100_80, Precision.MXFP4, 312.0),  # no fp4 cores: the 16-bit rate
        (T4_LIKE, Precision.BF16, 65.0),  # no bf16: the fp16 rate
        (H100, Precision.INT4, 989.0),  # no int4 matrix path: 16 bit
        (H100, Precision.FP32, 989.0 / 16),  # A100: 19.5 TF fp32 vs 312 TF bf16 = 1/16
    ],
    ids=[
        "h100-bf16",
        "h100-fp16",
        "h100-fp8",
        "h100-int8",
        "a100-int8",
        "a100-fp8-falls-back-to-16-bit",
        "l4-int8-falls-back-to-16-bit",
        "nvfp4-native",
        "mxfp4-native",
        "h100-nvfp4-weight-only-at-16-bit",
        "a100-mxfp4-falls-back-to-16-bit",
        "t4-bf16-falls-back-to-fp16",
        "int4-at-16-bit",
        "fp32-a-sixteenth-of-16-bit",
    ],
)
def test_dense_peak_for_a_precision(gpu: GpuSpec, precision: Precision, tflops: float) -> None:
    """The dense peak for a precision, or the fastest rate the chip can fall back to."""
    assert gpu.peak_flops(precision) == pytest.approx(tflops * 1e12)


def test_fp16_rate_falls_back_to_bf16() -> None:
    """A chip listing only bf16 runs fp16 at the bf16 rate."""
    bf16_only = msgspec.structs.replace(H100, dense_tflops_fp16=0.0)
    assert bf16_only.peak_flops(Precision.FP16) == pytest.approx(989e12)


@pytest.mark.parametrize(
    ("gpu", "precision", "supported"),
    [
        (T4_LIKE, Precision.BF16, False),
        (T4_LIKE, Precision.FP16, True),
        (A100_80, Precision.FP8, False),
        (H100, Precision.FP8, True),
        (A100_80, Precision.BF16, True),
        (T4_LIKE, Precision.INT4, True),
    ],
    ids=[
        "t4-no-bf16",
        "t4-fp16",
        "a100-no-fp8",
        "h100-fp8",
        "a100-bf16",
        "int4-dequantised-anywhere",
    ],
)
def test_precision_support(gpu: GpuSpec, precision: Precision, supported: bool) -> None:
    """bf16 needs a bf16 rate, fp8 an fp8 rate; dequantised formats run anywhere."""
    assert gpu.supports(precision) is supported


@pytest.mark.parametrize(
    ("gpu", "weights", "mode", "compute"),
    [
        (H100, Precision.FP8, ExecutionMode.NATIVE, Precision.FP8),
        (A100_80, Precision.FP8, ExecutionMode.WEIGHT_ONLY, Precision.BF16),
        (H100, Precision.INT4, ExecutionMode.WEIGHT_ONLY, Precision.BF16),
        (H100, Precision.NVFP4, ExecutionMode.WEIGHT_ONLY, Precision.BF16),
        (BLACKWELL_LIKE, Precision.NVFP4, ExecutionMode.NATIVE, Precision.NVFP4),
        (BLACKWELL_LIKE, Precision.MXFP4, ExecutionMode.NATIVE, Precision.FP8),
        (T4_LIKE, Precision.BF16, ExecutionMode.NATIVE, Precision.FP16),
        (VOLTA_LIKE, Precision.MXFP4, ExecutionMode.UNSUPPORTED, Precision.FP16),
        (VOLTA_LIKE, Precision.INT4, ExecutionMode.WEIGHT_ONLY, Precision.FP16),
    ],
    ids=[
        "h100-fp8-w8a8",
        "a100-fp8-marlin",
        "int4-w4a16",
        "h100-nvfp4-marlin",
        "blackwell-nvfp4",
        "blackwell-mxfp4-w4a8",
        "t4-bf16-as-fp16",
        "volta-no-fp4-kernel",
        "volta-gptq",
    ],
)
def test_execution_mode_of_stored_weights(
    gpu: GpuSpec, weights: Precision, mode: ExecutionMode, compute: Precision
) -> None:
    """Native tensor cores, weight-only dequantisation at 16 bit, or no kernel at all."""
    execution = gpu.execution(weights)
    assert (execution.mode, execution.compute) == (mode, compute)


def test_mxfp4_runs_w4a8_at_the_fp8_rate_where_tensor_cores_take_it() -> None:
    """MXFP4 weights on Blackwell multiply with 8-bit activations: the FP8 peak, said so."""
    execution = BLACKWELL_LIKE.execution(Precision.MXFP4)
    assert BLACKWELL_LIKE.dense_tflops_fp8 is not None
    assert execution.peak_flops == pytest.approx(BLACKWELL_LIKE.dense_tflops_fp8 * 1e12)
    assert "W4A8" in execution.note


def test_mxfp4_with_16_bit_activations_runs_weight_only() -> None:
    """An engine keeping bf16 activations (vLLM's default) multiplies MXFP4 at 16 bit."""
    execution = BLACKWELL_LIKE.execution(Precision.MXFP4, Precision.BF16)
    assert execution.mode is ExecutionMode.WEIGHT_ONLY
    assert execution.peak_flops == pytest.approx(BLACKWELL_LIKE.sixteen_bit_tflops * 1e12)
    assert "W4A16" in execution.note


def test_weight_only_execution_states_its_cost() -> None:
    """A weight-only answer names the 16-bit rate it runs at (never a silent price)."""
    execution = H100.execution(Precision.NVFP4)
    assert execution.peak_flops == pytest.approx(989e12)
    assert "989" in execution.note


def test_a_format_without_a_kernel_is_not_supported() -> None:
    """Volta has no Marlin: FP4 weights cannot be served there."""
    assert not VOLTA_LIKE.supports(Precision.NVFP4)


@pytest.mark.parametrize(
    ("achievable_tflops", "efficiency"),
    [(794.5, 794.5 / 989.0), (494.5, 0.5), (989.0, 1.0), (None, TYPICAL_MATMUL_EFFICIENCY)],
    ids=["measured", "half-the-peak", "at-the-peak", "unmeasured-typical-share"],
)
def test_matmul_efficiency_is_the_measured_share_of_the_peak(
    achievable_tflops: float | None, efficiency: float
) -> None:
    """A chip's matmul efficiency is its measured BF16 rate over the datasheet's, else typical."""
    gpu = msgspec.structs.replace(H100, achievable_tflops_bf16=achievable_tflops)
    assert gpu.matmul_efficiency == pytest.approx(efficiency)


@pytest.mark.parametrize(
    ("dense_tflops", "achievable_tflops", "problem"),
    [
        (989.0, 794.5, ""),
        (989.0, None, ""),
        (989.0, 989.0, ""),
        (989.0, 990.0, "above the dense BF16 peak 989"),
        (0.0, 100.0, "needs dense_tflops_bf16"),
    ],
    ids=["below-peak", "unmeasured", "at-peak", "above-peak", "chip-without-bf16"],
)
def test_a_measured_rate_must_lie_under_the_bf16_peak(
    dense_tflops: float, achievable_tflops: float | None, problem: str
) -> None:
    """A measured BF16 matmul rate needs a BF16 peak and may not exceed it."""
    found = achievable_rate_problem(dense_tflops, achievable_tflops)
    assert (problem in found) if problem else found == ""
    assert bool(found) == bool(problem)
