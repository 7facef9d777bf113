"""Which fitted factors price a GPU: its own, else its generation's, else the shared ones."""

from __future__ import annotations

import pytest

from service.domain.calibration import Calibration, GpuFactors, efficiency_for, gpu_generation
from service.domain.latency import Efficiency

SHARED = Efficiency(decode_mbu=0.7)
OWN = GpuFactors(decode_mbu=0.9, decode_mfu=0.4, prefill_mfu=0.5, points=("a",))
HOPPER = GpuFactors(decode_mbu=0.8, decode_mfu=0.4, prefill_mfu=0.5, points=("a", "b"))
ROCM = GpuFactors(decode_mbu=0.6, decode_mfu=0.4, prefill_mfu=0.5, points=("c",))
CALIBRATION = Calibration(
    shared=SHARED,
    gpus={"h100-sxm": OWN},
    generations={"sm9": HOPPER, "amd": ROCM},
    shrinkage=1.0,
)


@pytest.mark.parametrize(
    ("capability", "vendor", "generation"),
    [
        ("9.0", "nvidia", "sm9"),
        ("10.0", "nvidia", "sm10"),
        ("8.6", "nvidia", "sm8"),
        (None, "nvidia", ""),
        (None, "amd", "amd"),
        (None, " AMD ", "amd"),
    ],
    ids=["hopper", "blackwell", "ampere", "unknown", "amd", "amd-spelled-loosely"],
)
def test_generation_is_the_major_compute_capability_or_the_vendor(
    capability: str | None, vendor: str, generation: str
) -> None:
    """Factors are borrowed within a CUDA major version; other vendors' GPUs within their
    vendor's software stack."""
    assert gpu_generation(capability, vendor) == generation


@pytest.mark.parametrize(
    ("gpu", "generation", "mbu"),
    [
        ("h100-sxm", "sm9", 0.9),
        ("h200-nvl", "sm9", 0.8),
        ("mi325x", "amd", 0.6),
        ("gaudi3", "intel", 0.7),
        ("b300", "sm10", 0.7),
    ],
    ids=[
        "own",
        "borrowed-from-generation",
        "borrowed-from-vendor",
        "unmeasured-vendor",
        "unmeasured-generation",
    ],
)
def test_own_then_generation_then_shared(gpu: str, generation: str, mbu: float) -> None:
    """A measured GPU uses its factors; an unmeasured one its generation's, else the shared."""
    assert efficiency_for(CALIBRATION, gpu, generation).decode_mbu == mbu
