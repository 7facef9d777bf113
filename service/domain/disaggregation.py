"""Disaggregated prefill and decode: two pools sized to a request rate, and the KV hand-off.

Prefill instances only run prompts, in full chunks of ``M`` tokens, so one instance starts
``μ_p = M / (ISL · t_step(0, M))`` prompts per second; one prompt alone takes
``S = n · t_step(0, ISL/n)`` with ``n = ⌈ISL/M⌉``. Prompts queue for the pool (M/D/1 per
instance, Kleinrock §5.7) and the finished KV cache crosses to a decode instance::

    ρ_p   = λ / (n_p · μ_p)
    TTFT  = S + ρ_p / (2 μ_p (1 − ρ_p)) + ISL · kv_bytes_per_token_per_gpu / B_link

Decode instances only decode: ``TPOT = t_step(b, 0)`` with no prompt chunks in the steps,
and each holds ``b = λ/n_d · (OSL − 1) · TPOT(b)`` sequences (Little's law, solved by
bisection), which must fit its KV cache. Each pool gets the fewest instances that keep it
below saturation and within its target. The pools deliver ``λ · OSL`` output tokens per
second and are priced as the aggregated configuration is (:mod:`service.domain.pricing`),
from their own GPUs; :func:`judged_against` says whether they beat aggregated serving.
"""

from __future__ import annotations

import math
from typing import Annotated

import msgspec

from service.domain.latency import Efficiency
from service.domain.pricing import deployment_cost
from service.domain.step_time import StepCosts, step_seconds

MAX_INSTANCES = 256
_BISECTIONS = 60


class Disaggregated(msgspec.Struct, frozen=True, kw_only=True):
    """Both pools of one layout (instances of ``gpus_per_instance`` GPUs each)."""

    prefill_instances: Annotated[
        int, msgspec.Meta(description="Instances in the prefill pool (count)")
    ]
    decode_instances: Annotated[
        int, msgspec.Meta(description="Instances in the decode pool (count)")
    ]
    gpu_count: Annotated[
        int,
        msgspec.Meta(
            description=(
                "GPUs of both pools: (prefill_instances + decode_instances) x tensor_parallel "
                "x pipeline_parallel. The GPU count of the disaggregated arrangement, which "
                "ranks when serving is disaggregated"
            )
        ),
    ]
    ttft_ms: Annotated[
        float, msgspec.Meta(description="Time to first token in milliseconds, KV hand-off included")
    ]
    tpot_ms: Annotated[
        float, msgspec.Meta(description="Time per output token in the decode pool, milliseconds")
    ]
    e2e_ms: Annotated[
        float,
        msgspec.Meta(
            description=(
                "End-to-end time of one request in the pools, milliseconds: ttft_ms + "
                "max(output_tokens - 1, 1) x tpot_ms, as for the aggregated e2e_ms (ranks "
                "under objective latency when serving is disaggregated)"
            )
        ),
    ]
    kv_transfer_ms: Annotated[
        float,
        msgspec.Meta(
            description="Time to hand one prompt's KV cache to the decode pool, milliseconds"
        ),
    ]
    decode_batch: Annotated[float, msgspec.Meta(description="Mean sequences per decode instance")]
    output_tokens_per_s: Annotated[
        float,
        msgspec.Meta(
            description=(
                "Generated tokens per second the pools deliver: workload.requests_per_s x "
                "output_tokens"
            )
        ),
    ]
    cost_per_hour: (
        Annotated[
            float,
            msgspec.Meta(
                description=(
                    "USD per hour for the pools' gpu_count GPUs (the GPU's hourly price x "
                    "gpu_count); null when the GPU has no price"
                )
            ),
        ]
        | None
    )
    cost_per_million_output_tokens: (
        Annotated[
            float,
            msgspec.Meta(
                description=(
                    "USD per million generated tokens: cost_per_hour over output_tokens_per_s "
                    "x 3600 tokens, x 10^6 (ranks under objective cost when serving is "
                    "disaggregated); null without a price"
                )
            ),
        ]
        | None
    )
    meets_slo: Annotated[
        bool,
        msgspec.Meta(
            description=(
                "Whether the pools' ttft_ms and tpot_ms are within the SLO (with slo.burst only "
                "tpot_ms is judged); ranks when serving is disaggregated"
            )
        ),
    ]
    beats_aggregated: Annotated[
        bool,
        msgspec.Meta(
            description=(
                "Whether the pools beat the aggregated arrangement of the same layout: they "
                "meet the SLO and either use fewer GPUs than the configuration's top-level "
                "gpu_count or the aggregated arrangement misses the SLO (its meets_slo is "
                "false). Exactly when true, the configuration's serving is disaggregated"
            )
        ),
    ] = False


