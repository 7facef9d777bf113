"""The shipped GPU catalog: every GPU's memory is the runtime's figure, with its source."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.db.seed_loader import SeedCatalog, load_catalog
from service.db.seed_schema import GpuSeed

CATALOG_DIR = Path(__file__).resolve().parents[2] / "catalog"
GIB = 2**30


@pytest.fixture(scope="module")
def catalog() -> SeedCatalog:
    return load_catalog(CATALOG_DIR)


@pytest.fixture(scope="module")
def gpus(catalog: SeedCatalog) -> dict[str, GpuSeed]:
    return {gpu.id: gpu for gpu in catalog.gpus}


@pytest.mark.parametrize(
    "gpu_id",
    ["b300", "gb300", "rtx-pro-6000-blackwell", "rtx-5090", "h20", "mi355x", "mi350x", "h200-nvl"],
)
def test_gpus_bought_in_2025_26_are_in_the_catalog(gpus: dict[str, GpuSeed], gpu_id: str) -> None:
    """The GPUs teams buy in 2025–26 are there, each with a source."""
    assert gpus[gpu_id].sources


def test_every_gpu_says_where_its_memory_figure_comes_from(gpus: dict[str, GpuSeed]) -> None:
    """memory_source is set for every entry."""
    assert [gpu.id for gpu in gpus.values() if not gpu.memory_source] == []


def _spellings(memory_bytes: int) -> set[str]:
    """How a source may state a total: GiB to 2, 1 or 0 decimals, MiB, or bytes."""
    gib, mib = memory_bytes / GIB, memory_bytes / 2**20
    return {
        f"{gib:.2f} GiB",
        f"{gib:.2f}GiB",
        f"{gib:.1f} GiB",
        f"{gib:.0f} GiB",
        f"{gib:.2f} GB",
        f"{mib:,.0f} MiB",
        f"{memory_bytes:,}",
        str(memory_bytes),
    }


def test_runtime_figures_state_the_number_stored(gpus: dict[str, GpuSeed]) -> None:
    """A runtime or NVML figure's source quotes the very total stored (GiB, MiB or bytes)."""
    unquoted = [
        gpu.id
        for gpu in gpus.values()
        if gpu.memory_basis != "nominal"
        and not any(text in (gpu.memory_source or "") for text in _spellings(gpu.memory_bytes))
    ]
    assert unquoted == []


def test_runtime_memory_is_below_the_marketing_capacity(gpus: dict[str, GpuSeed]) -> None:
    """The runtime reserves memory: its total never exceeds the nominal GiB figure."""
    over = [
        gpu.id
        for gpu in gpus.values()
        if gpu.nominal_memory_gb is not None and gpu.memory_bytes > gpu.nominal_memory_gb * GIB
    ]
    assert over == []


@pytest.mark.parametrize(
    ("gpu_id", "gib"),
    [("h100-sxm", 79.19), ("l40s", 44.31), ("l4", 22.05), ("t4", 14.74), ("a100-sxm-80gb", 79.15)],
    ids=["h100", "l40s", "l4", "t4", "a100-80"],
)
def test_small_and_common_gpus_use_the_runtime_total(
    gpus: dict[str, GpuSeed], gpu_id: str, gib: float
) -> None:
    """Issue 11: 80/48/24/16 GiB marketing figures were replaced by what the runtime reports."""
    gpu = gpus[gpu_id]
    assert (gpu.memory_basis, round(gpu.memory_bytes / GIB, 2)) == ("runtime", gib)


def test_dense_rates_rise_as_precision_narrows(gpus: dict[str, GpuSeed]) -> None:
    """Dense tensor rates: bf16 <= fp8 <= fp4 where a chip has them (sparse figures would
    break nothing here, but a dense fp4 below fp8 would flag a copy error)."""
    broken = []
    for gpu in gpus.values():
        ladder = [gpu.dense_tflops_bf16 or gpu.dense_tflops_fp16, gpu.dense_tflops_fp8]
        ladder += [gpu.dense_tflops_fp4 or gpu.dense_tflops_mxfp4]
        present = [rate for rate in ladder if rate]
        if present != sorted(present):
            broken.append(gpu.id)
    assert broken == []


def test_fp4_tensor_cores_only_on_blackwell_and_cdna4(gpus: dict[str, GpuSeed]) -> None:
    """NVFP4 rates belong to sm100+ NVIDIA parts; MXFP4 also to AMD's MI350 series."""
    nvfp4 = sorted(gpu.id for gpu in gpus.values() if gpu.dense_tflops_fp4)
    assert all(float(gpus[i].compute_capability or 0) >= 10 for i in nvfp4)
    amd_mxfp4 = sorted(
        gpu.id for gpu in gpus.values() if gpu.dense_tflops_mxfp4 and gpu.vendor == "amd"
    )
    assert amd_mxfp4 == ["mi350x", "mi355x"]


def test_measured_matmul_rates_cite_their_measurement(gpus: dict[str, GpuSeed]) -> None:
    """Every GPU with a measured BF16 matmul rate names the MAMF table it was read from, and
    the rate lies below the chip's BF16 peak; the big datacentre GPUs all have one."""
    measured = {gpu_id: gpu for gpu_id, gpu in gpus.items() if gpu.achievable_tflops_bf16}
    assert {"h100-sxm", "h200-sxm", "b200", "gb200", "mi300x", "a100-sxm-80gb"} <= set(measured)
    for gpu in measured.values():
        assert gpu.achievable_tflops_bf16 is not None
        assert gpu.achievable_tflops_bf16 < gpu.dense_tflops_bf16, gpu.id
        cited = [s for s in gpu.sources if "Maximum Achievable Matmul FLOPS" in s]
        assert cited, gpu.id
        assert f"{gpu.achievable_tflops_bf16:.1f}" in cited[0], gpu.id
