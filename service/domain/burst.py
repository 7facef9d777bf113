"""``N`` prompts arriving together: a static batch, a thundering herd, or the first wave of
a closed-loop benchmark (``vllm bench serve`` at an infinite request rate).

All are prefilled before the last one's first token: ``⌈N·ISL/M⌉`` full chunks of the
step budget ``M``. Past the batch ceiling they come in waves: each wave of ``max_batch``
prefills, decodes and leaves before the next is admitted (:func:`burst`).
"""

from __future__ import annotations

import math

import msgspec

from service.domain.latency import Efficiency
from service.domain.step_time import StepCosts, step_seconds


class Burst(msgspec.Struct, frozen=True):
    """``N`` simultaneous prompts: the last one's first token and the mean over all ``N``
    (seconds)."""

    last_s: float
    mean_s: float


def _ceil_sum(n: int, k: int) -> int:
    """``Σ_{i=1..n} ⌈i·k/n⌉`` in closed form: ``((k − 1)(n − 1) + g − 1)/2 + k + n − g``
    with ``g = gcd(k, n)`` (the floor sum over ``i < n`` plus the ``i = n`` term, plus one
    for each ``i`` whose ``i·k/n`` is not whole)."""
    g = math.gcd(k, n)
    return ((k - 1) * (n - 1) + g - 1) // 2 + k + n - g


def burst(
    costs: StepCosts, eff: Efficiency, *, prompts: int, chunk_tokens: int, max_batch: int
) -> Burst:
    """``prompts`` simultaneous prompts under a batch ceiling of ``max_batch`` (module doc).

    A wave of ``n = min(N, max_batch)`` is admitted at once and prefilled in
    ``K = ⌈n·ISL/M⌉`` equal steps of ``n·ISL/K`` tokens, in arrival order: prompt ``i`` of
    the wave gets its first token after step ``⌈i·K/n⌉``. The wave then decodes its
    ``OSL − 1`` other tokens at batch ``n`` and leaves together, and the next wave is
    admitted; the last wave holds the rest."""
    admitted = max(1, min(prompts, max_batch))
    full, rest = divmod(prompts, admitted)
    decode_steps = max(costs.output_tokens - 1, 0)

    def wave(n: int) -> tuple[float, float, float]:
        """(prefill seconds, mean first token after the wave's start, decode seconds)."""
        total = n * costs.input_tokens
        steps = math.ceil(total / chunk_tokens)
        step_s = step_seconds(costs, eff, decode_batch=0.0, prompt_tokens=total / steps)
        decode_s = decode_steps * step_seconds(costs, eff, decode_batch=n, prompt_tokens=0.0)
        return steps * step_s, step_s * _ceil_sum(n, steps) / n, decode_s

    prefill_s, first_s, decode_s = wave(admitted)
    waves, last_n = (full, admitted) if rest == 0 else (full + 1, rest)
    last_prefill_s, last_first_s = (prefill_s, first_s) if rest == 0 else wave(rest)[:2]
    period = prefill_s + decode_s
    before = waves - 1
    # The full waves before the last start at 0, P, 2P, ...: their starts sum to P·w(w − 1)/2.
    total_s = admitted * (before * first_s + period * before * (before - 1) / 2)
    total_s += last_n * (before * period + last_first_s)
    return Burst(last_s=before * period + last_prefill_s, mean_s=total_s / prompts)


def burst_ttft_seconds(
    costs: StepCosts, eff: Efficiency, *, prompts: int, chunk_tokens: int, max_batch: int
) -> float:
    """``prompts`` simultaneous prompts until the last one's first token (:func:`burst`)."""
    return burst(costs, eff, prompts=prompts, chunk_tokens=chunk_tokens, max_batch=max_batch).last_s


def burst_mean_ttft_seconds(
    costs: StepCosts, eff: Efficiency, *, prompts: int, chunk_tokens: int, max_batch: int
) -> float:
    """The mean first-token time of ``prompts`` simultaneous prompts (:func:`burst`)."""
    return burst(costs, eff, prompts=prompts, chunk_tokens=chunk_tokens, max_batch=max_batch).mean_s
