"""Request and response bodies of the computing endpoints (/v1/inspect, max-batch, latency, plan).

Field names are part of the contract. Bytes are integers; times are milliseconds;
throughput is tokens per second. Numeric inputs are bounded so no request computes for long.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

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
    WEIGHT_EXECUTION,
    Configuration,
    Rejection,
)

WeightDtype = Literal["auto", "fp32", "bf16", "fp16", "fp8", "int8", "int4", "mxfp4", "nvfp4"]
KvDtype = Literal["auto", "bf16", "fp16", "fp8"]
Tokens = Annotated[int, msgspec.Meta(ge=1, le=10_000_000, description="tokens")]
Batch = Annotated[int, msgspec.Meta(ge=1, le=65_536)]
Degree = Annotated[int, msgspec.Meta(ge=1, le=64)]
Utilization = Annotated[float, msgspec.Meta(gt=0, le=1)]
GpuId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
#: Longest model id a request may name. A Hugging Face repo id is at most 96 characters for
#: owner and name together, and a catalog id at most 200 (``REPO_ID`` in catalog.py): no real
#: id comes near, and an overlong one is a 400 naming its field before any lookup (a
#: megabyte id once stalled the event loop while near names were searched for it).
MODEL_ID_MAX_LENGTH = 200
ModelId = Annotated[str, msgspec.Meta(min_length=1, max_length=MODEL_ID_MAX_LENGTH)]
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
# Request fields several questions share, described once (max-batch, latency, plan, frontier).
CatalogGpu = Annotated[GpuId, msgspec.Meta(description="Catalog GPU id (GET /v1/gpus lists them)")]
TensorParallel = Annotated[
    Degree,
    msgspec.Meta(description="Tensor-parallel degree: GPUs each layer's weights are split across"),
]
PipelineParallel = Annotated[
    Degree,
    msgspec.Meta(
        description="Pipeline-parallel degree: GPUs the layers are split across in stages"
    ),
]
WeightPrecision = Annotated[
    WeightDtype,
    msgspec.Meta(
        description=(
            "Weight precision; auto: the checkpoint's own (its quantization, else its torch_dtype"
            " as vLLM's --dtype auto serves it on the GPU: bf16 as fp16 on a GPU without bf16,"
            " fp32 downcast to 16 bit)"
        )
    ),
]
KvPrecision = Annotated[
    KvDtype,
    msgspec.Meta(
        description=(
            "KV cache precision; auto: the model dtype the deployment runs in (fp16 weights"
            " asked for, or a bf16 checkpoint on a GPU without bf16, cache in fp16)"
        )
    ),
]
ServingEngine = Annotated[
    EngineName,
    msgspec.Meta(description="Serving engine profile; default: the newest vLLM profile"),
]

# Litestar 2.25 drops falsy bounds of ``X | None`` fields and the constraints of list items and
# union arms from the OpenAPI. ``extra`` restates what the first two lose; a model reference is
# any string (an id that is not in the catalog is a 404, whatever its length).
Milliseconds = Annotated[
    float, msgspec.Meta(gt=0, le=3_600_000, extra_json_schema={"extra": {"exclusive_minimum": 0.0}})
]


EXPERT_PARALLEL = (
    "MoE only: experts spread whole over the replica's tensor_parallel GPUs (EP degree = "
    "tensor_parallel; vLLM --enable-expert-parallel puts EP over TP x DP, so ask "
    "tensor_parallel = TP x DP with attention_data_parallel). Each GPU holds ceil(E/N) whole "
    "experts instead of 1/N of each; every MoE layer swaps its all-reduce for a dispatch and "
    "a combine all-to-all over the interconnect. 400 for a dense model or N above the experts."
)
ATTENTION_DATA_PARALLEL = (
    "Attention data parallelism (vLLM --data-parallel-size with expert parallelism, SGLang "
    "--enable-dp-attention, TensorRT-LLM attention DP): each of the tensor_parallel GPUs runs "
    "attention for its share of the sequences with the whole attention weights (held and read "
    "by every GPU), so the attention all-reduce goes away. Each GPU keeps its own "
    "sequences' KV cache unsharded (every KV head, or an MLA model's whole latent): the "
    "group holds tensor_parallel times what one GPU holds, one sequence at most what one "
    "GPU holds."
)

MmItemsPerPrompt = Annotated[
    int,
    msgspec.Meta(
        ge=0,
        le=1024,
        extra_json_schema={"extra": {"minimum": 0}},  # restated: Litestar drops a falsy bound
        description="vLLM --limit-mm-per-prompt: multimodal items (images) per prompt, which "
        "sizes the encoder cache of vLLM's start-up profile run (its largest items x "
        "embedding rows x width). 0 is text-only (vLLM --language-model-only): the vision "
        "tower is not built, so neither its weights nor an encoder cache take memory. "
        "Default: vLLM's (its encoder budget decides the items profiled).",
    ),
]

# At least one request in 11.6 days: a denormal rate (5e-324) shared between replicas
# underflowed to 0 and made /v1/plan a 500 (found by `make fuzz`).
RequestsPerSecond = Annotated[float, msgspec.Meta(ge=1e-6, le=1_000_000)]


MaxNumSeqs = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        le=65_536,
        description="Sequences running at once (vLLM --max-num-seqs, SGLang "
        "--max-running-requests, TensorRT-LLM --max_batch_size): caps max_batch and, "
        "in vLLM, sizes the sampler warm-up. Default: the engine's for this GPU (vLLM "
        "V1 `vllm serve`: 1024 on >= 70 GiB non-A100 GPUs, else 256; vLLM V0: 256; "
        "SGLang: from its token pool, 2048-4096; TensorRT-LLM: 2048), which caps "
        "max_batch too (binding_constraint max_num_seqs).",
    ),
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
                "--max-num-batched-tokens, TensorRT-LLM --max_num_tokens, SGLang "
                "--chunked-prefill-size (the step budget only: SGLang's memory does not "
                "depend on it). Default: the engine's for this GPU (vLLM V1 `vllm serve`: "
                "8192 on >= 70 GiB non-A100 GPUs, else 2048).",
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
    mm_items_per_prompt: MmItemsPerPrompt | None = None
    scheduler_recv_interval: (
        Annotated[
            int,
            msgspec.Meta(
                ge=1,
                le=1000,
                description="SGLang --scheduler-recv-interval: decode steps between the "
                "scheduler's looks for new requests while it only decodes. A request arriving "
                "at a busy server waits half of them on average before its prompt is "
                "scheduled (ttft_ms); a prompt step counts 1000, so the scheduler looks right "
                "after one (hence at most 1000). No memory effect. Default 1: every step.",
            ),
        ]
        | None
    ) = None


class InlineModel(msgspec.Struct, frozen=True, kw_only=True):
    """A model not in the catalog: its Hugging Face config.json, inline."""

    hf_config: Annotated[
        dict[str, Any],
        msgspec.Meta(description="The model's Hugging Face config.json, as a JSON object"),
    ]


ModelRef = ModelId | InlineModel
# The model every question names, described once (inspect, max-batch, latency, plan, frontier).
ModelQuestion = Annotated[
    ModelRef,
    msgspec.Meta(
        description=(
            "Catalog model id (Hugging Face repo id, or one of its catalog aliases; any letter "
            'case) or {"hf_config": config.json}'
        ),
        # Litestar drops the id's length bounds from the union's arms; restated here.
        extra_json_schema={
            "extra": {
                "oneOf": [
                    {"type": "string", "minLength": 1, "maxLength": MODEL_ID_MAX_LENGTH},
                    {"$ref": "#/components/schemas/InlineModel"},
                ]
            }
        },
    ),
]


class InspectRequest(msgspec.Struct, frozen=True, kw_only=True):
    model: ModelQuestion
    kv_cache_dtype: KvPrecision = "auto"


class ParametersOut(msgspec.Struct, frozen=True, kw_only=True):
    total: Annotated[
        int, msgspec.Meta(description="Parameters in the model, all experts counted (count)")
    ]
    active: Annotated[
        int,
        msgspec.Meta(
            description=(
                "Parameters used per token: routed experts counted at experts_per_token (count)"
            )
        ),
    ]
    non_embedding: Annotated[
        int,
        msgspec.Meta(description="Parameters outside the token and position embeddings (count)"),
    ]
    breakdown: Annotated[
        ParameterBreakdown, msgspec.Meta(description="Parameters by part of the model (counts)")
    ]


class KvCacheOut(msgspec.Struct, frozen=True, kw_only=True):
    dtype: Annotated[str, msgspec.Meta(description="KV cache precision the sizes are in")]
    bytes_per_token: Annotated[
        int,
        msgspec.Meta(
            description=(
                "KV cache bytes one token takes across all layers, whole model (divide by "
                "tensor_parallel for per GPU)"
            )
        ),
    ]
    per_layer_kind: Annotated[
        list[KvLayerGroup],
        msgspec.Meta(
            description=(
                "KV cache per group of layers of one attention kind (full, sliding window, ...)"
            )
        ),
    ]


class InspectResponse(msgspec.Struct, frozen=True, kw_only=True):
    model: Annotated[
        str,
        msgspec.Meta(
            description="The catalog id answered for (an alias resolved), or 'inline hf_config'"
        ),
    ]
    architecture: Annotated[
        Architecture, msgspec.Meta(description="The config normalised to what capplan models")
    ]
    parameters: Annotated[
        ParametersOut, msgspec.Meta(description="Exact parameter counts from the architecture")
    ]
    kv_cache: Annotated[
        KvCacheOut, msgspec.Meta(description="KV cache bytes per token at kv_cache_dtype")
    ]


class MaxBatchRequest(EngineSettings, frozen=True, kw_only=True):
    model: ModelQuestion
    gpu: CatalogGpu
    context_length: Annotated[
        Tokens,
        msgspec.Meta(description="Tokens per sequence (prompt + output) the batch must hold"),
    ]
    tensor_parallel: TensorParallel = 1
    pipeline_parallel: PipelineParallel = 1
    weight_dtype: WeightPrecision = "auto"
    kv_cache_dtype: KvPrecision = "auto"
    gpu_memory_utilization: Annotated[
        Utilization,
        msgspec.Meta(
            description=(
                "Share of each GPU's memory the engine may use (vLLM --gpu-memory-utilization), 0-1"
            )
        ),
    ] = 0.9
    max_num_seqs: MaxNumSeqs | None = None
    engine: ServingEngine | None = None
    # vLLM --max-model-len (drives the profile run); default: context_length.
    max_model_len: (
        Annotated[
            Tokens,
            msgspec.Meta(
                description=(
                    "vLLM --max-model-len in tokens (drives the profile run); default: "
                    "context_length"
                )
            ),
        ]
        | None
    ) = None
    expert_parallel: ExpertParallel = False
    attention_data_parallel: AttentionDataParallel = False


class MaxBatchResponse(msgspec.Struct, frozen=True, kw_only=True):
    fits: Annotated[
        bool,
        msgspec.Meta(
            description="Whether the weights and at least one sequence of context_length fit"
        ),
    ]
    max_batch: Annotated[
        int,
        msgspec.Meta(
            description="Sequences of context_length tokens that run at once (per replica)"
        ),
    ]
    kv_cache_tokens: Annotated[
        int,
        msgspec.Meta(
            description=(
                "Tokens the KV cache holds (per replica; each GPU holds its shard of every token)"
            )
        ),
    ]
    kv_cache_blocks: Annotated[
        int,
        msgspec.Meta(
            description=(
                "KV cache blocks (pages of block_size tokens) the engine allocates, per replica"
            )
        ),
    ]
    max_context_for_batch_1: Annotated[
        int, msgspec.Meta(description="Longest single sequence the KV cache holds, in tokens")
    ]
    memory: Annotated[
        MemoryBudget,
        msgspec.Meta(description="Memory per GPU, in bytes, as the engine divides it at start-up"),
    ]
    binding_constraint: Annotated[
        str,
        msgspec.Meta(
            description="What limits max_batch: kv_cache_memory, max_num_seqs (the sequence "
            "cap: max_num_seqs, else the engine's default for this GPU), weights_exceed_memory, "
            "model_max_context or max_model_len"
        ),
    ]
    reasons: Annotated[
        list[str], msgspec.Meta(description="Why it does not fit (empty when it fits)")
    ]
    weight_dtype: Annotated[
        str, msgspec.Meta(description="Weight precision the answer assumed (auto resolved)")
    ]
    kv_cache_dtype: Annotated[
        str, msgspec.Meta(description="KV cache precision the answer assumed (auto resolved)")
    ]
    engine: Annotated[
        str, msgspec.Meta(description="Engine profile the answer used (GET /v1/engines)")
    ]
    engine_version: Annotated[str, msgspec.Meta(description="That engine profile's version")] = ""
    # One sequence of context_length tokens, per GPU, as the engine's allocator pages it.
    kv_cache_bytes_per_sequence: Annotated[
        int,
        msgspec.Meta(
            description=(
                "Bytes of KV cache one sequence of context_length takes, per GPU, as the engine's"
                " allocator pages it"
            )
        ),
    ] = 0
    # Whole KV pages the engine can hand out, per GPU (what max_batch divides).
    kv_cache_pool_bytes: Annotated[
        int,
        msgspec.Meta(
            description=(
                "Bytes of whole KV pages the engine can hand out, per GPU (what max_batch divides)"
            )
        ),
    ] = 0
    provenance: Annotated[
        str,
        msgspec.Meta(
            description=(
                "How the figures were obtained (engine-model: the engine's start-up arithmetic)"
            )
        ),
    ] = "engine-model"
    # Where the weight figure came from: the checkpoint's safetensors headers (exact bytes
    # by dtype, Hub-imported models) or the config's shapes priced in their formats.
    weights_source: Annotated[
        Literal["checkpoint", "config"],
        msgspec.Meta(
            description=(
                "Where the weight bytes came from: checkpoint (the safetensors headers, exact) or"
                " config (shapes priced in their formats)"
            )
        ),
    ] = "config"


class LatencyRequest(EngineSettings, frozen=True, kw_only=True):
    model: ModelQuestion
    gpu: CatalogGpu
    batch_size: Annotated[
        Batch,
        msgspec.Meta(
            description="Requests in flight on one replica (count): concurrent users, each "
            "sending the next request when the last one ends (vllm bench serve "
            "--max-concurrency), the concurrency of a /v1/frontier point. At any step some "
            "are in prefill (or, past max_batch, waiting for a slot) and decode_batch of them "
            "decode."
        ),
    ]
    input_tokens: Annotated[Tokens, msgspec.Meta(description="Prompt tokens per sequence")]
    output_tokens: Annotated[Tokens, msgspec.Meta(description="Generated tokens per sequence")]
    tensor_parallel: TensorParallel = 1
    pipeline_parallel: PipelineParallel = 1
    weight_dtype: WeightPrecision = "auto"
    kv_cache_dtype: KvPrecision = "auto"
    max_num_seqs: MaxNumSeqs | None = None
    engine: ServingEngine | None = None
    prefix_cache_hit_rate: PrefixCacheHitRate = 0.0
    speculative: Speculative | None = None
    expert_parallel: ExpertParallel = False
    attention_data_parallel: AttentionDataParallel = False


class LatencyResponse(msgspec.Struct, frozen=True, kw_only=True):
    # Whether the weights and the batch's KV cache fit (the times assume they do), and why not.
    fits: Annotated[
        bool,
        msgspec.Meta(
            description=(
                "Whether the weights and the KV cache of batch_size sequences fit. When fewer "
                "fit, the times are the saturated replica's (decode_batch capped at what the "
                "KV cache holds, the other requests waiting for a slot: ttft_ms grows, "
                "output_tokens_per_s stays the saturation figure); when not even the weights "
                "or one sequence fit, the times assume they do"
            )
        ),
    ] = True
    reasons: Annotated[list[str], msgspec.Meta(description="Why not, when fits is false")] = (
        msgspec.field(default_factory=list)
    )
    ttft_ms: Annotated[float, msgspec.Meta(description=TTFT_MS)]
    tpot_ms: Annotated[float, msgspec.Meta(description=TPOT_MS)]
    e2e_ms: Annotated[
        float,
        msgspec.Meta(
            description=(
                "End-to-end time of one request in milliseconds: ttft_ms + (output_tokens - 1) x "
                "tpot_ms"
            )
        ),
    ]
    output_tokens_per_s: Annotated[
        float,
        msgspec.Meta(
            description="Generated tokens per second of all batch_size requests (one replica, "
            "steady state); at or past saturation the replica's most, /v1/frontier's "
            "max_output_tokens_per_s"
        ),
    ]
    decode_batch: Annotated[
        float,
        msgspec.Meta(
            description="Sequences decoding in a step at the steady state (an average, so "
            "fractional): batch_size less the requests in prefill or waiting for a slot, at "
            "most what the KV cache holds. The decode phase is a step of this many"
        ),
    ]
    saturated: Annotated[
        bool,
        msgspec.Meta(
            description="Whether batch_size is at or past the replica's saturation (the "
            "decode batch at its ceiling: max_batch or the prefill budget): more requests "
            "only wait longer"
        ),
    ]
    burst_ttft_ms: Annotated[float, msgspec.Meta(description=BURST_TTFT_MS)]
    prefill_bound: Annotated[
        str,
        msgspec.Meta(
            description="What bounds the prefill phase: compute, memory_bandwidth, communication "
            "or host (an engine that runs prompt steps eagerly, launching kernels slower than "
            "the GPU runs them)"
        ),
    ]
    decode_bound: Annotated[
        str,
        msgspec.Meta(
            description="What bounds the decode phase's step: compute, memory_bandwidth or "
            "communication"
        ),
    ]
    prefill: Annotated[
        Phase,
        msgspec.Meta(
            description="All batch_size prompts prefilled in one step, no decodes beside them "
            "(the cached prefix left out, a draft model's prefill in), its time split in "
            "milliseconds: the work burst_ttft_ms prices in chunks of the engine's step "
            "budget. ttft_ms is one prompt's chunks among the others' decodes, plus the wait"
        ),
    ]
    decode: Annotated[
        Phase,
        msgspec.Meta(
            description="One decode step of the steady state, per step not per token: "
            "decode_batch sequences (not batch_size), no prompt chunk, each verifying "
            "draft_tokens + 1 tokens with the proposer's passes under speculative decoding; "
            "its time split in milliseconds. tpot_ms is per output token: this step plus "
            "the stall of others' prompt chunks, over the tokens a step keeps per sequence "
            "(1, or the accepted tokens with speculative decoding)"
        ),
    ]
    weight_dtype: Annotated[
        str, msgspec.Meta(description="Weight precision the answer assumed (auto resolved)")
    ]
    kv_cache_dtype: Annotated[
        str, msgspec.Meta(description="KV cache precision the answer assumed (auto resolved)")
    ]
    assumptions: Annotated[
        Efficiency,
        msgspec.Meta(
            description="Efficiencies and overheads the times assume (calibrated or default)"
        ),
    ]
    calibrated: Annotated[
        bool,
        msgspec.Meta(
            description=(
                "Whether the efficiencies come from calibration against measurements for this "
                "GPU/engine"
            )
        ),
    ]
    confidence: Annotated[
        LatencyConfidence,
        msgspec.Meta(description="Each estimate with its provenance and expected range"),
    ]
    engine: Annotated[
        str, msgspec.Meta(description="Engine profile the answer used (GET /v1/engines)")
    ] = ""
    engine_version: Annotated[str, msgspec.Meta(description="That engine profile's version")] = ""
    # Where the weight figure came from: the checkpoint's safetensors headers or the config.
    weights_source: Annotated[
        Literal["checkpoint", "config"],
        msgspec.Meta(
            description=(
                "Where the weight bytes came from: checkpoint (the safetensors headers, exact) or"
                " config (shapes priced in their formats)"
            )
        ),
    ] = "config"
    weight_execution: Annotated[str | None, msgspec.Meta(description=WEIGHT_EXECUTION)] = None


TTFT_RANGE = (
    "Time to first token (milliseconds) with its range: the back-test band of the answer's "
    "engine kind (sglang, trtllm, vllm-v1) where it has enough serving sweeps of that "
    "engine, else the band of all engines (basis says which)"
)


class LatencyConfidence(msgspec.Struct, frozen=True, kw_only=True):
    """Each estimate with its provenance and the range the back-test says to expect."""

    ttft_ms: Annotated[Assessed, msgspec.Meta(description=TTFT_RANGE)]
    tpot_ms: Annotated[
        Assessed, msgspec.Meta(description="Time per output token (milliseconds) with its range")
    ]
    e2e_ms: Annotated[
        Assessed, msgspec.Meta(description="End-to-end time (milliseconds) with its range")
    ]
    output_tokens_per_s: Annotated[
        Assessed, msgspec.Meta(description="Throughput (tokens per second) with its range")
    ]


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
    keeps E = (1 − α^(k+1))/(1 − α) of them on average (Leviathan et al. 2023, eq. 1); TPOT
    is the verification step plus the proposer's k forward passes, over E. The proposer's
    weights and KV cache take memory (vLLM --speculative-config, docs.vllm.ai
    features/spec_decode)."""

    draft_tokens: Annotated[
        Annotated[int, msgspec.Meta(ge=1, le=16)],
        msgspec.Meta(description="Tokens the draft proposes per step (k)"),
    ]
    acceptance_rate: Annotated[
        Annotated[float, msgspec.Meta(ge=0, le=1)],
        msgspec.Meta(description="Probability each draft token is accepted (alpha), 0-1"),
    ]
    method: Annotated[
        Literal["ngram", "mtp", "draft_model"],
        msgspec.Meta(
            description="How drafts are proposed (vLLM speculative_config.method). ngram: "
            "prompt lookup, no model, no cost. mtp: the checkpoint's multi-token-prediction "
            "layer, run k times per step (one MTP layer and the LM head read per pass); its "
            "weights and one attention layer's KV per token take memory; 400 when the config "
            "declares no MTP layer. draft_model: the draft_model checkpoint at the same "
            "tensor-parallel degree, k decode passes per step plus its own prefill of each "
            "prompt; its weights and KV cache take memory."
        ),
    ] = "ngram"
    draft_model: (
        Annotated[
            ModelId,
            msgspec.Meta(
                description="Catalog model id of the draft (method draft_model only; 404 when "
                "unknown, 400 when its vocabulary differs from the model's)",
            ),
        ]
        | None
    ) = None


