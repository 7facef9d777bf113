"""Bodies of the catalog endpoints (/v1/gpus, /v1/models)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from service.domain.architecture import Architecture

# Litestar 2.25 hoists the bounds of an ``X | None`` field onto the union and drops the falsy
# ones, so ``gt=0``/``ge=0`` vanished from the OpenAPI of optional fields; ``extra`` restates them.
Positive = Annotated[
    float, msgspec.Meta(gt=0, le=1e18, extra_json_schema={"extra": {"exclusive_minimum": 0.0}})
]
NonNegative = Annotated[
    float, msgspec.Meta(ge=0, le=1e18, extra_json_schema={"extra": {"minimum": 0.0}})
]
GPU_ID = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")
]
REPO_ID = Annotated[
    str, msgspec.Meta(min_length=3, max_length=200, pattern=r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
]
Version = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


class GpuFields(msgspec.Struct, frozen=True, kw_only=True):
    """A GPU as an operator describes it. Peak rates are dense; bandwidths decimal B/s."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    vendor: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "nvidia"
    memory_bytes: Annotated[int, msgspec.Meta(ge=1, le=2**50)]
    nominal_memory_gb: Positive | None = None
    memory_bandwidth_bytes_per_s: Positive
    dense_tflops_bf16: NonNegative
    dense_tflops_fp16: NonNegative
    dense_tflops_fp8: NonNegative | None = None
    dense_tops_int8: NonNegative | None = None
    dense_tflops_fp4: NonNegative | None = None
    interconnect: Annotated[str, msgspec.Meta(max_length=200)] = "pcie"
    interconnect_bandwidth_bytes_per_s: Positive = 32e9
    max_gpus_per_node: Annotated[int, msgspec.Meta(ge=1, le=1024)] = 8
    tdp_watts: Positive | None = None
    price_per_hour_usd: NonNegative | None = None
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


class ModelOut(ModelSummary, frozen=True, kw_only=True):
    config: dict[str, Any]
    architecture: Architecture


class ModelPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[ModelSummary]
    total: int
    limit: int
    offset: int
