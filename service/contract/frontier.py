"""Bodies of ``POST /v1/frontier`` (and the query of ``GET /v1/frontier.svg``)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from service.contract.schemas import (
    Degree,
    EngineName,
    GpuId,
    HitRate,
    KvDtype,
    Milliseconds,
    ModelRef,
    SpeculativeIn,
    Tokens,
    WeightDtype,
)
from service.domain.frontier import FrontierPoint
from service.domain.latency import Efficiency


class FrontierRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One model on one deployment; the curve runs over concurrency 1 … saturation."""

    model: ModelRef
    gpu: GpuId
    input_tokens: Tokens
    output_tokens: Tokens
    tensor_parallel: Degree = 1
    pipeline_parallel: Degree = 1
    weight_dtype: WeightDtype = "auto"
    kv_cache_dtype: KvDtype = "auto"
    engine: EngineName | None = None
    slo_ttft_ms: Milliseconds | None = None
    slo_tpot_ms: Milliseconds | None = None
    prefix_cache_hit_rate: HitRate = 0.0
    speculative: SpeculativeIn | None = None
    expert_parallel: Annotated[
        bool,
        msgspec.Meta(
            description="MoE experts spread whole over the tensor-parallel GPUs (vLLM "
            "--enable-expert-parallel): two all-to-alls per MoE layer replace its all-reduce."
        ),
    ] = False
    attention_data_parallel: Annotated[
        bool,
        msgspec.Meta(
            description="Attention data parallelism (TensorRT-LLM / SGLang attention DP): each "
            "GPU runs attention for its share of the sequences with the whole attention "
            "weights; no attention all-reduce."
        ),
    ] = False


class FrontierResponse(msgspec.Struct, frozen=True, kw_only=True):
    """Steady-state points (``ttft_ms`` as in /v1/plan: one request at that concurrency),
    the saturation point's throughput, and the best point meeting the SLO when one is given.
    ``fits`` is false (and ``points`` empty) when the weights or one sequence do not fit."""

    model: str
    gpu: str
    gpu_count: int
    weight_dtype: str
    kv_cache_dtype: str
    engine: str
    fits: bool
    reasons: list[str]
    max_batch: int
    step_tokens: int
    points: list[FrontierPoint]
    max_output_tokens_per_s: float
    saturation_concurrency: int
    saturation_limit: str
    best_meeting_slo: FrontierPoint | None
    slo_ttft_ms: float | None
    slo_tpot_ms: float | None
    calibrated: bool
    assumptions: Efficiency