# Serving modifiers latency, frontier and the plan's workload share, described once.
PrefixCacheHitRate = Annotated[
    HitRate, msgspec.Meta(description="Share of each prompt already in the prefix cache, 0-1")
]
Speculative = Annotated[
    SpeculativeIn, msgspec.Meta(description="Speculative decoding settings; none: plain decoding")
]
ExpertParallel = Annotated[bool, msgspec.Meta(description=EXPERT_PARALLEL)]
AttentionDataParallel = Annotated[bool, msgspec.Meta(description=ATTENTION_DATA_PARALLEL)]


class WorkloadIn(msgspec.Struct, frozen=True, kw_only=True):
    input_tokens: Annotated[Tokens, msgspec.Meta(description="Prompt tokens per request")]
    output_tokens: Annotated[Tokens, msgspec.Meta(description="Generated tokens per request")]
    concurrency: Annotated[
        Batch, msgspec.Meta(description="Requests in flight at once (count)")
    ] = 1
    arrival_rate_per_s: (
        Annotated[
            RequestsPerSecond,
            msgspec.Meta(
                description=(
                    "Requests per second arriving (Poisson) for the queueing estimate (load) of "
                    "each configuration, whose replicas stay sized for concurrency; a replica it "
                    "saturates meets no SLO (meets_slo false). Not with requests_per_s (400): "
                    "that one sizes the replicas for the rate instead"
                )
            ),
        ]
        | None
    ) = None
    requests_per_s: (
        Annotated[
            RequestsPerSecond,
            msgspec.Meta(
                description="Target request rate. Replicas are added until each one's share is "
                "served at steady state below saturation (and within the SLO when one is given); "
                "ttft_ms and tpot_ms are then those at that rate, queueing included. Not with "
                "arrival_rate_per_s (400)."
            ),
        ]
        | None
    ) = None
    prefix_cache_hit_rate: PrefixCacheHitRate = 0.0
    speculative: Speculative | None = None


