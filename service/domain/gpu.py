"""The accelerator description the arithmetic needs: memory, bandwidth, dense peaks, links."""

from __future__ import annotations

import enum
import statistics

import msgspec

from service.domain.precision import Precision


class MemoryBasis(enum.StrEnum):
    """What ``memory_bytes`` is: the total the CUDA/ROCm runtime reports
    (``torch.cuda.mem_get_info()[1]``, vLLM's ``total_gpu_memory``), NVML's total
    (``nvidia-smi``; the runtime reports a little less), or the nominal capacity when no
    public runtime figure was found."""

    RUNTIME = "runtime"
    NVML = "nvml"
    NOMINAL = "nominal"


class ExecutionMode(enum.StrEnum):
    """How a chip runs matrix maths on weights of a precision.

    ``native``: its tensor cores multiply in that precision (W8A8, W4A4), or take the narrow
    weights beside wider activations: MXFP4 checkpoints (gpt-oss) run W4A8 with MXFP8
    activations at the FP8 rate on chips with MXFP4 tensor cores (TensorRT-LLM
    ``ModelConfig.get_mxfp4_quant_algo`` picks ``W4A8_MXFP4_MXFP8`` on sm100+, FlashInfer's
    trtllm-gen MoE likewise), or W4A16 where the engine keeps 16-bit activations (vLLM's
    default SM100 backend, ``get_mxfp4_backend``: "MXFP4 BF16" unless
    ``VLLM_USE_FLASHINFER_MOE_MXFP4_MXFP8`` is set): ``EngineProfile.mxfp4_activations``.
    ``weight_only``:
    the kernel reads the narrow weights and dequantises them to 16 bit in registers (Marlin,
    Machete: decode reads fewer bytes, the maths runs at the 16-bit rate). ``unsupported``:
    no engine kernel exists for the chip (Marlin needs sm80+).
    """

    NATIVE = "native"
    WEIGHT_ONLY = "weight_only"
    UNSUPPORTED = "unsupported"


class PrecisionExecution(msgspec.Struct, frozen=True, kw_only=True):
    """How ``weights`` run on one chip: the mode, the precision the maths runs in, its dense
    peak in FLOP/s, and a sentence saying so."""

    weights: Precision
    mode: ExecutionMode
    compute: Precision
    peak_flops: float
    note: str


WEIGHT_ONLY_MIN_CAPABILITY: dict[Precision, float] = {
    Precision.INT4: 6.0,
    Precision.INT8: 7.5,
    Precision.FP8: 8.0,
    Precision.MXFP4: 8.0,
    Precision.NVFP4: 8.0,
}
"""Oldest compute capability with a weight-only kernel in vLLM: GPTQ's exllama kernels
sm60 (``gptq.py`` ``get_min_capability``), int8 W8A8 sm75 (compressed-tensors), Marlin's
FP8/FP4/MXFP4 weight-only sm80 (``mxfp4.py`` ``get_min_capability`` 80,
``marlin_utils_fp4.py``)."""


BF16_MIN_CAPABILITY = 8.0
"""vLLM ``CudaPlatformBase.supported_dtypes`` (``vllm/platforms/cuda.py``): bf16 from sm80
(Ampere); "Pascal, Volta and Turing NVIDIA GPUs, BF16 is not supported"."""


MAMF_BF16_EFFICIENCIES = (
    0.969,
    0.869,
    0.838,
    0.811,
    0.803,
    0.786,
    0.776,
    0.741,
    0.729,
    0.680,
    0.604,
    0.514,
)
"""Measured over datasheet BF16 matmul rate of the 12 accelerators in the "Maximum Achievable
Matmul FLOPS comparison table" (BF16, its "Efficiency" column) of stas00/ml-engineering (commit
744d01e, ``compute/accelerator/README.md``): Gaudi 2, A100 SXM, GH200, A100 PCIe, H100 SXM,
B300, B200, Gaudi 3, GB200, MI355X, MI325X, MI300X."""

TYPICAL_MATMUL_EFFICIENCY = statistics.median(MAMF_BF16_EFFICIENCIES)
"""The share a chip nobody has measured is priced at: the table's median, 78.1 % (between
B200's 77.6 % and B300's 78.6 %)."""


