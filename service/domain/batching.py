"""Steady state under continuous batching with chunked prefill: the TTFT and TPOT users see.

A replica runs scheduler steps. Each step carries the ``b`` sequences in decode (one token
each) and up to ``M − b`` prompt tokens (chunked prefill, ``M`` = the engine's
``max_num_batched_tokens``; vLLM V1 schedules running decodes first, then prompt chunks).
A step reads the weights once and does the FLOPs of all ``b + p`` tokens
(:func:`~service.domain.step_time.step_seconds`). In steady state every request brings
``ISL`` prompt tokens per ``OSL − 1`` decode tokens (``r = ISL/(OSL − 1)``). A prompt
enters in pieces of ``c = min(ISL, M − b)`` tokens, so a share ``f = b·r/c`` of the steps
carries a piece (every step once ``f ≥ 1``, which is the prompt budget's limit) and::

    TPOT = (1 − f)·t_step(b, 0) + f·t_step(b, c)  (the stall of others' chunks included)
    λ    = b / ((OSL − 1)·TPOT)                   requests started per second (Little)
    S    = n·t_step(b_o, ISL/n), n = max(1, ISL/(M − b_o)) one prompt's own chunks
    ρ    = λ_o·S                                    time share of others' prompts (λ_o: theirs)
    W_q  = ρ·S / (2(1 − ρ))                        M/D/1 wait for the prompt path (Kleinrock §5.7)
    TTFT = min(1, b_o)·P·TPOT/2 + W_q + S          (an arrival waits for the scheduler's look)

A busy scheduler looks for newly arrived requests every ``P`` decode steps (``P = 1``, every
step, unless the deployment sets SGLang's ``--scheduler-recv-interval``: its
``SchedulerRecvSkipper`` counts 1 per decode step, 1000 per other step, and receives once
the count reaches ``P``), so an arrival at a uniform moment waits ``P/2`` steps on average
before its prompt can be scheduled; an idle scheduler looks at once.

Concurrency ``C`` (a closed loop: each user sends the next request when the last one ends,
as ``vllm bench serve --max-concurrency C``) fixes ``b`` through ``C = b + λ·TTFT``
(Little's law over requests in decode and in prefill), solved by bisection (``C`` grows
with ``b``: the count of a prompt's chunks ``n`` is kept fractional, its last piece priced
pro rata, because a whole count jumps with ``b`` and let one more user lower the TTFT);
a request competes only with the others' work, ``b_o = b·(C − 1)/C``, so one user alone
never queues. ``b`` is capped by the batch the KV cache and ``max_num_seqs``
allow, and by the prompt budget (``b·(1 + r) < M``). At the cap the loop is bound:
requests complete at ``X = λ(b_max)`` and each user's cycle is ``C/X``, so
``TTFT = C/X − (OSL − 1)·TPOT``. An arrival rate ``λ`` instead of ``C`` (an open loop)
fixes ``b`` through ``λ(b) = λ``; beyond the cap the queue grows without bound
(``saturated``, TTFT infinite).

``burst_ttft`` (``N`` prompts arriving together) is :mod:`service.domain.burst`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable

import msgspec

from service.domain.latency import Efficiency
from service.domain.step_time import StepConstants, StepCosts, step_constants

_BISECTIONS = 60
_TOLERANCE = 1e-9


class Limit(enum.StrEnum):
    """What stops the decode batch from growing with the load."""

    NONE = "none"
    BATCH = "max_batch"
    PROMPT_BUDGET = "prefill_budget"


class SteadyState(msgspec.Struct, frozen=True, kw_only=True):
    """One replica at a steady load (module doc); times in ms, rates per second."""

    concurrency: float
    arrival_rate_per_s: float
    decode_batch: float
    prompt_tokens_per_step: float
    chunk_tokens: int
    ttft_ms: float
    tpot_ms: float
    prefill_ms: float
    queue_wait_ms: float
    prompt_budget_used: float
    e2e_ms: float
    output_tokens_per_s: float
    saturated: bool
    limit: Limit


class _Point(msgspec.Struct, frozen=True):
    """The model at a decode batch ``b`` (before any queue for a batch slot)."""

    b: float
    tpot_s: float
    rate: float
    ttft_s: float
    prefill_s: float
    wait_s: float
    prompt_tokens: float
    budget_used: float


def _point(steps: StepConstants, chunk: int, b: float, others: float) -> _Point:
    """The model at decode batch ``b``; ``tpot_s`` per output token (a step yields
    ``tokens_per_step`` tokens per sequence). ``min(x, y)`` written ``y if y < x else x``
    and ``max`` as in :meth:`~service.domain.step_time.StepConstants.seconds`."""
    n_in, verify = steps.input_tokens, steps.verify_tokens
    decode_tokens = steps.decode_tokens
    kept = steps.tokens_per_step
    wanted = b * n_in * kept / decode_tokens
    left = chunk - b * verify
    left = 1.0 if left < 1.0 else left
    piece = left if left < float(n_in) else float(n_in)
    if wanted < piece:
        share = wanted / piece
        step = (1 - share) * steps.seconds(b, 0) + share * steps.seconds(b, piece)
    else:
        share = 1.0
        step = steps.seconds(b, piece if piece < wanted else wanted)
    tpot = step / kept
    rate = b / (decode_tokens * tpot) if b > 0 else 0.0
    beside = others * b
    own = chunk - beside * verify
    own = 1.0 if own < 1.0 else own
    own = float(chunk) if float(chunk) < own else own
    chunks = n_in / own if n_in > own else 1.0
    prefill = chunks * steps.seconds(beside, n_in / chunks)
    if share >= 1:
        rho = 1.0
    else:
        rho = others * rate * prefill
        rho = 1.0 if rho > 1.0 else rho
    wait = math.inf if rho >= 1 else rho * prefill / (2 * (1 - rho))
    interval = steps.costs.admission_interval_steps
    align = (beside if beside < 1.0 else 1.0) * interval * step / 2
    return _Point(b, tpot, rate, align + wait + prefill, prefill, wait, share * piece, rho)


PROMPT_PATH_UTILISATION = 0.99
"""Where the prompt path counts as full: the M/D/1 wait is 50 prefills there."""


def _upper_batch(steps: StepConstants, chunk: int, max_batch: int) -> tuple[float, Limit]:
    """The largest decode batch: the slots, or where prompts keep the prompt path busy
    (``ρ`` of the module doc at :data:`PROMPT_PATH_UTILISATION`, every user counted)."""
    ratio = steps.input_tokens * steps.tokens_per_step / steps.decode_tokens
    high = min(float(max_batch), chunk / (steps.verify_tokens + ratio))

    def utilisation(b: float) -> float:
        return _point(steps, chunk, b, 1.0).budget_used

    if utilisation(high) < PROMPT_PATH_UTILISATION:
        return high, Limit.BATCH if high == max_batch else Limit.PROMPT_BUDGET
    return _last_below(PROMPT_PATH_UTILISATION, utilisation, high), Limit.PROMPT_BUDGET


def _last_below(
    target: float, measure: Callable[[float], float], high: float, relative: float = 1e-4
) -> float:
    """The largest ``x`` in ``(0, high)`` seen with the increasing ``measure(x) < target``, to
    ``relative`` of the bracket (so a cap of 0.001 is found as precisely as one of 100).

    The lower end, not the bracket's midpoint: ρ jumps to 1 where a prompt piece rides every
    step (f = 1), and a midpoint past that jump made the M/D/1 wait, the knee's concurrency and
    the frontier infinite (1-token prompts); a tolerance relative to ``high`` alone left 0 for
    prompt-bound loads (10⁷-token prompts), a replica that never completes a request. Both
    found by ``make fuzz``. ``measure`` tends to 0 with ``x``, so the lower end leaves 0.
    """
    low = 0.0
    for _ in range(_BISECTIONS):
        if low > 0 and high - low <= relative * high:
            break
        mid = (low + high) / 2
        if measure(mid) < target:
            low = mid
        else:
            high = mid
    return low


def _bisect(
    target: float,
    measure: Callable[[float], float],
    low: float,
    high: float,
    relative: float = _TOLERANCE,
) -> float:
    """``x`` in ``[low, high]`` where the increasing ``measure(x)`` reaches ``target``, to
    ``relative`` of ``high``.

    The ITP method (Oliveira & Takahashi 2020, ACM TOMS 47(1) art. 5: interpolate, truncate,
    project; κ₁ = 0.2/(high − low), κ₂ = 2, n₀ = 1): a false-position step kept within a
    shrinking distance of the midpoint, so a smooth steady state converges in about 10
    evaluations where halving took 30 (the plan search's hottest loop) and no function takes
    more than one evaluation beyond halving. A step without finite end values either side of
    the target (a prompt path at ρ = 1 gives an infinite wait; a target out of range) takes
    the midpoint.
    """
    half_tolerance = relative * max(high, 1.0) / 2
    if high - low <= 2 * half_tolerance:
        return (low + high) / 2
    below, above = measure(low) - target, measure(high) - target
    kappa = 0.2 / (high - low)
    steps = math.ceil(math.log2((high - low) / (2 * half_tolerance))) + 1
    for j in range(steps):
        if high - low <= 2 * half_tolerance:
            break
        middle = (low + high) / 2
        radius = half_tolerance * 2 ** (steps - j) - (high - low) / 2
        x = middle
        if math.isfinite(below) and math.isfinite(above) and below < 0 < above:
            secant = (low * above - high * below) / (above - below)
            toward = 1.0 if middle >= secant else -1.0
            shift = kappa * (high - low) ** 2
            x = secant + toward * shift if shift <= abs(middle - secant) else middle
            if abs(x - middle) > radius:
                x = middle - toward * radius
        value = measure(x) - target
        if value < 0:
            low, below = x, value
        elif value > 0 or math.isnan(value):
            high, above = x, value
        else:
            return x
    return (low + high) / 2


def at_concurrency(
    costs: StepCosts, eff: Efficiency, *, chunk_tokens: int, max_batch: int, concurrency: int
) -> SteadyState:
    """The module doc's closed loop: ``concurrency`` users, each with one request at a time."""
    if max_batch < 1 or chunk_tokens < 1 or concurrency < 1:
        raise ValueError("max_batch, chunk_tokens and concurrency must be >= 1")
    steps = step_constants(costs, eff)
    upper, limit = _upper_batch(steps, chunk_tokens, max_batch)
    others = (concurrency - 1) / concurrency

    def in_system(b: float) -> float:
        p = _point(steps, chunk_tokens, b, others)
        return b + p.rate * p.ttft_s

    top = _point(steps, chunk_tokens, upper, others)
    if upper + top.rate * top.ttft_s <= concurrency:
        cycle = concurrency / top.rate
        decode_s = steps.decode_tokens * top.tpot_s
        ttft = max(cycle - decode_s, top.ttft_s)
        return _result(costs, top, chunk_tokens, concurrency, ttft, top.rate, limit)
    point = _point(steps, chunk_tokens, _bisect(concurrency, in_system, 0, upper), others)
    return _result(costs, point, chunk_tokens, concurrency, point.ttft_s, point.rate, None)


def saturation_point(
    costs: StepCosts, eff: Efficiency, *, chunk_tokens: int, max_batch: int
) -> SteadyState:
    """The knee of the curve: the largest decode batch the slots or the prompt path allow;
    its ``concurrency`` is the users that keep it full (``b + λ·TTFT``) and its throughput
    the most the replica delivers (more users only wait longer)."""
    if max_batch < 1 or chunk_tokens < 1:
        raise ValueError("max_batch and chunk_tokens must be >= 1")
    steps = step_constants(costs, eff)
    upper, limit = _upper_batch(steps, chunk_tokens, max_batch)
    top = _point(steps, chunk_tokens, upper, 1.0)
    population = top.b + top.rate * top.ttft_s
    return _result(costs, top, chunk_tokens, population, top.ttft_s, top.rate, limit)


def at_arrival_rate(
    costs: StepCosts,
    eff: Efficiency,
    *,
    chunk_tokens: int,
    max_batch: int,
    arrival_rate_per_s: float,
) -> SteadyState:
    """The module doc's open loop: requests arriving at ``arrival_rate_per_s``."""
    if max_batch < 1 or chunk_tokens < 1 or arrival_rate_per_s <= 0:
        raise ValueError("max_batch and chunk_tokens must be >= 1, the arrival rate > 0")
    steps = step_constants(costs, eff)
    upper, limit = _upper_batch(steps, chunk_tokens, max_batch)
    top = _point(steps, chunk_tokens, upper, 1.0)
    if arrival_rate_per_s >= top.rate:
        return _result(costs, top, chunk_tokens, math.inf, math.inf, top.rate, limit)

    def rate_at(b: float) -> float:
        return _point(steps, chunk_tokens, b, 1.0).rate

    point = _point(steps, chunk_tokens, _bisect(arrival_rate_per_s, rate_at, 0, upper), 1.0)
    population = point.b + point.rate * point.ttft_s
    return _result(costs, point, chunk_tokens, population, point.ttft_s, point.rate, None)


def _result(
    costs: StepCosts,
    point: _Point,
    chunk: int,
    concurrency: float,
    ttft_s: float,
    rate: float,
    limit: Limit | None,
) -> SteadyState:
    """``limit`` is what saturated the replica, ``None`` below saturation."""
    decode_steps = max(costs.output_tokens - 1, 1)
    wait_s = ttft_s - point.ttft_s + point.wait_s
    return SteadyState(
        concurrency=concurrency,
        arrival_rate_per_s=rate,
        decode_batch=point.b,
        prompt_tokens_per_step=point.prompt_tokens,
        chunk_tokens=chunk,
        ttft_ms=ttft_s * 1e3,
        tpot_ms=point.tpot_s * 1e3,
        prefill_ms=point.prefill_s * 1e3,
        queue_wait_ms=wait_s * 1e3 if math.isfinite(wait_s) else math.inf,
        prompt_budget_used=point.budget_used,
        e2e_ms=(ttft_s + decode_steps * point.tpot_s) * 1e3,
        output_tokens_per_s=rate * costs.output_tokens,
        saturated=limit is not None,
        limit=limit or Limit.NONE,
    )
