"""Bodies of ``POST /v1/frontier`` (and the query of ``GET /v1/frontier.svg``)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from service.contract.schemas import (
    AttentionDataParallel,
    CatalogGpu,
    EngineSettings,
    ExpertParallel,
    KvPrecision,
    MaxNumSeqs,
    Milliseconds,
    ModelQuestion,
    PipelineParallel,
    PrefixCacheHitRate,
    ServingEngine,
    Speculative,
    TensorParallel,
    Tokens,
    WeightPrecision,
)
from service.domain.frontier import FrontierPoint
from service.domain.latency import Efficiency


class FrontierRequest(EngineSettings, frozen=True, kw_only=True):
    """One model on one deployment; the curve runs over concurrency 1 … saturation. The
    engine settings are ``/v1/latency``'s: each point is what it answers at that concurrency
    with the same settings (``max_num_seqs`` caps the batch, hence where the curve saturates;
    ``max_num_batched_tokens`` is the step budget)."""

    model: ModelQuestion
    gpu: CatalogGpu
    input_tokens: Annotated[Tokens, msgspec.Meta(description="Prompt tokens per request")]
    output_tokens: Annotated[Tokens, msgspec.Meta(description="Generated tokens per request")]
    tensor_parallel: TensorParallel = 1
    pipeline_parallel: PipelineParallel = 1
    weight_dtype: WeightPrecision = "auto"
    kv_cache_dtype: KvPrecision = "auto"
    max_num_seqs: MaxNumSeqs | None = None
    engine: ServingEngine | None = None
    slo_ttft_ms: (
        Annotated[
            Milliseconds, msgspec.Meta(description="Time-to-first-token target in milliseconds")
        ]
        | None
    ) = None
    slo_tpot_ms: (
        Annotated[
            Milliseconds, msgspec.Meta(description="Time-per-output-token target in milliseconds")
        ]
        | None
    ) = None
    prefix_cache_hit_rate: PrefixCacheHitRate = 0.0
    speculative: Speculative | None = None
    expert_parallel: ExpertParallel = False
    attention_data_parallel: AttentionDataParallel = False


class FrontierResponse(msgspec.Struct, frozen=True, kw_only=True):
    """Steady-state points (``ttft_ms`` as in /v1/plan: one request at that concurrency),
    the saturation point's throughput, and the best point meeting the SLO when one is given.
    ``fits`` is false (and ``points`` empty) when the weights or one sequence do not fit."""

    model: Annotated[
        str, msgspec.Meta(description="The catalog id answered for, or 'inline hf_config'")
    ]
    gpu: Annotated[str, msgspec.Meta(description="Catalog GPU id")]
    gpu_count: Annotated[
        int, msgspec.Meta(description="GPUs of one replica: tensor_parallel x pipeline_parallel")
    ]
    weight_dtype: Annotated[
        str, msgspec.Meta(description="Weight precision assumed (auto resolved)")
    ]
    kv_cache_dtype: Annotated[
        str, msgspec.Meta(description="KV cache precision assumed (auto resolved)")
    ]
    engine: Annotated[
        str, msgspec.Meta(description="Engine profile the answer used (GET /v1/engines)")
    ]
    engine_version: Annotated[str, msgspec.Meta(description="That engine profile's version")]
    fits: Annotated[bool, msgspec.Meta(description="Whether the weights and one sequence fit")]
    reasons: Annotated[list[str], msgspec.Meta(description="Why not, when fits is false")]
    max_batch: Annotated[
        int,
        msgspec.Meta(
            description="Most sequences one replica decodes at once: what the KV cache "
            "(and max_num_seqs) holds for sequences of input_tokens + output_tokens"
        ),
    ]
    step_tokens: Annotated[
        int,
        msgspec.Meta(description="Tokens per scheduler step (the engine's batched-token budget)"),
    ]
    points: Annotated[
        list[FrontierPoint], msgspec.Meta(description="The curve, concurrency 1 to saturation")
    ]
    max_output_tokens_per_s: Annotated[
        float,
        msgspec.Meta(
            description="Generated tokens per second at saturation (one replica): the most it "
            "delivers; /v1/latency answers this figure for any batch_size at or past "
            "saturation_concurrency"
        ),
    ]
    saturation_concurrency: Annotated[
        int,
        msgspec.Meta(
            description="Users (requests in flight, count) that keep the replica saturated, "
            "where throughput stops growing: those decoding plus those in prefill or waiting "
            "for a slot, so it can exceed max_batch (e.g. 82 users keep an 81-sequence "
            "batch full); more users only wait longer"
        ),
    ]
    saturation_limit: Annotated[
        str,
        msgspec.Meta(
            description="What stops the decode batch growing: max_batch (the KV cache or "
            "max_num_seqs holds no more sequences), prefill_budget (prompt chunks fill the "
            "step budget, step_tokens) or 'does not fit'"
        ),
    ]
    best_meeting_slo: (
        Annotated[
            FrontierPoint,
            msgspec.Meta(
                description="The highest-throughput point within the SLO; null when none or no SLO"
            ),
        ]
        | None
    )
    slo_ttft_ms: (
        Annotated[
            float,
            msgspec.Meta(description="The time-to-first-token target, milliseconds (null: none)"),
        ]
        | None
    )
    slo_tpot_ms: (
        Annotated[
            float,
            msgspec.Meta(description="The time-per-output-token target, milliseconds (null: none)"),
        ]
        | None
    )
    calibrated: Annotated[
        bool,
        msgspec.Meta(
            description="Whether the efficiencies come from calibration for this GPU/engine"
        ),
    ]
    assumptions: Annotated[
        Efficiency, msgspec.Meta(description="Efficiencies and overheads assumed")
    ]
