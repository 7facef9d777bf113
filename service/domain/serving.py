"""The two TTFTs an answer carries, and the TPOT beside them, for one replica.

* ``ttft_ms`` — steady state: the time to first token of one request at the stated
  concurrency (or arrival rate) under continuous batching with chunked prefill, its prompt's
  chunks sharing steps with the other sequences' decodes, plus the wait when the server is
  busy (:func:`service.domain.batching.at_concurrency`). What a user sees once the load is
  steady (``vllm bench serve --max-concurrency N`` averages its first N simultaneous prompts
  in too, a burst: ``capplan validate`` compares its sweeps with that mean).
* ``burst_ttft_ms`` — N prompts arriving at once, until the last one's first token
  (:func:`service.domain.burst.burst_ttft_seconds`): a static batch or a thundering herd.
* ``tpot_ms`` — steady state, the stall of others' prompt chunks included.

The step budget is the engine's ``max_num_batched_tokens`` (:func:`step_token_budget`);
vLLM V0 without chunked prefill batches ``max(max_model_len, 2048)`` tokens, so one prompt
always fits in a step.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import msgspec

from service.domain.architecture import Architecture
from service.domain.batching import (
    SteadyState,
    at_arrival_rate,
    at_concurrency,
    saturation_point,
)
from service.domain.burst import burst_ttft_seconds
from service.domain.engine import EngineProfile
from service.domain.engines.vllm_v1 import batch_defaults
from service.domain.gpu import GpuSpec
from service.domain.latency import Efficiency, Serving
from service.domain.parameters import ParameterCount
from service.domain.step_time import StepCosts, step_costs


class ServingLatency(msgspec.Struct, frozen=True, kw_only=True):
    """Steady-state times at the load, and the burst TTFT of that many prompts at once."""

    steady: SteadyState
    burst_ttft_ms: float


SGLANG_CHUNKED_PREFILL_TOKENS = 8192
"""SGLang's ``--chunked-prefill-size`` when the profile carries none: its default for
80 GB-class GPUs (``ServerArgs.__post_init__`` picks the size from GPU memory; smaller GPUs
get less). An assumption, not read from a log."""


def step_token_budget(
    profile: EngineProfile, input_tokens: int, gpu: GpuSpec, requested: int | None = None
) -> int:
    """Tokens one scheduler step may carry (module doc): the ``max_num_batched_tokens`` the
    deployment sets (``requested``), else vLLM V1's per-GPU default, the profile's chunk
    (TensorRT-LLM ``max_num_tokens``), SGLang's chunked-prefill size, or for vLLM V0 a whole
    prompt (V0 without chunked prefill schedules whole prompts, so never less than one)."""
    if requested is not None:
        whole_prompts = profile.kind not in ("vllm-v1", "sglang", "trtllm")
        return max(requested, input_tokens) if whole_prompts else requested
    if profile.kind == "vllm-v1":
        return batch_defaults(profile, gpu.memory_bytes, gpu.name).max_num_batched_tokens
    if profile.chunked_prefill_tokens is not None:
        return profile.chunked_prefill_tokens
    if profile.kind == "sglang":
        return SGLANG_CHUNKED_PREFILL_TOKENS
    return max(input_tokens, profile.min_batched_tokens)


def serving_latency(
    arch: Architecture,
    params: ParameterCount,
    serving: Serving,
    efficiency: Efficiency,
    *,
    input_tokens: int,
    output_tokens: int,
    max_batch: int,
    step_tokens: int,
    concurrency: int,
    arrival_rate_per_s: float | None = None,
) -> ServingLatency:
    """The module doc's times at ``concurrency`` users; the burst is that many prompts."""
    costs = step_costs(
        arch, params, serving, input_tokens=input_tokens, output_tokens=output_tokens
    )
    batch = max(max_batch, 1)
    if arrival_rate_per_s is not None:
        return at_rate(costs, efficiency, step_tokens, batch, arrival_rate_per_s)
    return at_users(costs, efficiency, step_tokens, batch, concurrency)


def at_users(
    costs: StepCosts, efficiency: Efficiency, step_tokens: int, max_batch: int, users: int
) -> ServingLatency:
    """``users`` concurrent users; the burst is that many prompts at once."""
    steady = at_concurrency(
        costs, efficiency, chunk_tokens=step_tokens, max_batch=max_batch, concurrency=users
    )
    burst_s = burst_ttft_seconds(
        costs, efficiency, prompts=users, chunk_tokens=step_tokens, max_batch=max_batch
    )
    return ServingLatency(steady=steady, burst_ttft_ms=burst_s * 1e3)


def at_rate(
    costs: StepCosts, efficiency: Efficiency, step_tokens: int, max_batch: int, rate_per_s: float
) -> ServingLatency:
    """Requests arriving at ``rate_per_s``; the burst is the requests in the system then."""
    steady = at_arrival_rate(
        costs,
        efficiency,
        chunk_tokens=step_tokens,
        max_batch=max_batch,
        arrival_rate_per_s=rate_per_s,
    )
    prompts = max(1, math.ceil(steady.concurrency)) if math.isfinite(steady.concurrency) else 1
    burst_s = burst_ttft_seconds(
        costs, efficiency, prompts=prompts, chunk_tokens=step_tokens, max_batch=max_batch
    )
    return ServingLatency(steady=steady, burst_ttft_ms=burst_s * 1e3)


def replicas_for_rate(
    costs: StepCosts,
    efficiency: Efficiency,
    *,
    step_tokens: int,
    max_batch: int,
    requests_per_s: float,
    min_replicas: int,
    max_replicas: int,
    acceptable: Callable[[ServingLatency], bool],
) -> tuple[int, ServingLatency] | None:
    """Fewest replicas (from ``min_replicas``) that serve ``requests_per_s`` between them
    below saturation and ``acceptable`` (the SLO; found by bisection, latency falling as
    replicas are added); else the fewest below saturation; None when they saturate. Each
    replica gets ``requests_per_s / r``; the first replica count past the saturation point's
    rate is unsaturated, so two tries find it."""
    knee = saturation_point(costs, efficiency, chunk_tokens=step_tokens, max_batch=max_batch)
    fewest = max(min_replicas, math.floor(requests_per_s / knee.arrival_rate_per_s) + 1)

    def at(replicas: int) -> ServingLatency:
        return at_rate(costs, efficiency, step_tokens, max_batch, requests_per_s / replicas)

    low = next(
        (r for r in range(fewest, min(fewest + 2, max_replicas) + 1) if not at(r).steady.saturated),
        None,
    )
    if low is None:
        return None
    if acceptable(at(low)) or not acceptable(at(max_replicas)):
        return low, at(low)
    high = max_replicas
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if acceptable(at(mid)) else (mid, high)
    return high, at(high)
