"""The throughput–interactivity frontier: one replica from one user to saturation.

Each point is the steady state at a concurrency ``C``
(:func:`service.domain.batching.at_concurrency`)::

    output_tokens_per_s_per_user = 1000 / TPOT        (the decode speed one user sees)
    output_tokens_per_s_per_gpu  = output_tokens_per_s / (tp · pp)

Concurrencies run 1, 2, 3, 4, 6, 8, 12, 16, … (steps of about √2) up to the saturation
point (:func:`service.domain.batching.saturation_point`), which is always the last point:
past it more users only wait longer, so ``max_output_tokens_per_s`` is its throughput.
"""

from __future__ import annotations

import math
from typing import Annotated

import msgspec

from service.domain.batching import at_concurrency, saturation_point
from service.domain.latency import Efficiency
from service.domain.step_time import StepCosts

MAX_POINTS = 64


class FrontierPoint(msgspec.Struct, frozen=True, kw_only=True):
    concurrency: Annotated[int, msgspec.Meta(description="Requests in flight (count)")]
    ttft_ms: Annotated[
        float, msgspec.Meta(description="Time to first token at this concurrency, milliseconds")
    ]
    tpot_ms: Annotated[
        float, msgspec.Meta(description="Time per output token at this concurrency, milliseconds")
    ]
    e2e_ms: Annotated[
        float, msgspec.Meta(description="End-to-end time of one request, milliseconds")
    ]
    output_tokens_per_s: Annotated[
        float, msgspec.Meta(description="Generated tokens per second, all requests (one replica)")
    ]
    output_tokens_per_s_per_user: Annotated[
        float, msgspec.Meta(description="Generated tokens per second seen by one request")
    ]
    output_tokens_per_s_per_gpu: Annotated[
        float, msgspec.Meta(description="Generated tokens per second per GPU")
    ]
    saturated: Annotated[
        bool, msgspec.Meta(description="Whether this concurrency is at or past saturation")
    ]
    meets_slo: (
        Annotated[bool, msgspec.Meta(description="Whether it is within the SLO; null without one")]
        | None
    ) = None


class Frontier(msgspec.Struct, frozen=True, kw_only=True):
    points: list[FrontierPoint]
    max_output_tokens_per_s: float
    saturation_concurrency: int
    saturation_limit: str
    best_meeting_slo: FrontierPoint | None = None


def concurrency_grid(saturation: int, max_points: int = MAX_POINTS) -> list[int]:
    """1, 2, 3, 4, 6, 8, 12, … below ``saturation``, then ``saturation`` itself."""
    grid: list[int] = []
    power = 1
    while power < saturation and len(grid) < max_points - 1:
        for value in (power, math.floor(power * 1.5)):
            if value < saturation and value not in grid and len(grid) < max_points - 1:
                grid.append(value)
        power *= 2
    return [*grid, max(saturation, 1)]


def _meets(point: FrontierPoint, ttft_ms: float | None, tpot_ms: float | None) -> bool | None:
    if ttft_ms is None and tpot_ms is None:
        return None
    return (ttft_ms is None or point.ttft_ms <= ttft_ms) and (
        tpot_ms is None or point.tpot_ms <= tpot_ms
    )


def frontier(
    costs: StepCosts,
    eff: Efficiency,
    *,
    chunk_tokens: int,
    max_batch: int,
    gpus: int,
    slo_ttft_ms: float | None = None,
    slo_tpot_ms: float | None = None,
) -> Frontier:
    """The curve of the module doc, with each point judged against the SLO when given."""
    knee = saturation_point(costs, eff, chunk_tokens=chunk_tokens, max_batch=max_batch)
    top = max(1, math.ceil(knee.concurrency))
    points = []
    for users in concurrency_grid(top):
        state = at_concurrency(
            costs, eff, chunk_tokens=chunk_tokens, max_batch=max_batch, concurrency=users
        )
        point = FrontierPoint(
            concurrency=users,
            ttft_ms=state.ttft_ms,
            tpot_ms=state.tpot_ms,
            e2e_ms=state.e2e_ms,
            output_tokens_per_s=state.output_tokens_per_s,
            output_tokens_per_s_per_user=1e3 / state.tpot_ms,
            output_tokens_per_s_per_gpu=state.output_tokens_per_s / gpus,
            saturated=state.saturated,
        )
        verdict = _meets(point, slo_ttft_ms, slo_tpot_ms)
        points.append(msgspec.structs.replace(point, meets_slo=verdict))
    meeting = [p for p in points if p.meets_slo]
    return Frontier(
        points=points,
        max_output_tokens_per_s=max(
            knee.output_tokens_per_s, *(p.output_tokens_per_s for p in points)
        ),
        saturation_concurrency=top,
        saturation_limit=knee.limit.value,
        best_meeting_slo=max(meeting, key=lambda p: p.output_tokens_per_s) if meeting else None,
    )
