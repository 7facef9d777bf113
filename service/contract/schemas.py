"""Request and response bodies of the computing endpoints (/v1/inspect, max-batch, latency, plan).

Field names are part of the contract. Bytes are integers; times are milliseconds;
throughput is tokens per second. Numeric inputs are bounded so no request computes for long.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from service.domain.architecture import Architecture
from service.domain.capacity import MemoryBudget
from service.domain.confidence import Assessed
from service.domain.kv_cache import KvLayerGroup
from service.domain.latency import Efficiency, Phase
from service.domain.parameters import ParameterBreakdown
from service.domain.planner import (
    BURST_TTFT_MS,
    TPOT_MS,
    TTFT_MS,
    Configuration,
    Rejection,
)

WeightDtype = Literal["auto", "fp32", "bf16", "fp16", "fp8", "int8", "int4", "mxfp4"]
KvDtype = Literal["auto", "bf16", "fp16", "fp8"]
Tokens = Annotated[int, msgspec.Meta(ge=1, le=10_000_000, description="tokens")]
Batch = Annotated[int, msgspec.Meta(ge=1, le=65_536)]
Degree = Annotated[int, msgspec.Meta(ge=1, le=64)]
Utilization = Annotated[float, msgspec.Meta(gt=0, le=1)]
GpuId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
EngineName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        description=(
            'Serving engine: "vllm", "vllm==0.19.0", "sglang", "sglang==0.4.6", "trtllm"; a '
            "name alone is that engine's newest profile (GET /v1/engines lists them). "
            "Default: the newest vLLM profile."
        ),
    ),
]
# Litestar 2.25 drops falsy bounds of ``X | None`` fields and the constraints of list items and
# union arms from the OpenAPI. ``extra`` restates what the first two lose; a model reference is
# any string (an id that is not in the catalog is a 404, whatever its length).
Milliseconds = Annotated[
    float, msgspec.Meta(gt=0, le=3_600_000, extra_json_schema={"extra": {"exclusive_minimum": 0.0}})
]


RequestsPerSecond = Annotated[
    float,
    msgspec.Meta(gt=0, le=1_000_000, extra_json_schema={"extra": {"exclusive_minimum": 0.0}}),
]


class EngineSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The engine's own memory and scheduler knobs; unset means the engine's default for the
    GPU. Setting one the chosen engine does not have is a 400 naming it and the engine."""

    max_num_batched_tokens: (
        Annotated[
            int,
            msgspec.Meta(
                ge=1,
                le=10_000_000,
                description="Tokens per scheduler step and in the start-up profile run: vLLM "
                "--max-num-batched-tokens, TensorRT-LLM --max_num_tokens. Default: the "
                "engine's for this GPU (vLLM V1 `vllm serve`: 8192 on >= 70 GiB non-A100 "
                "GPUs, else 2048).",
            ),
        ]
        | None
    ) = None
    kv_cache_memory_bytes: (
        Annotated[
            int,
            msgspec.Meta(
                ge=1,
                le=2**50,
                description="vLLM V1 --kv-cache-memory-bytes: the KV cache per GPU, in bytes, "
                "instead of what gpu_memory_utilization leaves after profiling.",
            ),
        ]
        | None
    ) = None
    block_size_tokens: (
        Annotated[
            int,
            msgspec.Meta(
                ge=1,
                le=4096,
                description="vLLM --block-size: tokens per KV cache block. Default: the "
                "engine's (16 on CUDA).",
            ),
        ]
        | None
    ) = None
    enforce_eager: Annotated[
        bool | None,
        msgspec.Meta(
            description="vLLM --enforce-eager: no CUDA graphs (from vLLM 0.21 their "
            "estimated memory is then not subtracted from the KV cache)."
        ),
    ] = None
    mem_fraction_static: (
        Annotated[
            float,
            msgspec.Meta(
                gt=0,
                le=1,
                extra_json_schema={"extra": {"exclusive_minimum": 0.0}},
                description="SGLang --mem-fraction-static: the share of the GPU for weights "
                "and KV pool. Default: SGLang's by GPU memory and tensor parallelism.",
            ),
        ]
        | None
    ) = None
    kv_cache_free_gpu_mem_fraction: (
        Annotated[
            float,
            msgspec.Meta(
                gt=0,
                le=1,
                extra_json_schema={"extra": {"exclusive_minimum": 0.0}},
                description="TensorRT-LLM --kv_cache_free_gpu_memory_fraction "
                "(KvCacheConfig.free_gpu_memory_fraction): the share of the memory free after "
                "loading that the KV cache takes. Default 0.9.",
            ),
        ]
        | None
    ) = None


class InlineModel(msgspec.Struct, frozen=True, kw_only=True):
    """A model not in the catalog: its Hugging Face config.json, inline."""

    hf_config: dict[str, Any]


ModelRef = str | InlineModel


