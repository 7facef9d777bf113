"""The cheapest changes that make a failing deployment pass, each re-checked before it is offered.

Configuration changes cost nothing and come first, in the order fp8 KV cache, a shorter
``max_model_len``, fewer ``max_num_seqs``, fp8 weights; hardware changes (more tensor
parallelism, another GPU from the catalog) follow, cheapest added USD per hour first. Another
GPU is of the same vendor unless ``--allow-gpus`` names others; ``--deny-gpus`` excludes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import cast

from msgspec.structs import replace

from service.contract.schemas import ConstraintsIn, PlanRequest, WeightDtype, WorkloadIn
from service.domain.moe import expert_parallel_problem
from service.domain.parallel import valid_tensor_parallel_degrees
from service.domain.precision import Precision
from service.gate.probe import Probe, engine_fields, layout_of
from service.gate.report import Suggestion
from service.gate.text import sequences, tokens

KIND_ORDER = (
    "kv_cache_dtype",
    "max_model_len",
    "max_num_seqs",
    "weight_dtype",
    "tensor_parallel",
    "gpu",
)
_SIXTEEN_BIT = frozenset({"bf16", "fp16", "fp32"})


CONFIGURATION = frozenset({"kv_cache_dtype", "max_model_len", "max_num_seqs", "weight_dtype"})


def _rank(suggestion: Suggestion) -> tuple[int, float, int]:
    """Free configuration changes first, in :data:`KIND_ORDER`; then hardware by added cost
    (a cheaper GPU is still a hardware change: it needs new machines)."""
    if suggestion.kind in CONFIGURATION:
        return (0, 0.0, KIND_ORDER.index(suggestion.kind))
    cost = suggestion.extra_cost_per_hour
    return (1, math.inf if cost is None else cost, KIND_ORDER.index(suggestion.kind))


def kv_fp8(probe: Probe, need: int, resolved_kv: str) -> Suggestion | None:
    if resolved_kv == "fp8" or not probe.gpu.supports(Precision.FP8):
        return None
    result = probe.fit(kv_cache_dtype="fp8")
    if result.max_batch < need:
        return None
    return Suggestion(
        kind="kv_cache_dtype",
        fixes="",
        change=probe.setting("kv_cache_dtype", "fp8"),
        outcome=f"holds {sequences(result.max_batch)} of {tokens(probe.context)} tokens",
        settings={"kv_cache_dtype": "fp8"},
        max_batch=result.max_batch,
        gpu_count=probe.target.gpu_count,
        extra_cost_per_hour=0.0,
    )


def shorter_context(probe: Probe, need: int) -> Suggestion | None:
    """The largest ``max_model_len`` below the current one that holds ``need`` sequences."""

    def holds(context: int) -> bool:
        return probe.fit(context_length=context).max_batch >= need

    low, high = 0, min(probe.context - 1, probe.arch.max_context_tokens)
    while low < high:
        middle = (low + high + 1) // 2
        if holds(middle):
            low = middle
        else:
            high = middle - 1
    if low == 0:
        return None
    return Suggestion(
        kind="max_model_len",
        fixes="",
        change=probe.setting("max_model_len", low),
        outcome=f"the longest context that holds {sequences(need)} ({tokens(low)} tokens)",
        settings={"max_model_len": low},
        max_batch=probe.fit(context_length=low).max_batch,
        gpu_count=probe.target.gpu_count,
        extra_cost_per_hour=0.0,
    )


def fewer_sequences(probe: Probe, need: int, max_batch: int) -> Suggestion | None:
    if need <= 1 or max_batch < 1 or probe.fit(max_num_seqs=max_batch).max_batch < max_batch:
        return None
    return Suggestion(
        kind="max_num_seqs",
        fixes="",
        change=probe.setting("max_num_seqs", max_batch),
        outcome=f"all {max_batch} sequences of {tokens(probe.context)} tokens fit at once",
        settings={"max_num_seqs": max_batch},
        max_batch=max_batch,
        gpu_count=probe.target.gpu_count,
        extra_cost_per_hour=0.0,
    )


def fp8_weights(probe: Probe, need: int, resolved_weights: str) -> Suggestion | None:
    if resolved_weights not in _SIXTEEN_BIT or not probe.gpu.supports(Precision.FP8):
        return None
    result = probe.fit(weight_dtype="fp8")
    if result.max_batch < need:
        return None
    return Suggestion(
        kind="weight_dtype",
        fixes="",
        change=probe.setting("quantization", "fp8"),
        outcome=f"fp8 weights hold {sequences(result.max_batch)} of {tokens(probe.context)} tokens",
        settings={"quantization": "fp8"},
        max_batch=result.max_batch,
        gpu_count=probe.target.gpu_count,
        extra_cost_per_hour=0.0,
    )


def wider_tensor_parallel(probe: Probe, need: int) -> Suggestion | None:
    """The smallest higher TP degree (within one node) that holds ``need`` sequences."""
    t = probe.target
    for degree in valid_tensor_parallel_degrees(probe.arch, probe.gpu.max_gpus_per_node):
        if degree <= t.tensor_parallel:
            continue
        if t.expert_parallel and expert_parallel_problem(probe.arch, degree):
            continue
        result = probe.fit(tensor_parallel=degree)
        if result.max_batch < need:
            continue
        count = degree * t.pipeline_parallel * t.replicas
        price = probe.gpu.price_per_hour_usd
        return Suggestion(
            kind="tensor_parallel",
            fixes="",
            change=f"{probe.setting('tensor_parallel', degree)} ({count}x {t.gpu})",
            outcome=f"holds {sequences(result.max_batch)} of {tokens(probe.context)} tokens",
            settings={"tensor_parallel": degree, "gpu_count": count},
            max_batch=result.max_batch,
            gpu_count=count,
            extra_cost_per_hour=None if price is None else (count - t.gpu_count) * price,
        )
    return None


def other_gpu(probe: Probe, need: int, weights: str) -> Suggestion | None:
    """The cheapest other catalog GPU that holds ``need`` sequences on no more GPUs per replica,
    with the deployment's own weights (``weights``, as resolved: the plan would otherwise
    also try fp8 where native, which the change would not apply)."""
    t = probe.target
    request = PlanRequest(
        model=t.model,
        **engine_fields(t, PlanRequest)[0],
        workload=WorkloadIn(
            input_tokens=max(1, probe.context - 1), output_tokens=1, concurrency=need
        ),
        constraints=ConstraintsIn(
            max_gpus=min(t.gpus_per_replica, 64),
            weight_dtypes=[cast("WeightDtype", weights)],
            kv_cache_dtypes=[t.kv_cache_dtype],
            gpu_memory_utilization=t.gpu_memory_utilization,
        ),
    )
    options = [
        c
        for c in probe.backend.plan(request).configurations
        if c.gpu != t.gpu and c.replicas == 1 and probe.permitted(c.gpu)
    ]
    options.sort(
        key=lambda c: (math.inf if c.cost_per_hour is None else c.cost_per_hour, c.gpu_count)
    )
    for option in options:
        result = probe.fit(**layout_of(option))
        if result.max_batch < need:
            continue
        count = option.gpu_count * t.replicas
        current = probe.hourly_cost
        cost = option.cost_per_hour
        return Suggestion(
            kind="gpu",
            fixes="",
            change=f"{probe.setting('gpu', option.gpu)} ({count}x, TP{option.tensor_parallel})",
            outcome=f"holds {sequences(result.max_batch)} of {tokens(probe.context)} tokens",
            settings={**layout_of(option), "gpu_count": count},
            max_batch=result.max_batch,
            gpu_count=count,
            extra_cost_per_hour=None
            if cost is None or current is None
            else cost * t.replicas - current,
        )
    return None


def suggest(
    probe: Probe,
    need: int,
    max_batch: int,
    resolved: tuple[str, str],
    fixes: str,
) -> list[Suggestion]:
    """Every kind of change that makes ``need`` sequences of the context fit, ranked.

    ``resolved`` is the (weight, KV) precision the backend resolved ``auto`` to.
    """
    resolved_weights, resolved_kv = resolved
    makers: list[Callable[[], Suggestion | None]] = [
        lambda: kv_fp8(probe, need, resolved_kv),
        lambda: shorter_context(probe, need),
        lambda: fewer_sequences(probe, need, max_batch),
        lambda: fp8_weights(probe, need, resolved_weights),
        lambda: wider_tensor_parallel(probe, need),
        lambda: other_gpu(probe, need, resolved_weights),
    ]
    found = [replace(s, fixes=fixes) for make in makers if (s := make()) is not None]
    return sorted(found, key=_rank)
