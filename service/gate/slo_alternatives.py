"""When the latency SLO is missed: planned setups that meet it, cheapest per hour first."""

from __future__ import annotations

import math
from typing import cast

from service.contract.schemas import ConstraintsIn, PlanRequest, WeightDtype
from service.gate.probe import Probe, engine_fields, layout_of
from service.gate.report import Suggestion


def slo_alternatives(probe: Probe, weights: str, limit: int = 3) -> list[Suggestion]:
    """Up to ``limit`` planned configurations that meet the SLO and hold one sequence of
    ``max_model_len``, cheapest per hour first (``/v1/plan`` on up to 8 GPUs, or the count),
    on GPUs a fix may move to (:meth:`Probe.permitted`). The plan is asked for aggregated
    serving only, so every configuration's ``serving`` is aggregated and its top-level GPU
    count and cost are the ones the suggestion quotes."""
    t = probe.target
    if t.workload is None or t.slo is None:
        return []
    request = PlanRequest(
        model=t.model,
        **engine_fields(t, PlanRequest)[0],
        workload=t.workload,
        slo=t.slo,
        constraints=ConstraintsIn(
            max_gpus=min(max(t.gpu_count, 8), 64),
            weight_dtypes=[cast("WeightDtype", weights)],  # the deployment's own, as resolved
            kv_cache_dtypes=[t.kv_cache_dtype],
            gpu_memory_utilization=t.gpu_memory_utilization,
            expert_parallel=False,  # a fix is a GPU and TP x PP change to the same command
            disaggregated=False,  # nor does it split the command into prefill and decode pools
        ),
    )
    configurations = probe.backend.plan(request).configurations
    meeting = [c for c in configurations if c.meets_slo and probe.permitted(c.gpu)]
    meeting.sort(
        key=lambda c: (math.inf if c.cost_per_hour is None else c.cost_per_hour, c.gpu_count)
    )
    found: list[Suggestion] = []
    current = probe.hourly_cost
    for option in meeting:
        if len(found) == limit:
            break
        layout = layout_of(option)
        if probe.fit(**layout).max_batch < 1:
            continue
        cost = option.cost_per_hour
        found.append(
            Suggestion(
                kind="plan",
                fixes="slo",
                change=(
                    f"{option.gpu_count}x {option.gpu} (TP{option.tensor_parallel}, "
                    f"PP{option.pipeline_parallel}, x{option.replicas} replicas)"
                ),
                outcome=(
                    f"TTFT {option.ttft_ms:,.0f} ms, TPOT {option.tpot_ms:,.1f} ms "
                    f"at batch {option.batch_per_replica} per replica"
                ),
                settings={**layout, "gpu_count": option.gpu_count},
                max_batch=option.max_batch,
                gpu_count=option.gpu_count,
                extra_cost_per_hour=None if cost is None or current is None else cost - current,
            )
        )
    return found