class SloIn(msgspec.Struct, frozen=True, kw_only=True):
    ttft_ms: (
        Annotated[
            Milliseconds, msgspec.Meta(description="Time-to-first-token target in milliseconds")
        ]
        | None
    ) = None
    tpot_ms: (
        Annotated[
            Milliseconds, msgspec.Meta(description="Time-per-output-token target in milliseconds")
        ]
        | None
    ) = None
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
            Annotated[
                list[GpuId],
                msgspec.Meta(
                    min_length=1,
                    max_length=100,
                    extra_json_schema={
                        "extra": {"items": {"type": "string", "minLength": 1, "maxLength": 64}}
                    },
                ),
            ],
            msgspec.Meta(
                description="Catalog GPU ids to consider (at least one); default: every catalog GPU"
            ),
        ]
        | None
    ) = None
    max_gpus: Annotated[
        Annotated[int, msgspec.Meta(ge=1, le=64)],
        msgspec.Meta(description="Most GPUs one configuration may use (all replicas together)"),
    ] = 16
    weight_dtypes: Annotated[
        Annotated[
            list[WeightDtype], msgspec.Meta(min_length=1, max_length=len(get_args(WeightDtype)))
        ],
        msgspec.Meta(
            description=(
                "Weight precisions to try (auto: the checkpoint's, plus natively run low "
                "precisions)"
            )
        ),
    ] = msgspec.field(default_factory=lambda: ["auto"])
    kv_cache_dtypes: Annotated[
        Annotated[list[KvDtype], msgspec.Meta(min_length=1, max_length=len(get_args(KvDtype)))],
        msgspec.Meta(description="KV cache precisions to try"),
    ] = msgspec.field(default_factory=lambda: ["auto"])
    gpu_memory_utilization: Annotated[
        Utilization, msgspec.Meta(description="Share of each GPU's memory the engine may use, 0-1")
    ] = 0.9
    disaggregated: Annotated[
        bool,
        msgspec.Meta(
            description="Also size separate prefill and decode pools for each layout "
            "(needs workload.requests_per_s); see configurations[].disaggregated. A "
            "configuration whose pools beat aggregated serving says serving: disaggregated "
            "and is ranked by the pools' figures."
        ),
    ] = False
    expert_parallel: Annotated[
        bool,
        msgspec.Meta(
            description="For an MoE model, also try each multi-GPU layout with expert "
            "parallelism, and with expert parallelism plus attention data parallelism "
            "(configurations[].expert_parallel, attention_data_parallel); the search-space "
            "size counts three layouts per TP x PP then. false: tensor parallelism only."
        ),
    ] = True


