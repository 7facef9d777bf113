"""An offline throughput benchmark's schedule, computed once and priced under any factors.

``trtllm-bench throughput`` and ``vllm bench throughput`` queue every request at once (the
perf-overview docs state ``num_requests`` per ISL/OSL). With every request present from the
start, which sequences a step carries depends only on the scheduler's token budget and batch
limit, never on how long steps take: the step-by-step schedule of
:func:`service.domain.benchmark_sim.run_scheduler` is a fixed list of step shapes. It is
computed once (:func:`offline_schedule`) and priced with the answers' step cost model under
any efficiencies (:func:`schedule_seconds`), which keeps the calibration fit cheap::

    throughput = requests·OSL / Σ count·t_step(decode_batch, prompt_tokens)

The schedule holds what a steady-state formula leaves out: each wave's prefill ramp within
the budget, the decode stretches, and the last, partial wave when ``requests`` is not a
multiple of the batch (1,500 requests at a batch of 1,462 leave 38 that decode alone).
"""

from __future__ import annotations

import math

import msgspec

from service.domain.benchmark_sim import MAX_EVENTS, run_scheduler
from service.domain.latency import Efficiency
from service.domain.step_time import StepCosts, step_constants


class StepShape(msgspec.Struct, frozen=True, kw_only=True):
    """``count`` scheduler steps each carrying ``decode_batch`` decodes and
    ``prompt_tokens`` prompt tokens."""

    count: int
    decode_batch: float
    prompt_tokens: float


def offline_schedule(
    *,
    input_tokens: int,
    output_tokens: int,
    requests: int,
    chunk_tokens: int,
    max_batch: int,
    chunked_prefill: bool = True,
    resolution: float = 0.0,
    max_events: int = MAX_EVENTS,
) -> tuple[StepShape, ...]:
    """The steps of an offline throughput benchmark (``trtllm-bench throughput``, ``vllm
    bench throughput``): ``requests`` fixed-length requests all queued at once, served by
    the module's scheduler. With every request present from the start, which sequences a
    step carries never depends on how long steps take, so the schedule is computed once and
    priced under any efficiencies (:func:`schedule_seconds`); it holds the waves' prefill
    ramp, the decode stretches and the last, partial wave when ``requests`` is not a
    multiple of the batch. Steps of equal shape are counted together, and with
    ``resolution`` > 0 steps of nearly equal shape too (:func:`_merged`)."""
    shapes: dict[tuple[int, int], int] = {}

    def record(decode_batch: int, prompt_tokens: int, repeats: int) -> float:
        key = (decode_batch, prompt_tokens)
        shapes[key] = shapes.get(key, 0) + repeats
        return float(repeats)

    run_scheduler(
        record,
        isl=input_tokens,
        osl=output_tokens,
        clients=requests,
        num_prompts=requests,
        chunk_tokens=chunk_tokens,
        max_batch=max_batch,
        chunked_prefill=chunked_prefill,
        max_events=max_events,
    )
    return _merged(shapes, resolution)


def _merged(shapes: dict[tuple[int, int], int], resolution: float) -> tuple[StepShape, ...]:
    """Steps whose decode batch and prompt tokens each lie within one geometric bin of
    ``1 + resolution`` merged into one shape at their count-weighted means: exact for
    every term of a step linear in its tokens, and within the bin's width for the
    weight-read kink and an MoE step's experts touched."""
    if resolution <= 0:
        return tuple(
            StepShape(count=n, decode_batch=b, prompt_tokens=p) for (b, p), n in shapes.items()
        )
    step = math.log1p(resolution)

    def bin_of(x: int) -> int:
        return 0 if x == 0 else 1 + round(math.log(x) / step)

    bins: dict[tuple[int, int], list[float]] = {}
    for (b, p), n in shapes.items():
        total = bins.setdefault((bin_of(b), bin_of(p)), [0.0, 0.0, 0.0])
        total[0] += n
        total[1] += n * b
        total[2] += n * p
    return tuple(
        StepShape(count=int(n), decode_batch=b / n, prompt_tokens=p / n)
        for n, b, p in bins.values()
    )


def schedule_seconds(schedule: tuple[StepShape, ...], costs: StepCosts, eff: Efficiency) -> float:
    """A schedule's wall time: ``Σ count·t_step(decode_batch, prompt_tokens)``."""
    constants = step_constants(costs, eff)
    return sum(s.count * constants.seconds(s.decode_batch, s.prompt_tokens) for s in schedule)
