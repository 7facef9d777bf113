"""The steady state of :mod:`service.domain.batching` for a dense model, invariants hoisted.

The plan search prices every feasible configuration (285 for an 8B model over the catalog)
with :func:`~service.domain.batching.at_concurrency`: a bisection of ~45 model points, three
:func:`~service.domain.batching.step_seconds` each. For a dense model a step is linear in its
decode and prompt tokens between two ``max``es, so everything that depends only on the
configuration (the weight read, the matmul, attention and communication coefficients, the
fixed costs) is computed once here and each step is a handful of multiplications; the two
bisections read these inlined measures, the points they land on are batching's own.

The same formulas in the same order as ``step_seconds``, ``_point`` and ``at_concurrency``,
so the results are the same floats: tests/domain/test_batching_dense.py checks them against
:mod:`service.domain.batching` for random costs and whole plans (a change there must be made
here too, or that test fails); the bracket searches are batching's own.
MoE models (the routed-expert read and the grouped-GEMM efficiency vary with the step's
tokens), and costs carrying any term this module does not read, go through
:mod:`service.domain.batching` itself (:func:`steady_at_users`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import msgspec

from service.domain.batching import (
    PROMPT_PATH_UTILISATION,
    Limit,
    SteadyState,
    StepCosts,
    _bisect,
    _last_below,
    _point,
    _result,
    at_concurrency,
    burst_ttft_seconds,
)
from service.domain.latency import Efficiency, PhaseTerms

_PHASE_FIELDS = frozenset(
    [
        "weight_read_s",
        "matmul_s",
        "kv_s",
        "attention_s",
        "communication_s",
        "all_reduces",
        "layers",
        "expert_matmul_s",
        "tokens_per_expert",
    ]
)
_COSTS_FIELDS = frozenset(
    [
        "decode",
        "prompt",
        "input_tokens",
        "output_tokens",
        "dense_weight_read_s",
        "routed_weight_read_s",
        "num_experts",
        "experts_per_token",
        "verify_tokens",
        "tokens_per_step",
    ]
)


@functools.cache
def _extra_defaults(
    kind: type[msgspec.Struct], known: frozenset[str]
) -> tuple[tuple[str, Any], ...]:
    """(name, default) of each field of ``kind`` outside ``known``."""
    return tuple(
        (field.name, field.default)
        for field in msgspec.structs.fields(kind)
        if field.name not in known
    )


def _defaults_beyond(struct: msgspec.Struct, known: frozenset[str]) -> bool:
    """Whether every field of ``struct`` outside ``known`` holds its default."""
    extra = _extra_defaults(type(struct), known)
    return all(getattr(struct, name) == default for name, default in extra)


def is_dense(costs: StepCosts) -> bool:
    """Whether :func:`measures` prices ``costs``: no routed experts, and no term beyond the
    ones it reads (a term batching learns later sends the costs back to batching)."""
    phases: tuple[PhaseTerms, PhaseTerms] = (costs.decode, costs.prompt)
    return (
        costs.num_experts == 0
        and _defaults_beyond(costs, _COSTS_FIELDS)
        and all(_defaults_beyond(phase, _PHASE_FIELDS) for phase in phases)
    )


def measures(
    costs: StepCosts, eff: Efficiency, chunk: int, others: float
) -> tuple[Callable[[float], float], Callable[[float], float]]:
    """The two measures the bisections read ~45 times per configuration, from
    ``p = _point(costs, eff, chunk, b, ·)`` with ``step_seconds`` inlined: ``b ↦ b + λ·TTFT``
    at ``others`` (the concurrency) and ``b ↦ ρ`` at 1 (the prompt-path ceiling's
    ``budget_used``). ``max(x, y)`` is written ``y if y > x else x``
    and ``min(x, y)`` ``y if y < x else x`` (what the builtins return, NaN and ties included)."""
    if not is_dense(costs):
        raise ValueError("measures prices dense models only")
    d, p = costs.decode, costs.prompt
    n_in, verify, kept = costs.input_tokens, costs.verify_tokens, costs.tokens_per_step
    decode_tokens = max(costs.output_tokens - 1, 1)
    whole_prompt, whole_chunk = float(n_in), float(chunk)
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
    no_share = 0 / n_in

    def step(decode_matmul: float, attention: float, comm: float, share: float) -> float:
        """A step from its decode terms (matmul/MFU, attention, communication) and share."""
        matmuls = decode_matmul + share * prompt_k / prefill_mfu
        matmuls = matmuls if matmuls > weights_s else weights_s
        return (
            matmuls
            + (attention + share * prompt_attention)
            + (comm + share * prompt_comm + all_reduce_s)
            + overhead
        )

    def parts(b: float, others: float, prefill_needed: bool) -> tuple[float, float, float, float]:
        """(share of steps with a prompt piece, step s, rate /s, own prefill s) at ``b``; the
        prefill only when ``prefill_needed`` or a share is below 1 (else 0)."""
        run = b * verify
        decode_matmul = run * decode_k / decode_mfu
        kv, att = b * kv_s / decode_mbu, run * attention_s / decode_mfu
        attention = att if att > kv else kv
        comm = run * decode_comm
        wanted = b * n_in * kept / decode_tokens
        left = chunk - run
        left = 1.0 if left < 1.0 else left
        piece = left if left < whole_prompt else whole_prompt
        if wanted < piece:
            share = wanted / piece
            t_step = (1 - share) * step(decode_matmul, attention, comm, no_share)
            t_step += share * step(decode_matmul, attention, comm, piece / n_in)
        else:
            share = 1.0
            tokens = piece if piece < wanted else wanted
            t_step = step(decode_matmul, attention, comm, tokens / n_in)
        rate = b / (decode_tokens * (t_step / kept)) if b > 0 else 0.0
        if not prefill_needed and share >= 1:
            return share, t_step, rate, 0.0
        beside = others * b
        run = beside * verify
        own = chunk - run
        own = 1.0 if own < 1.0 else own
        own = whole_chunk if whole_chunk < own else own
        chunks = math.ceil(n_in / own)
        kv, att = beside * kv_s / decode_mbu, run * attention_s / decode_mfu
        prefill = chunks * step(
            run * decode_k / decode_mfu,
            att if att > kv else kv,
            run * decode_comm,
            n_in / chunks / n_in,
        )
        return share, t_step, rate, prefill

    def in_system(b: float) -> float:
        share, t_step, rate, prefill = parts(b, others, True)
        if share >= 1:
            rho = 1.0
        else:
            rho = others * rate * prefill
            rho = 1.0 if rho > 1.0 else rho
        wait = math.inf if rho >= 1 else rho * prefill / (2 * (1 - rho))
        beside = others * b
        align = (beside if beside < 1.0 else 1.0) * t_step / 2
        return b + rate * (align + wait + prefill)

    def utilisation(b: float) -> float:
        share, _, rate, prefill = parts(b, 1.0, False)
        if share >= 1:
            return 1.0
        rho = 1.0 * rate * prefill
        return 1.0 if rho > 1.0 else rho

    return in_system, utilisation


def _upper_batch(
    costs: StepCosts, utilisation: Callable[[float], float], chunk: int, max_batch: int
) -> tuple[float, Limit]:
    """:func:`service.domain.batching._upper_batch` with ``utilisation`` (its bracket search is
    batching's own :func:`~service.domain.batching._last_below`)."""
    ratio = costs.input_tokens * costs.tokens_per_step / max(costs.output_tokens - 1, 1)
    high = min(float(max_batch), chunk / (costs.verify_tokens + ratio))
    if utilisation(high) < PROMPT_PATH_UTILISATION:
        return high, Limit.BATCH if high == max_batch else Limit.PROMPT_BUDGET
    return _last_below(PROMPT_PATH_UTILISATION, utilisation, high), Limit.PROMPT_BUDGET


def dense_at_concurrency(
    costs: StepCosts, eff: Efficiency, *, chunk_tokens: int, max_batch: int, concurrency: int
) -> SteadyState:
    """:func:`service.domain.batching.at_concurrency` for a dense model (module doc)."""
    if max_batch < 1 or chunk_tokens < 1 or concurrency < 1:
        raise ValueError("max_batch, chunk_tokens and concurrency must be >= 1")
    others = (concurrency - 1) / concurrency
    in_system, utilisation = measures(costs, eff, chunk_tokens, others)
    upper, limit = _upper_batch(costs, utilisation, chunk_tokens, max_batch)
    top = _point(costs, eff, chunk_tokens, upper, others)
    if top.b + top.rate * top.ttft_s <= concurrency:
        cycle = concurrency / top.rate
        decode_s = max(costs.output_tokens - 1, 1) * top.tpot_s
        ttft = max(cycle - decode_s, top.ttft_s)
        return _result(costs, top, chunk_tokens, concurrency, ttft, top.rate, limit)
    found = _point(costs, eff, chunk_tokens, _bisect(concurrency, in_system, 0, upper), others)
    return _result(costs, found, chunk_tokens, concurrency, found.ttft_s, found.rate, None)


def steady_at_users(
    costs: StepCosts, eff: Efficiency, step_tokens: int, max_batch: int, users: int
) -> tuple[SteadyState, float]:
    """The steady state at ``users`` and the burst TTFT (ms) of that many prompts, as
    :func:`service.domain.serving.at_users` gives them: hoisted for a dense model,
    :func:`~service.domain.batching.at_concurrency` itself for an MoE one."""
    if not is_dense(costs):
        steady = at_concurrency(
            costs, eff, chunk_tokens=step_tokens, max_batch=max_batch, concurrency=users
        )
    else:
        steady = dense_at_concurrency(
            costs, eff, chunk_tokens=step_tokens, max_batch=max_batch, concurrency=users
        )
    burst_s = burst_ttft_seconds(costs, eff, prompts=users, chunk_tokens=step_tokens)
    return steady, burst_s * 1e3