class PlanRequest(EngineSettings, frozen=True, kw_only=True):
    model: ModelQuestion
    workload: Annotated[
        WorkloadIn, msgspec.Meta(description="What the deployment serves: request shape and load")
    ]
    slo: (
        Annotated[
            SloIn,
            msgspec.Meta(
                description="Latency targets; none: every configuration meets it except one "
                "whose replicas workload.arrival_rate_per_s saturates (load.saturated)"
            ),
        ]
        | None
    ) = None
    constraints: (
        Annotated[
            ConstraintsIn,
            msgspec.Meta(description="Which GPUs, how many and which precisions to search"),
        ]
        | None
    ) = None
    objective: Annotated[
        Literal["cost", "latency", "throughput"],
        msgspec.Meta(
            description=(
                "Ranking: cost (USD per million output tokens), latency (e2e_ms) or throughput "
                "(output tokens/s), each of the arrangement a configuration recommends "
                "(configurations[].serving: the top-level figures, or disaggregated's)"
            )
        ),
    ] = "cost"
    max_num_seqs: MaxNumSeqs | None = None
    engine: ServingEngine | None = None
    # The answer's size (service/planning/lean.py): the best ``limit`` configurations after
    # dominated ones are pruned and duplicates merged; rejections counted by reason, each
    # one listed only with ``include_rejected: "all"``.
    limit: Annotated[
        Annotated[int, msgspec.Meta(ge=1, le=1000)],
        msgspec.Meta(description="Most configurations in the answer (count)"),
    ] = 10
    include_rejected: Annotated[
        Literal["summary", "all"],
        msgspec.Meta(description="summary: rejections counted by reason; all: each one listed too"),
    ] = "summary"
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
                # Litestar drops the value bounds of a dict from the OpenAPI; restated here
                # (on the outer schema, where JSON Schema applies them to an object instance).
                extra_json_schema={
                    "extra": {
                        "additionalProperties": {
                            "type": "number",
                            "minimum": 0,
                            "maximum": 100_000,
                        },
                        "propertyNames": {"minLength": 1, "maxLength": 64},
                    }
                },
            ),
        ]
        | None
    ) = None


