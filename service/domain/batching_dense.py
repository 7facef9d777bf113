"""The steady state of :mod:`service.domain.batching` for a dense model, invariants hoisted.

The plan search prices every feasible configuration (285 for an 8B model over the catalog)
with :func:`~service.domain.batching.at_concurrency`: a bisection of ~45 model points, three
:func:`~service.domain.batching.step_seconds` each. For a dense model a step is linear in its
decode and prompt tokens between two ``max``es, so everything that depends only on the
configuration (the weight read, the matmul, attention and communication coefficients, the
fixed costs) is computed once here and each step is a handful of multiplications.

The same formulas in the same order, so the results are the same floats:
tests/domain/test_batching_dense.py checks them against :mod:`service.domain.batching` for
random costs and whole plans. MoE models (the routed-expert read and the grouped-GEMM
efficiency vary with the step's tokens) go through :mod:`service.domain.batching` itself
(:func:`steady_at_users`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from service.domain.batching import (
    PROMPT_PATH_UTILISATION,
    Limit,
    SteadyState,
    StepCosts,
    _bisect,
    _Point,
    _result,
    at_concurrency,
    burst_ttft_seconds,
)
from service.domain.latency import Efficiency

StepFn = Callable[[float, float], float]
PointFn = Callable[[float, float], _Point]


def dense_step(costs: StepCosts, eff: Efficiency) -> StepFn:
    """``step_seconds(costs, eff, decode_batch=b, prompt_tokens=p)`` as ``step(b, p)`` for a
    model without routed experts (``costs.num_experts == 0``: expert efficiency 1)."""
    if costs.num_experts:
        raise ValueError("dense_step prices dense models only")
    d, p = costs.decode, costs.prompt
    input_tokens, verify = costs.input_tokens, costs.verify_tokens
    expert = 1.0
    weights_s = costs.dense_weight_read_s / eff.decode_mbu
    decode_k = d.matmul_s - d.expert_matmul_s + d.expert_matmul_s / expert
    prompt_k = p.matmul_s - p.expert_matmul_s + p.expert_matmul_s / expert
    decode_mfu, prefill_mfu, decode_mbu = eff.decode_mfu, eff.prefill_mfu, eff.decode_mbu
    kv_s, attention_s = d.kv_s, d.attention_s
    prompt_attention = max(p.kv_s / eff.prefill_mbu, p.attention_s / eff.prefill_mfu)
    decode_comm, prompt_comm = d.communication_s, p.communication_s
    all_reduce_s = max(d.all_reduces, p.all_reduces) * eff.all_reduce_latency_us * 1e-6
    overhead = eff.step_overhead_ms / 1e3 + max(d.layers, p.layers) * eff.layer_overhead_us / 1e6

    def step(b: float, prompt_tokens: float) -> float:
        share = prompt_tokens / input_tokens
        run = b * verify
        matmuls = max(weights_s, run * decode_k / decode_mfu + share * prompt_k / prefill_mfu)
        attention = max(b * kv_s / decode_mbu, run * attention_s / decode_mfu)
        attention += share * prompt_attention
        communication = run * decode_comm + share * prompt_comm + all_reduce_s
        return matmuls + attention + communication + overhead

    return step


def point_fn(costs: StepCosts, step: StepFn, chunk: int) -> PointFn:
    """:func:`service.domain.batching._point` at ``(b, others)`` with ``step`` for the steps."""
    input_tokens, verify, kept = costs.input_tokens, costs.verify_tokens, costs.tokens_per_step
    decode_tokens = max(costs.output_tokens - 1, 1)
    whole_prompt, whole_chunk = float(input_tokens), float(chunk)

    def point(b: float, others: float) -> _Point:
        wanted = b * input_tokens * kept / decode_tokens
        piece = min(whole_prompt, max(chunk - b * verify, 1.0))
        if wanted < piece:
            share = wanted / piece
            t_step = (1 - share) * step(b, 0) + share * step(b, piece)
        else:
            share = 1.0
            t_step = step(b, min(wanted, piece))
        tpot = t_step / kept
        rate = b / (decode_tokens * tpot) if b > 0 else 0.0
        own = min(max(chunk - others * b * verify, 1.0), whole_chunk)
        chunks = math.ceil(input_tokens / own)
        prefill = chunks * step(others * b, input_tokens / chunks)
        rho = 1.0 if share >= 1 else min(others * rate * prefill, 1.0)
        wait = math.inf if rho >= 1 else rho * prefill / (2 * (1 - rho))
        align = min(1.0, others * b) * t_step / 2
        return _Point(b, tpot, rate, align + wait + prefill, prefill, wait, share * piece, rho)

    return point


def _upper_batch(
    costs: StepCosts, point: PointFn, chunk: int, max_batch: int
) -> tuple[float, Limit]:
    """:func:`service.domain.batching._upper_batch` with ``point``."""
    ratio = costs.input_tokens * costs.tokens_per_step / max(costs.output_tokens - 1, 1)
    high = min(float(max_batch), chunk / (costs.verify_tokens + ratio))

    def utilisation(b: float) -> float:
        return point(b, 1.0).budget_used

    if utilisation(high) < PROMPT_PATH_UTILISATION:
        return high, Limit.BATCH if high == max_batch else Limit.PROMPT_BUDGET
    # The lower end of the bracket, as batching does (rho jumps to 1 past it).
    cap = _bisect(PROMPT_PATH_UTILISATION, utilisation, 0, high, relative=1e-4, below=True)
    return cap, Limit.PROMPT_BUDGET


def dense_at_concurrency(
    costs: StepCosts, eff: Efficiency, *, chunk_tokens: int, max_batch: int, concurrency: int
) -> SteadyState:
    """:func:`service.domain.batching.at_concurrency` for a dense model (module doc)."""
    if max_batch < 1 or chunk_tokens < 1 or concurrency < 1:
        raise ValueError("max_batch, chunk_tokens and concurrency must be >= 1")
    point = point_fn(costs, dense_step(costs, eff), chunk_tokens)
    upper, limit = _upper_batch(costs, point, chunk_tokens, max_batch)
    others = (concurrency - 1) / concurrency

    def in_system(b: float) -> float:
        p = point(b, others)
        return b + p.rate * p.ttft_s

    top = point(upper, others)
    if top.b + top.rate * top.ttft_s <= concurrency:
        cycle = concurrency / top.rate
        decode_s = max(costs.output_tokens - 1, 1) * top.tpot_s
        ttft = max(cycle - decode_s, top.ttft_s)
        return _result(costs, top, chunk_tokens, concurrency, ttft, top.rate, limit)
    found = point(_bisect(concurrency, in_system, 0, upper), others)
    return _result(costs, found, chunk_tokens, concurrency, found.ttft_s, found.rate, None)


def steady_at_users(
    costs: StepCosts, eff: Efficiency, step_tokens: int, max_batch: int, users: int
) -> tuple[SteadyState, float]:
    """The steady state at ``users`` and the burst TTFT (ms) of that many prompts, as
    :func:`service.domain.serving.at_users` gives them: hoisted for a dense model,
    :func:`~service.domain.batching.at_concurrency` itself for an MoE one."""
    if costs.num_experts:
        steady = at_concurrency(
            costs, eff, chunk_tokens=step_tokens, max_batch=max_batch, concurrency=users
        )
    else:
        steady = dense_at_concurrency(
            costs, eff, chunk_tokens=step_tokens, max_batch=max_batch, concurrency=users
        )
    burst_s = burst_ttft_seconds(costs, eff, prompts=users, chunk_tokens=step_tokens)
    return steady, burst_s * 1e3