class InspectRequest(msgspec.Struct, frozen=True, kw_only=True):
    model: ModelRef
    kv_cache_dtype: KvDtype = "auto"


class ParametersOut(msgspec.Struct, frozen=True, kw_only=True):
    total: int
    active: int
    non_embedding: int
    breakdown: ParameterBreakdown


class KvCacheOut(msgspec.Struct, frozen=True, kw_only=True):
    dtype: str
    bytes_per_token: int
    per_layer_kind: list[KvLayerGroup]


class InspectResponse(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    architecture: Architecture
    parameters: ParametersOut
    kv_cache: KvCacheOut


class MaxBatchRequest(EngineSettings, frozen=True, kw_only=True):
    model: ModelRef
    gpu: GpuId
    context_length: Tokens
    tensor_parallel: Degree = 1
    pipeline_parallel: Degree = 1
    weight_dtype: WeightDtype = "auto"
    kv_cache_dtype: KvDtype = "auto"
    gpu_memory_utilization: Utilization = 0.9
    max_num_seqs: (
        Annotated[
            int,
            msgspec.Meta(
                ge=1,
                le=65_536,
                description="Sequences running at once (vLLM --max-num-seqs, SGLang "
                "--max-running-requests, TensorRT-LLM --max_batch_size): caps max_batch and, "
                "in vLLM, sizes the sampler warm-up. Default: the engine's for this GPU.",
            ),
        ]
        | None
    ) = None
    engine: EngineName | None = None
    # vLLM --max-model-len (drives the profile run); default: context_length.
    max_model_len: Tokens | None = None


class MaxBatchResponse(msgspec.Struct, frozen=True, kw_only=True):
    fits: bool
    max_batch: int
    kv_cache_tokens: int
    kv_cache_blocks: int
    max_context_for_batch_1: int
    memory: MemoryBudget
    binding_constraint: str
    reasons: list[str]
    weight_dtype: str
    kv_cache_dtype: str
    engine: str
    engine_version: str = ""
    # One sequence of context_length tokens, per GPU, as the engine's allocator pages it.
    kv_cache_bytes_per_sequence: int = 0
    # Whole KV pages the engine can hand out, per GPU (what max_batch divides).
    kv_cache_pool_bytes: int = 0
    provenance: str = "engine-model"


class LatencyRequest(EngineSettings, frozen=True, kw_only=True):
    model: ModelRef
    gpu: GpuId
    batch_size: Batch
    input_tokens: Tokens
    output_tokens: Tokens
    tensor_parallel: Degree = 1
    pipeline_parallel: Degree = 1
    weight_dtype: WeightDtype = "auto"
    kv_cache_dtype: KvDtype = "auto"
    engine: EngineName | None = None


class LatencyResponse(msgspec.Struct, frozen=True, kw_only=True):
    # Whether the weights and the batch's KV cache fit (the times assume they do), and why not.
    fits: bool = True
    reasons: list[str] = msgspec.field(default_factory=list)
    ttft_ms: Annotated[float, msgspec.Meta(description=TTFT_MS)]
    tpot_ms: Annotated[float, msgspec.Meta(description=TPOT_MS)]
    e2e_ms: float
    output_tokens_per_s: float
    burst_ttft_ms: Annotated[float, msgspec.Meta(description=BURST_TTFT_MS)]
    prefill_bound: str
    decode_bound: str
    prefill: Phase
    decode: Phase
    weight_dtype: str
    kv_cache_dtype: str
    assumptions: Efficiency
    calibrated: bool
    confidence: LatencyConfidence
    engine: str = ""
    engine_version: str = ""


class LatencyConfidence(msgspec.Struct, frozen=True, kw_only=True):
    """Each estimate with its provenance and the range the back-test says to expect."""

    ttft_ms: Assessed
    tpot_ms: Assessed
    e2e_ms: Assessed
    output_tokens_per_s: Assessed


HitRate = Annotated[
    float,
    msgspec.Meta(
        ge=0,
        lt=1,
        description="Share of each prompt already in the prefix cache (vLLM automatic prefix "
        "caching, SGLang RadixAttention): only the rest is computed, attending to the whole "
        "prompt. The KV cache still holds every token.",
    ),
]


class SpeculativeIn(msgspec.Struct, frozen=True, kw_only=True):
    """Speculative decoding: each step verifies ``draft_tokens`` + 1 tokens per sequence and
    keeps (1 − α^(k+1))/(1 − α) of them on average (Leviathan et al. 2023); TPOT is the
    verification step over that. The draft model's own cost is not priced."""

    draft_tokens: Annotated[int, msgspec.Meta(ge=1, le=16)]
    acceptance_rate: Annotated[float, msgspec.Meta(ge=0, le=1)]


class WorkloadIn(msgspec.Struct, frozen=True, kw_only=True):
    input_tokens: Tokens
    output_tokens: Tokens
    concurrency: Batch = 1
    arrival_rate_per_s: RequestsPerSecond | None = None
    requests_per_s: Annotated[
        RequestsPerSecond | None,
        msgspec.Meta(
            description="Target request rate. Replicas are added until each one's share is "
            "served at steady state below saturation (and within the SLO when one is given); "
            "ttft_ms and tpot_ms are then those at that rate."
        ),
    ] = None
    prefix_cache_hit_rate: HitRate = 0.0
    speculative: SpeculativeIn | None = None


class SloIn(msgspec.Struct, frozen=True, kw_only=True):
    ttft_ms: Milliseconds | None = None
    tpot_ms: Milliseconds | None = None
    burst: Annotated[
        bool,
        msgspec.Meta(
            description="Judge ttft_ms against burst_ttft_ms (all concurrent prompts arriving "
            "at once) instead of the steady-state ttft_ms (the default)."
        ),
    ] = False


class ConstraintsIn(msgspec.Struct, frozen=True, kw_only=True):
    gpus: (
        Annotated[
            list[GpuId],
            msgspec.Meta(
                max_length=100,
                extra_json_schema={
                    "extra": {"items": {"type": "string", "minLength": 1, "maxLength": 64}}
                },
            ),
        ]
        | None
    ) = None
    max_gpus: Annotated[int, msgspec.Meta(ge=1, le=64)] = 16
    weight_dtypes: Annotated[list[WeightDtype], msgspec.Meta(min_length=1, max_length=8)] = (
        msgspec.field(default_factory=lambda: ["auto"])
    )
    kv_cache_dtypes: Annotated[list[KvDtype], msgspec.Meta(min_length=1, max_length=4)] = (
        msgspec.field(default_factory=lambda: ["auto"])
    )
    gpu_memory_utilization: Utilization = 0.9
    disaggregated: Annotated[
        bool,
        msgspec.Meta(
            description="Also size separate prefill and decode pools for each layout "
            "(needs workload.requests_per_s); see configurations[].disaggregated."
        ),
    ] = False


class PlanRequest(EngineSettings, frozen=True, kw_only=True):
    model: ModelRef
    workload: WorkloadIn
    slo: SloIn | None = None
    constraints: ConstraintsIn | None = None
    objective: Literal["cost", "latency", "throughput"] = "cost"
    engine: EngineName | None = None
    # The answer's size (service/planning/lean.py): the best ``limit`` configurations after
    # dominated ones are pruned and duplicates merged; rejections counted by reason, each
    # one listed only with ``include_rejected: "all"``.
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 10
    include_rejected: Literal["summary", "all"] = "summary"
    # USD per GPU-hour by catalog GPU id, for this question: what your contract pays, over the
    # catalog's list prices (and the deployment's CAPPLAN_PRICES_FILE). Costs follow from it.
    prices: (
        Annotated[
            dict[GpuId, Annotated[float, msgspec.Meta(ge=0, le=100_000)]],
            msgspec.Meta(
                max_length=100,
                description=(
                    "USD per GPU-hour by catalog GPU id, for this question, over the catalog's "
                    "list prices and the deployment's CAPPLAN_PRICES_FILE; an id the catalog "
                    "lacks is a 404 with suggestions"
                ),
                examples=[{"h100-sxm": 2.1, "l4": 0.55}],
            ),
        ]
        | None
    ) = None


class Load(msgspec.Struct, frozen=True, kw_only=True):
    """Queueing under the workload's arrival rate, per replica (M/D/1; see saturation.py).

    ``queue_wait_ms`` and ``ttft_with_queueing_ms`` are null when saturated (unbounded).
    """

    arrival_rate_per_s: float
    service_rate_per_s: float
    utilisation: float
    saturated: bool
    queue_wait_ms: float | None
    ttft_with_queueing_ms: float | None


class ConfigurationConfidence(msgspec.Struct, frozen=True, kw_only=True):
    ttft_ms: Assessed
    tpot_ms: Assessed
    output_tokens_per_s: Assessed


class PlannedConfiguration(Configuration, frozen=True, kw_only=True):
    """A ranked configuration with its confidence and, given an arrival rate, its load."""

    calibrated: bool
    confidence: ConfigurationConfidence
    load: Load | None = None


class RejectionGroup(msgspec.Struct, frozen=True, kw_only=True):
    """Rejections for one kind of reason (its numbers replaced by ``#``), how many, one example."""

    reason: str
    count: int
    example: str
    gpus: list[str]


class PlanResponse(msgspec.Struct, frozen=True, kw_only=True):
    """``configurations``: best first, at most the request's ``limit``; ``considered`` counts
    the feasible ones before pruning. ``rejected`` lists every rejection only when asked
    (``include_rejected: "all"``); ``rejections`` always counts them by reason."""

    model: str
    objective: str
    configurations: list[PlannedConfiguration]
    rejected: list[Rejection]
    engine: str = ""
    engine_version: str = ""
    considered: int = 0
    pruned: int = 0
    rejections: list[RejectionGroup] = msgspec.field(default_factory=list)