class Load(msgspec.Struct, frozen=True, kw_only=True):
    """Queueing under the workload's arrival rate, per replica (M/D/1; see saturation.py).

    ``queue_wait_ms`` and ``ttft_with_queueing_ms`` are null when saturated (unbounded).
    """

    arrival_rate_per_s: Annotated[
        float, msgspec.Meta(description="Requests per second reaching each replica")
    ]
    service_rate_per_s: Annotated[
        float, msgspec.Meta(description="Requests per second one replica completes at its batch")
    ]
    utilisation: Annotated[
        float, msgspec.Meta(description="arrival / service rate, 0-1 (1 or more: saturated)")
    ]
    saturated: Annotated[
        bool,
        msgspec.Meta(description="Whether arrivals outpace service (queue grows without bound)"),
    ]
    queue_wait_ms: (
        Annotated[
            float,
            msgspec.Meta(
                description="Mean wait in the queue in milliseconds (M/D/1); null when saturated"
            ),
        ]
        | None
    )
    ttft_with_queueing_ms: (
        Annotated[
            float,
            msgspec.Meta(
                description="ttft_ms plus queue_wait_ms, in milliseconds; null when saturated"
            ),
        ]
        | None
    )


class ConfigurationConfidence(msgspec.Struct, frozen=True, kw_only=True):
    ttft_ms: Annotated[Assessed, msgspec.Meta(description=TTFT_RANGE)]
    tpot_ms: Annotated[
        Assessed, msgspec.Meta(description="Time per output token (milliseconds) with its range")
    ]
    output_tokens_per_s: Annotated[
        Assessed, msgspec.Meta(description="Throughput (tokens per second) with its range")
    ]


