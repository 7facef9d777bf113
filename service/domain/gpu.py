"""The accelerator description the arithmetic needs: memory, bandwidth, dense peaks, links."""

from __future__ import annotations

import msgspec

from service.domain.precision import Precision


class GpuSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One accelerator type.

    ``memory_bytes`` is the total the runtime reports (``torch.cuda.mem_get_info()[1]``),
    which is what vLLM multiplies by ``gpu_memory_utilization``; it is below the marketing
    figure (an "80GB" H100 reports 79.2 GiB). Peak rates are **dense** (no 2:4 sparsity).
    Bandwidths are decimal bytes per second; the interconnect figure is per direction.
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
    interconnect: str = "pcie"
    interconnect_bandwidth_bytes_per_s: float = 32e9
    max_gpus_per_node: int = 8
    tdp_watts: float | None = None
    price_per_hour_usd: float | None = None
    vendor: str = "nvidia"

    def peak_flops(self, compute: Precision) -> float:
        """Dense peak FLOP/s for matrix maths in ``compute`` precision.

        Falls back to the 16-bit rate when the chip has no faster path for that precision
        (e.g. int4 weights on an A100 are dequantised and multiplied in fp16).
        """
        sixteen_bit = max(self.dense_tflops_bf16, self.dense_tflops_fp16)
        tflops: float | None
        if compute is Precision.FP8:
            tflops = self.dense_tflops_fp8
        elif compute is Precision.INT8:
            tflops = self.dense_tops_int8
        elif compute in (Precision.FP4, Precision.MXFP4):
            tflops = self.dense_tflops_fp4 or self.dense_tflops_fp8
        elif compute is Precision.FP16:
            tflops = self.dense_tflops_fp16 or self.dense_tflops_bf16
        elif compute is Precision.FP32:
            tflops = sixteen_bit / 16
        else:
            tflops = self.dense_tflops_bf16 or self.dense_tflops_fp16
        return (tflops or sixteen_bit) * 1e12

    def supports(self, precision: Precision) -> bool:
        """Whether the chip can hold and compute with weights or KV in ``precision``."""
        if precision is Precision.BF16:
            return self.dense_tflops_bf16 > 0
        if precision is Precision.FP8:
            return self.dense_tflops_fp8 is not None
        return True