def judged_against(
    pools: Disaggregated, aggregated_gpu_count: int, aggregated_meets_slo: bool
) -> Disaggregated:
    """``pools`` with ``beats_aggregated`` set: they meet the SLO, and need fewer GPUs than
    aggregated serving or meet an SLO it misses."""
    beats = pools.meets_slo and (not aggregated_meets_slo or pools.gpu_count < aggregated_gpu_count)
    return msgspec.structs.replace(pools, beats_aggregated=beats)


def _decode_batch(costs: StepCosts, eff: Efficiency, rate: float, max_batch: int) -> float | None:
    """``b`` with ``b = rate · (OSL − 1) · t_step(b, 0)``; None if it exceeds ``max_batch``."""
    decode_tokens = max(costs.output_tokens - 1, 1)

    def excess(b: float) -> float:
        return b - rate * decode_tokens * step_seconds(costs, eff, decode_batch=b, prompt_tokens=0)

    if excess(float(max_batch)) < 0:
        return None
    low, high = 0.0, float(max_batch)
    for _ in range(_BISECTIONS):
        mid = (low + high) / 2
        low, high = (mid, high) if excess(mid) < 0 else (low, mid)
    return high


def disaggregate(
    costs: StepCosts,
    eff: Efficiency,
    *,
    requests_per_s: float,
    chunk_tokens: int,
    max_batch: int,
    kv_transfer_s: float,
    gpus_per_instance: int,
    ttft_target_ms: float | None = None,
    tpot_target_ms: float | None = None,
    price_per_gpu_hour_usd: float | None = None,
) -> Disaggregated | None:
    """The fewest instances per pool (module doc), priced at ``price_per_gpu_hour_usd``;
    None when no pool size keeps up. ``beats_aggregated`` is left false
    (:func:`judged_against` sets it)."""
    isl = costs.input_tokens
    chunks = math.ceil(isl / chunk_tokens)
    alone_s = chunks * step_seconds(costs, eff, decode_batch=0, prompt_tokens=isl / chunks)
    full = min(chunk_tokens, isl * max(1, chunk_tokens // isl))
    mu = full / isl / step_seconds(costs, eff, decode_batch=0, prompt_tokens=full)
    prefill: tuple[int, float] | None = None
    for n_p in range(max(1, math.floor(requests_per_s / mu) + 1), MAX_INSTANCES + 1):
        rho = requests_per_s / (n_p * mu)
        ttft_s = alone_s + rho / (2 * mu * (1 - rho)) + kv_transfer_s
        prefill = prefill or (n_p, ttft_s)
        if ttft_target_ms is None or ttft_s * 1e3 <= ttft_target_ms:
            prefill = (n_p, ttft_s)
            break
    decode: tuple[int, float, float] | None = None
    for n_d in range(1, MAX_INSTANCES + 1):
        batch = _decode_batch(costs, eff, requests_per_s / n_d, max_batch)
        if batch is None:
            continue
        tpot_s = step_seconds(costs, eff, decode_batch=batch, prompt_tokens=0)
        decode = decode or (n_d, tpot_s, batch)
        if tpot_target_ms is None or tpot_s * 1e3 <= tpot_target_ms:
            decode = (n_d, tpot_s, batch)
            break
    if prefill is None or decode is None:
        return None
    ttft_ms, tpot_ms = prefill[1] * 1e3, decode[1] * 1e3
    gpu_count = (prefill[0] + decode[0]) * gpus_per_instance
    output_tokens_per_s = requests_per_s * costs.output_tokens
    cost = deployment_cost(price_per_gpu_hour_usd, gpu_count, output_tokens_per_s)
    return Disaggregated(
        prefill_instances=prefill[0],
        decode_instances=decode[0],
        gpu_count=gpu_count,
        ttft_ms=ttft_ms,
        tpot_ms=tpot_ms,
        e2e_ms=ttft_ms + max(costs.output_tokens - 1, 1) * tpot_ms,
        kv_transfer_ms=kv_transfer_s * 1e3,
        decode_batch=decode[2],
        output_tokens_per_s=output_tokens_per_s,
        cost_per_hour=cost.per_hour_usd,
        cost_per_million_output_tokens=cost.per_million_output_tokens_usd,
        meets_slo=(ttft_target_ms is None or ttft_ms <= ttft_target_ms)
        and (tpot_target_ms is None or tpot_ms <= tpot_target_ms),
    )