class PlannedConfiguration(Configuration, frozen=True, kw_only=True):
    """A ranked configuration with its confidence and, given an arrival rate, its load.

    The top-level figures (gpu_count, replicas, ttft_ms, tpot_ms, e2e_ms,
    output_tokens_per_s, cost_per_hour, cost_per_million_output_tokens, meets_slo, load,
    confidence) describe the aggregated arrangement. ``serving`` names the arrangement capplan
    recommends and ranks by: ``disaggregated`` exactly when disaggregated.beats_aggregated,
    then the disaggregated block's figures rank; else ``aggregated``."""

    calibrated: Annotated[
        bool,
        msgspec.Meta(
            description="Whether the efficiencies come from calibration for this GPU/engine"
        ),
    ]
    confidence: Annotated[
        ConfigurationConfidence,
        msgspec.Meta(
            description=(
                "Each top-level (aggregated) estimate with its provenance and expected range"
            )
        ),
    ]
    load: (
        Annotated[
            Load,
            msgspec.Meta(
                description=(
                    "Queueing at workload.arrival_rate_per_s, per replica of the aggregated "
                    "arrangement; null without a rate"
                )
            ),
        ]
        | None
    ) = None


class RejectionGroup(msgspec.Struct, frozen=True, kw_only=True):
    """Rejections for one kind of reason (its numbers replaced by ``#``), how many, one example."""

    reason: Annotated[str, msgspec.Meta(description="The reason with its numbers replaced by #")]
    count: Annotated[int, msgspec.Meta(description="Configurations rejected for it")]
    example: Annotated[str, msgspec.Meta(description="One such rejection, with its numbers")]
    gpus: Annotated[list[str], msgspec.Meta(description="GPU ids among them")]


