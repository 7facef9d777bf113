"""The shape of the seed catalog files, checked field by field on decode.

``catalog/gpus.yaml`` holds ``{gpus: [GpuSeed, ...]}``; each ``catalog/models/<org>--<name>.yaml``
holds one :class:`ModelSeed`. Unknown keys are rejected so that a typo is not silently lost.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

Text = Annotated[str, msgspec.Meta(min_length=1)]
Positive = Annotated[float, msgspec.Meta(gt=0)]
NonNegative = Annotated[float, msgspec.Meta(ge=0)]
PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
ComputeCapability = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,2}\.[0-9]$")]
MemoryBasis = Literal["runtime", "nvml", "nominal"]

GpuId = Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
RepoId = Annotated[
    str, msgspec.Meta(max_length=200, pattern=r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
]
#: Another name people type for a model (``llama3.1:8b``, ``Llama-3.1-8B-Instruct``).
Alias = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]


class GpuSeed(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One entry of ``gpus.yaml``; units as in :class:`service.domain.gpu.GpuSpec`.

    ``memory_bytes`` is the runtime-reported total every calculation uses; ``memory_basis``
    says whether it is that (``runtime``), NVML's total (``nvml``) or the marketing capacity
    (``nominal``), and ``memory_source`` where it came from.
    """

    id: GpuId
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    vendor: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    memory_bytes: PositiveInt
    memory_basis: MemoryBasis = "nominal"
    memory_source: Text | None = None
    nominal_memory_gb: Positive | None = None
    memory_note: str | None = None
    memory_bandwidth_bytes_per_s: Positive
    dense_tflops_bf16: NonNegative
    dense_tflops_fp16: Positive
    dense_tflops_fp8: Positive | None = None
    dense_tops_int8: Positive | None = None
    dense_tflops_fp4: Positive | None = None
    dense_tflops_mxfp4: Positive | None = None
    achievable_tflops_bf16: Positive | None = None
    compute_capability: ComputeCapability | None = None
    interconnect: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    interconnect_bandwidth_bytes_per_s: Positive
    max_gpus_per_node: PositiveInt
    tdp_watts: Positive | None = None
    price_per_hour_usd: NonNegative | None = None
    price_note: str | None = None
    sources: list[Text]
    verified: bool
    notes: str | None = None


class ModelSeed(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One ``models/<org>--<name>.yaml`` file: a Hub ``config.json`` and where it came from.

    ``aliases`` are other names for the same architecture that resolve to ``repo_id``
    (matched ignoring case, punctuation and the org); no two models may share one.
    """

    repo_id: RepoId
    source: Text
    aliases: list[Alias] = []
    published_total_params: PositiveInt | None = None
    published_total_params_source: str | None = None
    notes: str | None = None
    config: dict[str, Any]


def model_file_stem(repo_id: str) -> str:
    """The file name (without suffix) a model's seed must have: ``org/name`` -> ``org--name``."""
    return repo_id.replace("/", "--")
