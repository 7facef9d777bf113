"""Bodies of the catalog endpoints (/v1/gpus, /v1/models)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec

from service.domain.architecture import Architecture
from service.domain.gpu import TYPICAL_MATMUL_EFFICIENCY

# Physical bounds on every rate and size, so no 0, denormal or absurd value is stored (a
# 5e-324 B/s bandwidth made latencies ``null``; a 0 TFLOP/s rate divided by zero).
Bandwidth = Annotated[float, msgspec.Meta(ge=1e6, le=1e15, description="bytes/s (decimal)")]
Tflops = Annotated[float, msgspec.Meta(ge=0.1, le=1e5, description="dense TFLOP/s (TOP/s int8)")]
#: BF16 alone may be 0: the catalog's marker for a chip without BF16 (T4, V100).
MIN_TFLOPS = 0.1
Bf16Tflops = Annotated[
    float,
    msgspec.Meta(
        ge=0,
        le=1e5,
        description="dense TFLOP/s; 0: no BF16 (else >= 0.1)",
        # The OpenAPI says the gap too: nothing strictly between 0 and MIN_TFLOPS.
        extra_json_schema={
            "extra": {"not": {"exclusiveMinimum": 0.0, "exclusiveMaximum": MIN_TFLOPS}}
        },
    ),
]
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

    name: Annotated[
        Annotated[str, msgspec.Meta(min_length=1, max_length=200)],
        msgspec.Meta(description="Display name (e.g. NVIDIA H100 SXM5 80GB)"),
    ]
    vendor: Annotated[
        Annotated[str, msgspec.Meta(min_length=1, max_length=64)],
        msgspec.Meta(description="Vendor (nvidia, amd, intel, ...)"),
    ] = "nvidia"
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
    memory_source: (
        Annotated[
            Annotated[str, msgspec.Meta(max_length=2000)],
            msgspec.Meta(description="Where memory_bytes comes from (a URL or log line)"),
        ]
        | None
    ) = None
    nominal_memory_gb: (
        Annotated[
            Gigabytes, msgspec.Meta(description="Marketing memory capacity per GPU, decimal GB")
        ]
        | None
    ) = None
    memory_bandwidth_bytes_per_s: Annotated[
        Bandwidth, msgspec.Meta(description="HBM bandwidth per GPU, bytes/s (decimal)")
    ]
    dense_tflops_bf16: Annotated[
        Bf16Tflops, msgspec.Meta(description="Dense BF16 tensor rate per GPU, TFLOP/s; 0: no BF16")
    ]
    dense_tflops_fp16: Annotated[
        Tflops, msgspec.Meta(description="Dense FP16 tensor rate per GPU, TFLOP/s")
    ]
    dense_tflops_fp8: (
        Annotated[
            Tflops,
            msgspec.Meta(
                description="Dense FP8 tensor rate per GPU, TFLOP/s; null: no FP8 tensor cores"
            ),
        ]
        | None
    ) = None
    dense_tops_int8: (
        Annotated[
            Tflops,
            msgspec.Meta(description="Dense INT8 tensor rate per GPU, TOP/s; null: not listed"),
        ]
        | None
    ) = None
    dense_tflops_fp4: Annotated[Tflops, msgspec.Meta(description="NVFP4, dense")] | None = None
    dense_tflops_mxfp4: Annotated[Tflops, msgspec.Meta(description="OCP MXFP4, dense")] | None = (
        None
    )
    achievable_tflops_bf16: (
        Annotated[
            Tflops,
            msgspec.Meta(
                description=(
                    "Fastest BF16 matmul measured on this chip and its software stack, TFLOP/s"
                    " (at most dense_tflops_bf16); every tensor-core rate is priced at the"
                    " datasheet peak times this measured share. null: not measured, priced at"
                    f" the typical share ({TYPICAL_MATMUL_EFFICIENCY:.2%}, the median of"
                    " stas00/ml-engineering's Maximum Achievable Matmul FLOPS table)"
                )
            ),
        ]
        | None
    ) = None
    compute_capability: (
        Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,2}\.[0-9]\Z", description="CUDA sm")] | None
    ) = None
    interconnect: Annotated[
        Annotated[str, msgspec.Meta(max_length=200)],
        msgspec.Meta(
            description="GPU-to-GPU link within a node (nvlink4, infinity-fabric, pcie, ...)"
        ),
    ] = "pcie"
    interconnect_bandwidth_bytes_per_s: Annotated[
        Bandwidth,
        msgspec.Meta(
            description="GPU-to-GPU bandwidth per GPU used for collectives, bytes/s (decimal)"
        ),
    ] = 32e9
    max_gpus_per_node: Annotated[
        Annotated[int, msgspec.Meta(ge=1, le=1024)],
        msgspec.Meta(description="Most GPUs one node holds (count)"),
    ] = 8
    tdp_watts: Annotated[Watts, msgspec.Meta(description="Board power per GPU, W")] | None = None
    price_per_hour_usd: (
        Annotated[UsdPerHour, msgspec.Meta(description="List price per GPU-hour, USD")] | None
    ) = None
    sources: Annotated[
        Annotated[
            list[Annotated[str, msgspec.Meta(max_length=1000)]],
            # Litestar 2.25 leaves item constraints out of the OpenAPI; state them for the list.
            msgspec.Meta(
                max_length=50,
                extra_json_schema={"extra": {"items": {"type": "string", "maxLength": 1000}}},
            ),
        ],
        msgspec.Meta(description="URLs of the datasheets the figures come from"),
    ] = msgspec.field(default_factory=list)
    verified: Annotated[
        bool, msgspec.Meta(description="Whether the figures were checked against their sources")
    ] = False
    notes: Annotated[
        Annotated[str, msgspec.Meta(max_length=5000)],
        msgspec.Meta(description="Free text: caveats, memory and price notes"),
    ] = ""


class GpuCreate(GpuFields, frozen=True, kw_only=True):
    id: Annotated[GPU_ID, msgspec.Meta(description="Catalog GPU id: lower case, digits, . _ -")]


class GpuReplace(GpuFields, frozen=True, kw_only=True):
    """Replaces every field; ``version``, when given, must match (409 otherwise)."""

    version: (
        Annotated[
            Version,
            msgspec.Meta(
                description="Row version being replaced (409 when stale); or send If-Match"
            ),
        ]
        | None
    ) = None


class GpuOut(GpuFields, frozen=True, kw_only=True):
    id: Annotated[str, msgspec.Meta(description="Catalog GPU id")]
    origin: Annotated[str, msgspec.Meta(description="Who wrote the row: seed, operator or hub")]
    version: Annotated[
        int, msgspec.Meta(description="Row version; send it (or If-Match) to replace")
    ]
    created_at: Annotated[dt.datetime, msgspec.Meta(description="When the row was created (UTC)")]
    updated_at: Annotated[dt.datetime, msgspec.Meta(description="When the row last changed (UTC)")]


class GpuPage(msgspec.Struct, frozen=True, kw_only=True):
    items: Annotated[list[GpuOut], msgspec.Meta(description="GPUs of this page, by id")]
    total: Annotated[int, msgspec.Meta(description="Rows matching the filters, all pages (count)")]
    limit: Annotated[int, msgspec.Meta(description="Most rows per page, as asked (count)")]
    offset: Annotated[int, msgspec.Meta(description="Rows skipped before this page (count)")]


class ModelCreate(msgspec.Struct, frozen=True, kw_only=True):
    id: Annotated[REPO_ID, msgspec.Meta(description="Hugging Face repo id (org/name)")]
    config: Annotated[dict[str, Any], msgspec.Meta(description="The model's config.json")]
    notes: Annotated[
        Annotated[str, msgspec.Meta(max_length=5000)],
        msgspec.Meta(description="Free text: sources and caveats"),
    ] = ""


class ModelReplace(msgspec.Struct, frozen=True, kw_only=True):
    config: Annotated[dict[str, Any], msgspec.Meta(description="The model's new config.json")]
    notes: Annotated[
        Annotated[str, msgspec.Meta(max_length=5000)],
        msgspec.Meta(description="Free text: sources and caveats"),
    ] = ""
    version: (
        Annotated[
            Version,
            msgspec.Meta(
                description="Row version being replaced (409 when stale); or send If-Match"
            ),
        ]
        | None
    ) = None


class ModelSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: Annotated[str, msgspec.Meta(description="Hugging Face repo id (org/name)")]
    model_type: Annotated[
        str, msgspec.Meta(description="config.json model_type (llama, qwen3_moe, ...)")
    ]
    total_params: Annotated[
        int, msgspec.Meta(description="Parameters, all experts counted (count)")
    ]
    active_params: Annotated[int, msgspec.Meta(description="Parameters used per token (count)")]
    revision: (
        Annotated[
            str,
            msgspec.Meta(description="Hub commit the config was read at; null: seed or operator"),
        ]
        | None
    )
    quantization: (
        Annotated[
            str,
            msgspec.Meta(
                description="Checkpoint quantization method (fp8, mxfp4, awq, ...); null: none"
            ),
        ]
        | None
    )
    gated: Annotated[
        bool, msgspec.Meta(description="Whether the Hub repo needs accepting a licence")
    ]
    hub_safetensors_total: (
        Annotated[
            int,
            msgspec.Meta(description="Parameters the Hub's safetensors metadata counts (count)"),
        ]
        | None
    )
    published_total_params: (
        Annotated[int, msgspec.Meta(description="Parameters the model card publishes (count)")]
        | None
    )
    parameter_check: (
        Annotated[
            str,
            msgspec.Meta(description="How total_params compares with the Hub and published counts"),
        ]
        | None
    )
    origin: Annotated[str, msgspec.Meta(description="Who wrote the row: seed, operator or hub")]
    version: Annotated[
        int, msgspec.Meta(description="Row version; send it (or If-Match) to replace")
    ]
    notes: Annotated[str, msgspec.Meta(description="Free text: sources and caveats")]
    created_at: Annotated[dt.datetime, msgspec.Meta(description="When the row was created (UTC)")]
    updated_at: Annotated[dt.datetime, msgspec.Meta(description="When the row last changed (UTC)")]
    aliases: Annotated[
        list[str],
        msgspec.Meta(
            description="Other names that resolve to this model (from its catalog file)",
            examples=[["meta-llama/Meta-Llama-3.1-8B"]],
        ),
    ] = []


class ModelOut(ModelSummary, frozen=True, kw_only=True):
    config: Annotated[dict[str, Any], msgspec.Meta(description="The stored config.json")]
    architecture: Annotated[
        Architecture, msgspec.Meta(description="The config normalised to what capplan models")
    ]


class ModelPage(msgspec.Struct, frozen=True, kw_only=True):
    items: Annotated[list[ModelSummary], msgspec.Meta(description="Models of this page, by id")]
    total: Annotated[int, msgspec.Meta(description="Rows matching the filters, all pages (count)")]
    limit: Annotated[int, msgspec.Meta(description="Most rows per page, as asked (count)")]
    offset: Annotated[int, msgspec.Meta(description="Rows skipped before this page (count)")]