def achievable_rate_problem(dense_tflops_bf16: float, achievable_tflops_bf16: float | None) -> str:
    """Why a measured BF16 matmul rate cannot be (empty when it can): it needs the chip's
    BF16 peak and cannot exceed it."""
    if achievable_tflops_bf16 is None:
        return ""
    if dense_tflops_bf16 <= 0:
        return "a measured BF16 rate needs dense_tflops_bf16 (0 says the chip has no BF16)"
    if achievable_tflops_bf16 > dense_tflops_bf16:
        return (
            f"{achievable_tflops_bf16:g} TFLOP/s measured is above the dense BF16 peak "
            f"{dense_tflops_bf16:g}"
        )
    return ""


class GpuSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One accelerator type.

    ``memory_bytes`` is what every memory calculation uses: the total the runtime reports
    (``memory_basis`` says whether it is that, NVML's figure or the nominal capacity); it is
    below the marketing figure (an "80GB" H100 reports 79.19 GiB). Peak rates are **dense**
    (no 2:4 sparsity): ``dense_tflops_fp4`` is NVFP4, ``dense_tflops_mxfp4`` OCP MXFP4, each
    None where the chip has no such tensor-core path. Bandwidths are decimal bytes per
    second; the interconnect figure is per direction. ``achievable_tflops_bf16`` is the
    fastest BF16 matmul measured on the chip and its software stack (None: not measured;
    :attr:`matmul_efficiency`).
    """

    id: str
    name: str
    memory_bytes: int
    memory_bandwidth_bytes_per_s: float
    dense_tflops_bf16: float
    dense_tflops_fp16: float
    dense_tflops_fp8: float | None = None
    dense_tops_int8: float | None = None
    dense_tflops_fp4: float | None = None
    dense_tflops_mxfp4: float | None = None
    achievable_tflops_bf16: float | None = None
    memory_basis: str = MemoryBasis.NOMINAL
    compute_capability: str | None = None
    interconnect: str = "pcie"
    interconnect_bandwidth_bytes_per_s: float = 32e9
    max_gpus_per_node: int = 8
    tdp_watts: float | None = None
    price_per_hour_usd: float | None = None
    vendor: str = "nvidia"

    @property
    def matmul_efficiency(self) -> float:
        """Share of the datasheet peak the chip's matmuls reach at best:
        ``achievable_tflops_bf16 / dense_tflops_bf16`` where measured, else
        :data:`TYPICAL_MATMUL_EFFICIENCY`. Every tensor-core rate the latency model uses is
        the datasheet peak times this share (:func:`service.domain.latency.matmul_peak_flops`),
        so the calibrated MFU is a share of what the chip can do, not of its marketing peak."""
        if self.achievable_tflops_bf16 and self.dense_tflops_bf16 > 0:
            return self.achievable_tflops_bf16 / self.dense_tflops_bf16
        return TYPICAL_MATMUL_EFFICIENCY

    @property
    def has_bf16(self) -> bool:
        """Whether the chip computes in bf16: a bf16 rate (the catalog writes 0 for none)
        and, on NVIDIA, compute capability 8.0 or above (:data:`BF16_MIN_CAPABILITY`)."""
        capability = self._capability()
        too_old = capability is not None and capability < BF16_MIN_CAPABILITY
        return self.dense_tflops_bf16 > 0 and not too_old

    @property
    def sixteen_bit_precision(self) -> Precision:
        """The 16-bit format the chip multiplies in: bf16, or fp16 where it has no bf16."""
        return Precision.BF16 if self.has_bf16 else Precision.FP16

    @property
    def sixteen_bit_tflops(self) -> float:
        return max(self.dense_tflops_bf16, self.dense_tflops_fp16)

    def _native_tflops(self, weights: Precision) -> float | None:
        if weights is Precision.FP8:
            return self.dense_tflops_fp8
        if weights is Precision.INT8:
            return self.dense_tops_int8
        if weights is Precision.NVFP4:
            return self.dense_tflops_fp4
        if weights is Precision.MXFP4:
            return self.dense_tflops_mxfp4
        return None

    def execution(
        self, weights: Precision, mxfp4_activations: Precision = Precision.FP8
    ) -> PrecisionExecution:
        """How weights stored in ``weights`` run here (see :class:`ExecutionMode`);
        ``mxfp4_activations``: the engine's choice for MXFP4 checkpoints (FP8: W4A8, BF16:
        dequantised to the 16-bit rate)."""
        sixteen = self.sixteen_bit_precision
        if not weights.is_quantized:
            compute = weights if weights is Precision.FP32 else sixteen
            if weights is Precision.FP16:
                compute = Precision.FP16
            note = f"{weights.value} runs natively"
            if weights is Precision.BF16 and sixteen is Precision.FP16:
                note = "no bf16 on this chip: bf16 weights run as fp16"
            return PrecisionExecution(
                weights=weights,
                mode=ExecutionMode.NATIVE,
                compute=compute,
                peak_flops=self.peak_flops(compute),
                note=note,
            )
        native = self._native_tflops(weights)
        if weights is Precision.MXFP4 and native is not None:
            if mxfp4_activations is Precision.FP8 and self.dense_tflops_fp8:
                return PrecisionExecution(
                    weights=weights,
                    mode=ExecutionMode.NATIVE,
                    compute=Precision.FP8,
                    peak_flops=self.dense_tflops_fp8 * 1e12,
                    note=(
                        f"mxfp4 weights with mxfp8 activations (W4A8) at the fp8 rate, "
                        f"{self.dense_tflops_fp8:g} dense TFLOP/s: the engines' MXFP4 kernels "
                        f"quantise activations to 8 bit, never to 4 (the chip's W4A4 rate, "
                        f"{native:g}, is unused)"
                    ),
                )
            return self._weight_only(
                weights,
                f"mxfp4 weights with {sixteen.value} activations (W4A16, the engine's default)",
            )
        if native is not None:
            return PrecisionExecution(
                weights=weights,
                mode=ExecutionMode.NATIVE,
                compute=weights,
                peak_flops=native * 1e12,
                note=f"{weights.value} tensor cores: {native:g} dense TFLOP/s",
            )
        capability = self._capability()
        if capability is not None and capability < WEIGHT_ONLY_MIN_CAPABILITY[weights]:
            return PrecisionExecution(
                weights=weights,
                mode=ExecutionMode.UNSUPPORTED,
                compute=sixteen,
                peak_flops=0.0,
                note=f"no {weights.value} kernel for compute capability {self.compute_capability}",
            )
        return self._weight_only(weights, f"no {weights.value} tensor cores")

    def _weight_only(self, weights: Precision, why: str) -> PrecisionExecution:
        """``weights`` dequantised in the kernel and multiplied at the 16-bit rate."""
        sixteen = self.sixteen_bit_precision
        return PrecisionExecution(
            weights=weights,
            mode=ExecutionMode.WEIGHT_ONLY,
            compute=sixteen,
            peak_flops=self.sixteen_bit_tflops * 1e12,
            note=(
                f"{why}: weights are dequantised in the kernel and multiplied in "
                f"{sixteen.value} at {self.sixteen_bit_tflops:g} TFLOP/s"
            ),
        )

    def _capability(self) -> float | None:
        try:
            return float(self.compute_capability) if self.compute_capability else None
        except ValueError:
            return None

    def peak_flops(self, compute: Precision) -> float:
        """Dense peak FLOP/s for matrix maths in ``compute`` precision.

        Falls back to the 16-bit rate when the chip has no faster path for that precision
        (int4 on an A100, NVFP4 on an H100: dequantised and multiplied in 16 bit).
        """
        tflops: float | None
        if compute.is_quantized:
            tflops = self._native_tflops(compute)
        elif compute is Precision.FP16:
            tflops = self.dense_tflops_fp16 or self.dense_tflops_bf16
        elif compute is Precision.FP32:
            tflops = self.sixteen_bit_tflops / 16
        else:
            tflops = self.dense_tflops_bf16 or self.dense_tflops_fp16
        return (tflops or self.sixteen_bit_tflops) * 1e12

    def runs_weights(self, weights: Precision) -> bool:
        """Whether weights stored in ``weights`` can be served here: natively or weight-only
        (dequantised in the kernel, an emulation cost stated in :meth:`execution`'s note,
        not a refusal); only a format with no kernel for the chip is refused. A 16-bit
        format needs the chip's own units (:meth:`supports`)."""
        if weights.is_quantized:
            return self.execution(weights).mode is not ExecutionMode.UNSUPPORTED
        return self.supports(weights)

    def supports(self, precision: Precision) -> bool:
        """Whether the chip can hold and compute with weights or KV in ``precision``.

        bf16 needs bf16 units; fp8 needs fp8 tensor cores (the engines' fp8 KV cache and
        W8A8 paths); other formats need a native or weight-only kernel.
        """
        if precision is Precision.BF16:
            return self.has_bf16
        if precision is Precision.FP8:
            return self.dense_tflops_fp8 is not None
        return self.execution(precision).mode is not ExecutionMode.UNSUPPORTED
