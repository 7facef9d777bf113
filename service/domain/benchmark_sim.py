"""A closed-loop serving benchmark, simulated step by step on a continuous-batching engine.

Published serving sweeps (``vllm bench serve --max-concurrency N``, SGLang
``bench_serving``, InferenceMAX, NIM's AIPerf/genai-perf) run ``N`` clients, each sending a
request as soon as its previous one finished, ``num_prompts`` in all. With fixed ``ISL``/``OSL``
requests start together and finish together, so prompts arrive in waves, not spread out as
:func:`service.domain.batching.at_concurrency` assumes; a client's ``--random-range-ratio``
spreads the lengths (:func:`request_lengths`) and the waves drift apart. This module replays
that loop.

The scheduler (vLLM V1 ``vllm/v1/core/sched/scheduler.py`` ``Scheduler.schedule``): each
step the ``b`` running decodes take one token each, then running requests still in prefill
and then waiting requests, first come first served, take prompt chunks from the rest of the
budget ``M`` (``max_num_batched_tokens``); a waiting request is admitted only when it gets
tokens and fewer than ``max_batch`` requests are running (the lower of ``max_num_seqs`` and
what the KV cache holds at ``ISL + OSL`` each). The step that computes a prompt's last chunk
yields its first token; each later step one more. TensorRT-LLM's in-flight batching mixes
context and generation tokens the same way within ``max_num_tokens``. SGLang (without
``--enable-mixed-chunk``, its default) runs a waiting prompt batch on its own, decodes
paused (``mixed_prefill=False``). A scheduler that looks for new requests every ``P``
decode steps (SGLang ``--scheduler-recv-interval``,
:attr:`~service.domain.step_time.StepCosts.admission_interval_steps`) sees an arrival only
at its next look: after ``P`` decode-only steps, after any step that carried prompt tokens,
or at once when idle. Speculative decoding is not replayed.

A step's time is the project's cost model, :func:`service.domain.step_time.step_seconds`
(the roofline with fitted factors behind TPOT and prefill). Per request::

    TTFT = first token − arrival    TPOT = (e2e − TTFT)/(OSL − 1)    e2e = last token − arrival

reported as the benchmarks do (means over all requests, the first wave included) and as
medians (TPOT over requests of more than one output token); output throughput is the
output tokens over the time until the last request ends. With fixed lengths the requests of
one wave are identical, so the loop moves cohorts (equal requests together), not requests,
and jumps over stretches of decode-only steps: its work grows with the number of waves and
prompt chunks (with spread lengths, requests), bounded by ``max_events``.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable

import msgspec

from service.domain.latency import Efficiency
from service.domain.step_time import StepCosts, step_seconds

PROMPTS_PER_CLIENT = 10
"""``num_prompts`` when a sweep states none: ten per client, as InferenceMAX's client runs
``--num-prompts $((CONC * 10)) --max-concurrency $CONC`` (InferenceMAX README, "Benchmark
Client Configuration"). An assumption for the other harnesses."""

MAX_EVENTS = 200_000
"""Scheduler iterations one simulation may take before it is refused."""


class SimulationTooLong(ValueError):
    """The benchmark would need more than ``max_events`` scheduler iterations."""


class BenchmarkRun(msgspec.Struct, frozen=True, kw_only=True):
    """What a closed-loop benchmark reports (module doc); times in ms."""

    mean_ttft_ms: float
    median_ttft_ms: float
    mean_tpot_ms: float
    median_tpot_ms: float
    mean_e2e_ms: float
    median_e2e_ms: float
    duration_ms: float
    output_tokens: int
    output_tokens_per_s: float
    steps: int


class _Cohort:
    """``count`` identical requests: lengths, arrival, prompt tokens computed, first token."""

    __slots__ = ("arrival_s", "computed", "count", "first_s", "isl", "osl")

    def __init__(self, count: int, arrival_s: float, isl: int, osl: int) -> None:
        self.count, self.arrival_s, self.isl, self.osl = count, arrival_s, isl, osl
        self.computed, self.first_s = 0, 0.0

    def split(self, count: int) -> _Cohort:
        """Take ``count`` requests off into a cohort of their own (same progress)."""
        other = _Cohort(count, self.arrival_s, self.isl, self.osl)
        other.computed, self.count = self.computed, self.count - count
        return other


def request_lengths(k: int, isl: int, osl: int, ratio: float) -> tuple[int, int]:
    """The ``k``-th request's (ISL, OSL) under ``--random-range-ratio ratio``: each length
    uniform over the integers ``[⌊ratio·L⌋, L]`` (SGLang ``bench_serving`` and the
    vLLM-derived client of InferenceMAX), taken at the low-discrepancy points
    ``frac(k·φ)`` and ``frac(k·√2)`` instead of random draws, so the run is repeatable."""

    def at(length: int, u: float) -> int:
        low = max(1, math.floor(ratio * length))
        return low + math.floor(u * (length - low + 1))

    return at(isl, (k * _PHI) % 1.0), at(osl, (k * _SQRT2) % 1.0)


_PHI = (1 + math.sqrt(5)) / 2
_SQRT2 = math.sqrt(2)


def _chunks(
    queue: deque[_Cohort], budget: int, slots: int, *, chunked: bool, first: bool
) -> list[tuple[_Cohort, int]]:
    """FCFS prompt chunks from ``queue`` within ``budget`` tokens and ``slots`` requests:
    whole remainders first, then one request's partial chunk (``chunked``; else, when the
    step has no prompt yet (``first``), one whole prompt over the budget); a cohort splits
    where its requests part ways. Cohorts given tokens leave ``queue``; the rest stay."""
    planned: list[tuple[_Cohort, int]] = []
    while queue and budget > 0 and slots > 0:
        head = queue[0]
        need = head.isl - head.computed
        whole = min(head.count, slots, budget // need)
        if whole == 0:  # budget < need: one request takes what is left, or all it needs
            if chunked or (first and not planned):
                taken = head.split(1) if head.count > 1 else queue.popleft()
                planned.append((taken, budget if chunked else need))
            break
        planned.append((queue.popleft() if whole == head.count else head.split(whole), need))
        budget, slots = budget - whole * need, slots - whole
    return planned


def simulate_closed_loop(
    costs: StepCosts,
    eff: Efficiency,
    *,
    clients: int,
    num_prompts: int,
    chunk_tokens: int,
    max_batch: int,
    mixed_prefill: bool = True,
    chunked_prefill: bool = True,
    length_ratio: float = 1.0,
    max_events: int = MAX_EVENTS,
) -> BenchmarkRun:
    """The module doc's benchmark: ``clients`` users, ``num_prompts`` requests in all, of
    the cost model's ISL and OSL, or spread below them by ``length_ratio``
    (:func:`request_lengths`; 1: fixed lengths, every wave one cohort)."""

    def price(decode_batch: int, prompt_tokens: int, repeats: int) -> float:
        return repeats * step_seconds(
            costs, eff, decode_batch=decode_batch, prompt_tokens=prompt_tokens
        )

    return run_scheduler(
        price,
        isl=costs.input_tokens,
        osl=costs.output_tokens,
        clients=clients,
        num_prompts=num_prompts,
        chunk_tokens=chunk_tokens,
        max_batch=max_batch,
        mixed_prefill=mixed_prefill,
        chunked_prefill=chunked_prefill,
        length_ratio=length_ratio,
        max_events=max_events,
        admission_interval=costs.admission_interval_steps,
    )


def run_scheduler(
    price: Callable[[int, int, int], float],
    *,
    isl: int,
    osl: int,
    clients: int,
    num_prompts: int,
    chunk_tokens: int,
    max_batch: int,
    mixed_prefill: bool = True,
    chunked_prefill: bool = True,
    length_ratio: float = 1.0,
    max_events: int = MAX_EVENTS,
    admission_interval: int = 1,
) -> BenchmarkRun:
    """The module doc's scheduler loop over ``num_prompts`` requests of ``clients`` users;
    ``price(decode_batch, prompt_tokens, repeats)`` is the time of ``repeats`` equal steps
    (the cost model here; a recorder in :mod:`service.domain.offline_benchmark`); arrivals
    wait in an inbox until the scheduler's next look (``admission_interval``, module doc)."""
    if min(clients, num_prompts, chunk_tokens, max_batch, admission_interval) < 1:
        raise ValueError(
            "clients, num_prompts, chunk_tokens, max_batch and admission_interval must be >= 1"
        )
    if not 0 <= length_ratio <= 1:
        raise ValueError("length_ratio must be in [0, 1] (0: lengths from 1 token up)")
    inbox: deque[_Cohort] = deque()
    waiting: deque[_Cohort] = deque()
    prefilling: deque[_Cohort] = deque()
    decoding: list[tuple[int, int, _Cohort]] = []
    order = itertools.count()
    sent, admitted, decoders, clock, now, steps, events = 0, 0, 0, 0, 0.0, 0, 0
    since_look = 0  # decode-only steps since the scheduler last looked (1..P after a step)
    done: list[tuple[int, float, float, int]] = []  # (count, ttft_s, e2e_s, osl)

    def send(count: int) -> None:
        nonlocal sent
        if length_ratio == 1:
            last = inbox[-1] if inbox else None
            if last is not None and last.arrival_s == now:
                last.count += count
            else:
                inbox.append(_Cohort(count, now, isl, osl))
        for k in range(sent, sent + count) if length_ratio < 1 else ():
            inbox.append(_Cohort(1, now, *request_lengths(k + 1, isl, osl, length_ratio)))
        sent += count

    def finish(cohort: _Cohort) -> None:
        span = (cohort.first_s - cohort.arrival_s, now - cohort.arrival_s)
        done.append((cohort.count, *span, cohort.osl))
        if sent < num_prompts:
            send(min(cohort.count, num_prompts - sent))

    send(min(clients, num_prompts))

    while decoding or prefilling or waiting or inbox:
        events += 1
        if events > max_events:
            raise SimulationTooLong(f"more than {max_events} scheduler iterations")
        idle = not (decoding or prefilling or waiting)
        if inbox and (since_look >= admission_interval or idle):
            waiting.extend(inbox)
            inbox.clear()
            since_look = 0
        slots = max_batch - admitted
        prefill_possible = bool(prefilling) or (bool(waiting) and slots > 0)
        if not prefill_possible:  # decode-only stretch until the next cohort ends
            if not decoding:
                break
            ahead = decoding[0][0] - clock
            if inbox:  # stop at the scheduler's next look
                ahead = min(ahead, admission_interval - since_look)
                since_look += ahead
            else:  # it looks every P steps, finding nothing: the count after the last step
                since_look = (since_look + ahead - 1) % admission_interval + 1
            now += price(decoders, 0, ahead)
            clock, steps = clock + ahead, steps + ahead
        else:
            decode = decoders if mixed_prefill else 0
            budget = chunk_tokens - decode
            planned = _chunks(prefilling, budget, admitted, chunked=chunked_prefill, first=True)
            used = sum(c.count * t for c, t in planned)
            fresh = _chunks(waiting, budget - used, slots, chunked=chunked_prefill, first=used == 0)
            admitted += sum(c.count for c, _ in fresh)
            planned += fresh
            prompt = sum(c.count * t for c, t in planned)
            now += price(decode, prompt, 1)
            steps, since_look = steps + 1, admission_interval  # a prompt step: look next
            clock += 1 if decode else 0
            for cohort, tokens in planned:
                cohort.computed += tokens
                if cohort.computed < cohort.isl:
                    prefilling.append(cohort)
                    continue
                cohort.first_s = now
                if cohort.osl <= 1:
                    admitted -= cohort.count
                    finish(cohort)
                else:
                    heapq.heappush(decoding, (clock + cohort.osl - 1, next(order), cohort))
                    decoders += cohort.count
        while decoding and decoding[0][0] <= clock:
            ended = heapq.heappop(decoding)[2]
            decoders -= ended.count
            admitted -= ended.count
            finish(ended)
    return _report(done, now, steps)


def _report(done: list[tuple[int, float, float, int]], end_s: float, steps: int) -> BenchmarkRun:
    """Means and medians over requests (each cohort weighted by its count); TPOT over
    requests of more than one output token."""

    def stats(values: list[tuple[int, float]]) -> tuple[float, float]:
        total = sum(n for n, _ in values)
        ordered = sorted(values, key=lambda nv: nv[1])
        ends = list(itertools.accumulate(n for n, _ in ordered))

        def kth(k: int) -> float:  # the k-th smallest request's value, from 0
            return ordered[next(i for i, end in enumerate(ends) if end > k)][1]

        mean = sum(n * v for n, v in values) / total
        median = (kth((total - 1) // 2) + kth(total // 2)) / 2
        return mean * 1e3, median * 1e3

    ttft = stats([(n, t) for n, t, _, _ in done])
    e2e = stats([(n, e) for n, _, e, _ in done])
    streams = [(n, (e - t) / (osl - 1)) for n, t, e, osl in done if osl > 1]
    tpot = stats(streams) if streams else (0.0, 0.0)  # as vllm bench serve: OSL > 1 only
    tokens = sum(n * osl for n, _, _, osl in done)
    return BenchmarkRun(
        mean_ttft_ms=ttft[0],
        median_ttft_ms=ttft[1],
        mean_tpot_ms=tpot[0],
        median_tpot_ms=tpot[1],
        mean_e2e_ms=e2e[0],
        median_e2e_ms=e2e[1],
        duration_ms=end_s * 1e3,
        output_tokens=tokens,
        output_tokens_per_s=tokens / end_s if end_s > 0 else 0.0,
        steps=steps,
    )
