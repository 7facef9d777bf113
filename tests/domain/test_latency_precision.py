"""Precisions as the chips run them: FP8/FP4 tensor cores where they exist, weight-only
dequantisation (narrow reads, 16-bit maths) where they do not, refusal where no kernel exists."""

from __future__ import annotations

import msgspec
import pytest

from service.domain.gpu import GpuSpec
from service.domain.latency import LatencyEstimate, Serving, estimate_latency, matmul_peak_flops
from service.domain.planner import SearchSpace
from service.domain.precision import Precision
from tests.domain.reference import A100_80, H100, IDEAL, arch, params
from tests.domain.test_planner import plan_for

# NVIDIA B200 datasheet, dense (sparsity halved): BF16 2.25, FP8 4.5, FP4 9 PFLOP/s; 8 TB/s;
# 1,745 BF16 TFLOP/s measured (stas00/ml-engineering's MAMF table): 77.6 % of the peak.
B200 = GpuSpec(
    id="b200",
    name="B200",
    memory_bytes=192 * 10**9,
    memory_bandwidth_bytes_per_s=8e12,
    dense_tflops_bf16=2250.0,
    dense_tflops_fp16=2250.0,
    dense_tflops_fp8=4500.0,
    dense_tflops_fp4=9000.0,
    dense_tflops_mxfp4=9000.0,
    achievable_tflops_bf16=1745.0,
    compute_capability="10.0",
)
HOPPER = msgspec.structs.replace(H100, compute_capability="9.0")
AMPERE = msgspec.structs.replace(A100_80, compute_capability="8.0")
# Turing (sm75, T4 datasheet: 65 fp16 TFLOP/s, 320 GB/s): no bf16, no Marlin FP4 kernels.
TURING = GpuSpec(
    id="t4",
    name="T4",
    memory_bytes=16 * 2**30,
    memory_bandwidth_bytes_per_s=320e9,
    dense_tflops_bf16=0.0,
    dense_tflops_fp16=65.0,
    compute_capability="7.5",
)


@pytest.mark.parametrize(
    ("gpu", "weights", "tflops"),
    [
        (HOPPER, Precision.FP8, 1979.0),
        (HOPPER, Precision.MXFP4, 989.0),
        (HOPPER, Precision.NVFP4, 989.0),
        (AMPERE, Precision.INT4, 312.0),
        (B200, Precision.NVFP4, 9000.0 * 0.7756),
        (B200, Precision.MXFP4, 4500.0 * 0.7756),
        (B200, Precision.FP8, 4500.0 * 0.7756),
    ],
    ids=[
        "h100-fp8",
        "h100-mxfp4",
        "h100-nvfp4",
        "a100-int4",
        "b200-nvfp4",
        "b200-mxfp4-w4a8",
        "b200-fp8",
    ],
)
def test_matmuls_run_at_the_rate_the_chip_has_for_the_format(
    gpu: GpuSpec, weights: Precision, tflops: float
) -> None:
    """Tensor-core formats at their own dense rate (MXFP4 as W4A8 at the FP8 rate); others at
    the 16-bit rate (weight-only); each times the chip's measured share of its peak (the
    B200's 1,745 of 2,250 BF16 TFLOP/s)."""
    assert matmul_peak_flops(gpu, weights) == pytest.approx(tflops * 1e12, rel=1e-4)


def test_weight_only_int4_reads_narrow_weights_but_multiplies_at_16_bit() -> None:
    """Llama-3-8B on an A100: int4 decode reads about a quarter of the bf16 bytes (faster
    TPOT) while its prefill compute is the same 16-bit work (same compute time)."""

    def latency(weights: Precision) -> LatencyEstimate:
        serving = Serving(gpu=AMPERE, weight_precision=weights, kv_precision=Precision.BF16)
        return estimate_latency(
            arch("llama3-8b"), params("llama3-8b"), serving,
            batch_size=1, input_tokens=2048, output_tokens=64, efficiency=IDEAL,
        )  # fmt: skip

    bf16, int4 = latency(Precision.BF16), latency(Precision.INT4)
    assert int4.decode.memory_ms < 0.45 * bf16.decode.memory_ms
    assert int4.prefill.compute_ms == pytest.approx(bf16.prefill.compute_ms, rel=1e-9)


def test_nvfp4_on_blackwell_prefills_faster_than_fp8() -> None:
    """B200: NVFP4 matmuls at 9 PFLOP/s against FP8's 4.5: the compute-bound prefill halves."""

    def prefill_ms(weights: Precision) -> float:
        serving = Serving(gpu=B200, weight_precision=weights, kv_precision=Precision.FP8)
        return estimate_latency(
            arch("llama3-70b"), params("llama3-70b"), serving,
            batch_size=8, input_tokens=4096, output_tokens=2, efficiency=IDEAL,
        ).prefill.compute_ms  # fmt: skip

    assert prefill_ms(Precision.NVFP4) < 0.55 * prefill_ms(Precision.FP8)


def test_a_format_without_a_kernel_is_refused_with_the_reason() -> None:
    """NVFP4 on Turing (sm75 < Marlin's sm80): no configuration, the reason names it."""
    space = SearchSpace(weight_dtypes=("nvfp4",), kv_cache_dtypes=("fp16",), max_gpus=1)
    result = plan_for("llama3-8b", [TURING], space=space)
    assert result.configurations == ()
    assert any("no nvfp4 kernel for compute capability 7.5" in r.reason for r in result.rejected)


def test_a_weight_only_plan_says_how_the_format_runs() -> None:
    """int4 on an A100 is planned, and the configuration states the 16-bit emulation."""
    space = SearchSpace(weight_dtypes=("int4",), max_gpus=1)
    (config, *_) = plan_for("llama3-8b", [AMPERE], space=space).configurations
    assert config.weight_execution is not None
    assert "dequantised" in config.weight_execution
