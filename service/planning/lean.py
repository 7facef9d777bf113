"""A plan answer people and scripts can read: the best few, nothing dominated, no repeats.

A whole-catalog plan finds ~100 configurations and ~40 rejections (86-95 KB); most are the
same deployment on more GPUs for nothing, or the same one twice (``auto`` resolving to a
listed dtype). :func:`lean_plan`:

1. merges duplicates: same GPU, layout (expert and attention-DP settings included),
   replicas and resolved dtypes (the better-ranked one stays);
2. prunes dominated configurations: B is dropped when some A uses fewer GPUs and is no worse
   on TTFT, TPOT, throughput, cost and meeting the SLO ("more GPUs for no better anything"),
   each compared by the arrangement it recommends (``serving``: the disaggregated pools'
   figures when they beat aggregated serving, as the ranking does);
3. keeps the best ``limit`` in rank order;
4. counts rejections by reason, standalone numbers replaced by ``#`` (digits attached to
   letters, as in "A100" or "fp8", are kept) so that "needs 151 GB" and
   "needs 160 GB" are one reason; every rejection is listed only with ``include_rejected="all"``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

from service.contract.schemas import PlannedConfiguration, PlanResponse, RejectionGroup
from service.domain.planner import Rejection

# A standalone number (whole, so no digit of "A100", "SXM4", "80GB" or "fp8" is masked).
_NUMBER = re.compile(r"(?<![\w.,])(?>\d+(?:[.,]\d+)*(?:e[+-]?\d+)?)(?!\w)")


def lean_plan(response: PlanResponse, limit: int, include_rejected: str) -> PlanResponse:
    """``response`` with merged, pruned and limited configurations and summarised rejections."""
    unique = _merge_duplicates(response.configurations)
    kept = _prune_dominated(unique)
    return msgspec.structs.replace(
        response,
        configurations=kept[:limit],
        considered=len(response.configurations),
        pruned=len(unique) - len(kept),
        rejected=list(response.rejected) if include_rejected == "all" else [],
        rejections=summarise_rejections(response.rejected),
    )


def _merge_duplicates(ranked: Sequence[PlannedConfiguration]) -> list[PlannedConfiguration]:
    seen: set[tuple[object, ...]] = set()
    unique: list[PlannedConfiguration] = []
    for c in ranked:
        key = (
            c.gpu,
            c.tensor_parallel,
            c.pipeline_parallel,
            c.replicas,
            c.weight_dtype,
            c.kv_cache_dtype,
            c.expert_parallel,
            c.attention_data_parallel,
        )
        if key not in seen:
            seen.add(key)
            unique.append(c)
    return unique


def _no_worse(first: PlannedConfiguration, second: PlannedConfiguration) -> bool:
    """Whether ``first`` is at least as good as ``second`` on every measure a user ranks by,
    each by its recommended arrangement."""
    a, b = first.served(), second.served()
    if a.cost_per_hour is None or b.cost_per_hour is None:
        cost_ok = a.cost_per_hour is None and b.cost_per_hour is None
    else:
        cost_ok = a.cost_per_hour <= b.cost_per_hour
    return (
        cost_ok
        and a.ttft_ms <= b.ttft_ms
        and a.tpot_ms <= b.tpot_ms
        and a.output_tokens_per_s >= b.output_tokens_per_s
        and (a.meets_slo or not b.meets_slo)
    )


def _prune_dominated(ranked: list[PlannedConfiguration]) -> list[PlannedConfiguration]:
    """Drop every configuration some configuration with fewer GPUs is no worse than (GPUs of
    the recommended arrangement).

    Only the Pareto frontier of the smaller deployments needs checking (dominance is
    transitive), so it is built up GPU count by GPU count.
    """
    dominated: set[int] = set()
    frontier: list[PlannedConfiguration] = []
    by_count: dict[int, list[int]] = {}
    for index, c in enumerate(ranked):
        by_count.setdefault(c.served().gpu_count, []).append(index)
    for count in sorted(by_count):
        group = [ranked[i] for i in by_count[count]]
        for index, c in zip(by_count[count], group, strict=True):
            if any(_no_worse(a, c) for a in frontier):
                dominated.add(index)
        survivors = [c for i, c in zip(by_count[count], group, strict=True) if i not in dominated]
        merged = frontier + survivors
        frontier = [
            c for c in merged if not any(a is not c and _strictly_better(a, c) for a in merged)
        ]
    return [c for index, c in enumerate(ranked) if index not in dominated]


def _strictly_better(a: PlannedConfiguration, b: PlannedConfiguration) -> bool:
    """``a`` no worse than ``b`` and not the same on every measure (frontier upkeep)."""
    return _no_worse(a, b) and _measures(a) != _measures(b)


def _measures(c: PlannedConfiguration) -> tuple[float | None, float, float, float, bool]:
    """What :func:`_no_worse` compares, of the recommended arrangement."""
    s = c.served()
    return (s.cost_per_hour, s.ttft_ms, s.tpot_ms, s.output_tokens_per_s, s.meets_slo)


def reason_kind(reason: str) -> str:
    """A rejection reason with its standalone numbers as ``#``: the key rejections are counted
    by. Digits attached to letters belong to a name ("A100", "fp8") and are kept."""
    return _NUMBER.sub("#", reason)


def summarise_rejections(rejected: Sequence[Rejection]) -> list[RejectionGroup]:
    """Rejections grouped by :func:`reason_kind`, most frequent first."""
    groups: dict[str, list[Rejection]] = {}
    for rejection in rejected:
        groups.setdefault(reason_kind(rejection.reason), []).append(rejection)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return [
        RejectionGroup(
            reason=kind,
            count=len(members),
            example=members[0].reason,
            gpus=sorted({member.gpu for member in members}),
        )
        for kind, members in ordered
    ]