class PlanResponse(msgspec.Struct, frozen=True, kw_only=True):
    """``configurations``: best first, at most the request's ``limit``; ``considered`` counts
    the feasible ones before pruning. ``rejected`` lists every rejection only when asked
    (``include_rejected: "all"``); ``rejections`` always counts them by reason."""

    model: Annotated[
        str,
        msgspec.Meta(
            description="The catalog id planned for (an alias resolved), or 'inline hf_config'"
        ),
    ]
    objective: Annotated[
        str,
        msgspec.Meta(
            description=(
                "The ranking used: cost (USD per million output tokens), latency or throughput, "
                "each of the arrangement a configuration recommends (configurations[].serving)"
            )
        ),
    ]
    configurations: Annotated[
        list[PlannedConfiguration],
        msgspec.Meta(
            description=(
                "Feasible configurations, best first (at most limit), each ranked by the "
                "arrangement it recommends (serving)"
            )
        ),
    ]
    rejected: Annotated[
        list[Rejection],
        msgspec.Meta(
            description=(
                "Every rejected configuration with its reason (only with include_rejected: all)"
            )
        ),
    ]
    engine: Annotated[
        str, msgspec.Meta(description="Engine profile the answer used (GET /v1/engines)")
    ] = ""
    engine_version: Annotated[str, msgspec.Meta(description="That engine profile's version")] = ""
    considered: Annotated[
        int, msgspec.Meta(description="Feasible configurations before pruning (count)")
    ] = 0
    pruned: Annotated[
        int, msgspec.Meta(description="Configurations dropped as dominated or duplicate (count)")
    ] = 0
    rejections: Annotated[
        list[RejectionGroup], msgspec.Meta(description="Rejections counted by reason")
    ] = msgspec.field(default_factory=list)
