"""Bodies of the catalog endpoints (/v1/gpus, /v1/models)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec

from service.domain.architecture import Architecture

# Physical bounds on every rate and size, so no 0, denormal or absurd value is stored (a
# 5e-324 B/s bandwidth made latencies ``null``; a 0 TFLOP/s rate divided by zero).
Bandwidth = Annotated[float, msgspec.Meta(ge=1e6, le=1e15, description="bytes/s (decimal)")]
Tflops = Annotated[float, msgspec.Meta(ge=0.1, le=1e5, description="dense TFLOP/s (TOP/s int8)")]
#: BF16 alone may be 0: the catalog's marker for a chip without BF16 (T4, V100).
Bf16Tflops = Annotated[
    float, msgspec.Meta(ge=0, le=1e5, description="dense TFLOP/s; 0: no BF16 (else >= 0.1)")
]
MIN_TFLOPS = 0.1
Gigabytes = Annotated[float, msgspec.Meta(ge=1e-3, le=1e6, description="GB (decimal)")]
Watts = Annotated[float, msgspec.Meta(ge=1.0, le=1e5, description="W")]
# Litestar 2.25 drops falsy bounds of ``X | None`` fields from the OpenAPI: ``extra`` restates.
UsdPerHour = Annotated[
    float,
    msgspec.Meta(ge=0, le=1e5, description="USD", extra_json_schema={"extra": {"minimum": 0.0}}),
]
#: ``\Z``, not ``$``, which also matches before a trailing newline. Segments are letters,
#: digits, ``_`` and ``-`` joined by single dots: no ``..``, no leading or trailing dot.
_SEGMENT = r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*"
GPU_ID = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*\Z")
]
REPO_ID = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=200,
        pattern=rf"^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*/{_SEGMENT}\Z",
    ),
]
Version = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


class GpuFields(msgspec.Struct, frozen=True, kw_only=True):
    """A GPU as an operator describes it. Peak rates are dense; bandwidths decimal B/s."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    vendor: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "nvidia"
    memory_bytes: Annotated[
        int,
        msgspec.Meta(
            ge=2**20,
            le=2**50,
            description="the total the runtime reports (torch.cuda.mem_get_info); every "
            "memory calculation uses it",
        ),
    ]
    memory_basis: Annotated[
        Literal["runtime", "nvml", "nominal"],
        msgspec.Meta(
            description="runtime: memory_bytes is the CUDA/ROCm runtime's total; nvml: "
            "nvidia-smi's (slightly higher); nominal: the marketing capacity"
        ),
    ] = "nominal"
    memory_source: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    nominal_memory_gb: Gigabytes | None = None
    memory_bandwidth_bytes_per_s: Bandwidth
    dense_tflops_bf16: Bf16Tflops
    dense_tflops_fp16: Tflops
    dense_tflops_fp8: Tflops | None = None
    dense_tops_int8: Tflops | None = None
    dense_tflops_fp4: Annotated[Tflops, msgspec.Meta(description="NVFP4, dense")] | None = None
    dense_tflops_mxfp4: Annotated[Tflops, msgspec.Meta(description="OCP MXFP4, dense")] | None = (
        None
    )
    compute_capability: (
        Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,2}\.[0-9]\Z", description="CUDA sm")] | None
    ) = None
    interconnect: Annotated[str, msgspec.Meta(max_length=200)] = "pcie"
    interconnect_bandwidth_bytes_per_s: Bandwidth = 32e9
    max_gpus_per_node: Annotated[int, msgspec.Meta(ge=1, le=1024)] = 8
    tdp_watts: Watts | None = None
    price_per_hour_usd: UsdPerHour | None = None
    sources: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=1000)]],
        # Litestar 2.25 leaves item constraints out of the OpenAPI; state them for the list.
        msgspec.Meta(
            max_length=50,
            extra_json_schema={"extra": {"items": {"type": "string", "maxLength": 1000}}},
        ),
    ] = msgspec.field(default_factory=list)
    verified: bool = False
    notes: Annotated[str, msgspec.Meta(max_length=5000)] = ""


class GpuCreate(GpuFields, frozen=True, kw_only=True):
    id: GPU_ID


class GpuReplace(GpuFields, frozen=True, kw_only=True):
    """Replaces every field; ``version``, when given, must match (409 otherwise)."""

    version: Version | None = None


class GpuOut(GpuFields, frozen=True, kw_only=True):
    id: str
    origin: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class GpuPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[GpuOut]
    total: int
    limit: int
    offset: int


class ModelCreate(msgspec.Struct, frozen=True, kw_only=True):
    id: REPO_ID
    config: dict[str, Any]
    notes: Annotated[str, msgspec.Meta(max_length=5000)] = ""


class ModelReplace(msgspec.Struct, frozen=True, kw_only=True):
    config: dict[str, Any]
    notes: Annotated[str, msgspec.Meta(max_length=5000)] = ""
    version: Version | None = None


class ModelSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    model_type: str
    total_params: int
    active_params: int
    revision: str | None
    quantization: str | None
    gated: bool
    hub_safetensors_total: int | None
    published_total_params: int | None
    parameter_check: str | None
    origin: str
    version: int
    notes: str
    created_at: dt.datetime
    updated_at: dt.datetime
    aliases: Annotated[
        list[str],
        msgspec.Meta(
            description="Other names that resolve to this model (from its catalog file)",
            examples=[["meta-llama/Meta-Llama-3.1-8B"]],
        ),
    ] = []


class ModelOut(ModelSummary, frozen=True, kw_only=True):
    config: dict[str, Any]
    architecture: Architecture


class ModelPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[ModelSummary]
    total: int
    limit: int
    offset: int
