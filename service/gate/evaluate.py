"""The gate's verdict: fits, concurrency and SLO checks for one target, from any backend.

vLLM refuses to start unless one sequence of ``max_model_len`` fits in the KV cache, so
"fits" means ``max_batch >= 1`` at that context. ``max_num_seqs`` sequences that do not fit
at once only warn (vLLM queues them), unless ``require_full_concurrency`` is set.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

from service.catalog_files import default_engine_profile
from service.contract.schemas import LatencyRequest, MaxBatchRequest, MaxBatchResponse
from service.domain.architecture import Architecture
from service.domain.capacity import Deployment, MemoryBudget, sequence_kv_bytes
from service.domain.moe import expert_parallel_problem
from service.domain.precision import Precision
from service.gate.backend import Backend, Rejected
from service.gate.names import resolve_names
from service.gate.probe import Probe, engine_fields
from service.gate.report import Check, LatencyOut, Report, Setup, Status
from service.gate.slo_alternatives import slo_alternatives
from service.gate.suggest import suggest
from service.gate.target import Target
from service.gate.text import size, tokens

T = TypeVar("T")


def _ask(target: Target, field: str, question: Callable[[], T]) -> T:
    """A backend answer, or the backend's refusal as an input error on ``field``."""
    try:
        return question()
    except Rejected as exc:
        raise target.error(field, str(exc)) from exc


def _check_layout(target: Target, arch: Architecture) -> None:
    heads, layers = arch.num_attention_heads, arch.num_layers
    if heads % target.tensor_parallel:
        message = f"{target.tensor_parallel} does not divide the model's {heads} attention heads"
        raise target.error("tensor_parallel", message)
    if target.pipeline_parallel > layers:
        message = f"{target.pipeline_parallel} stages exceed the model's {layers} layers"
        raise target.error("pipeline_parallel", message)
    if target.expert_parallel and (
        problem := expert_parallel_problem(arch, target.tensor_parallel)
    ):
        raise target.error("expert_parallel", problem)


def _sequence_bytes(probe: Probe, fit: MaxBatchResponse) -> int:
    """One sequence of the context, per GPU: the engine's own figure when the answer has it."""
    if fit.kv_cache_bytes_per_sequence > 0:
        return fit.kv_cache_bytes_per_sequence
    t = probe.target
    deployment = Deployment(
        gpu_memory_bytes=probe.gpu.memory_bytes,
        tensor_parallel=t.tensor_parallel,
        pipeline_parallel=t.pipeline_parallel,
        weight_precision=Precision(fit.weight_dtype),
        kv_precision=Precision(fit.kv_cache_dtype),
        gpu_memory_utilization=t.gpu_memory_utilization,
        attention_data_parallel=t.attention_data_parallel,
    )
    return sequence_kv_bytes(
        probe.arch, deployment, default_engine_profile(), probe.context, probe.context
    )


def _fits_check(fit: MaxBatchResponse, context: int, short: int) -> Check:
    if fit.max_batch >= 1:
        summary = (
            f"up to {fit.max_batch} sequences of {tokens(context)} tokens fit "
            f"(KV cache {size(fit.memory.kv_cache)} per GPU)"
        )
        return Check(name="fits", status=Status.PASS, summary=summary)
    reasons = "; ".join(fit.reasons) or "no room for one sequence"
    if short > 0:
        reasons += f"; short by {size(short)} per GPU"
    engine = {"sglang": "SGLang", "trtllm": "TensorRT-LLM"}.get(fit.engine, "vLLM")
    return Check(name="fits", status=Status.FAIL, summary=f"{engine} would not start: {reasons}")


def _concurrency_check(target: Target, fit: MaxBatchResponse, context: int) -> Check | None:
    wanted = target.max_num_seqs
    if wanted is None:
        return None
    if fit.max_batch < 1:
        return Check(
            name="concurrency", status=Status.SKIP, summary="not evaluated: it does not fit"
        )
    if fit.max_batch >= wanted:
        summary = f"all {wanted} sequences (max_num_seqs) of {tokens(context)} tokens fit at once"
        return Check(name="concurrency", status=Status.PASS, summary=summary)
    status = Status.FAIL if target.require_full_concurrency else Status.WARN
    summary = (
        f"only {fit.max_batch} of {wanted} sequences (max_num_seqs) of {tokens(context)} "
        "tokens fit at once; the rest wait"
    )
    return Check(name="concurrency", status=status, summary=summary)


def _latency(probe: Probe, fits: bool) -> tuple[Check | None, LatencyOut | None]:
    t = probe.target
    workload, slo = t.workload, t.slo
    if workload is None:
        return None, None
    length = workload.input_tokens + workload.output_tokens
    if length > probe.context:
        allowed = tokens(probe.context)
        summary = f"workload sequences of {tokens(length)} tokens exceed max_model_len {allowed}"
        return Check(name="slo", status=Status.FAIL, summary=summary), None
    batch = math.ceil(workload.concurrency / t.replicas)
    estimate = probe.backend.latency(
        LatencyRequest(
            model=t.model, gpu=t.gpu, batch_size=batch,
            input_tokens=workload.input_tokens, output_tokens=workload.output_tokens,
            tensor_parallel=t.tensor_parallel, pipeline_parallel=t.pipeline_parallel,
            expert_parallel=t.expert_parallel,
            attention_data_parallel=t.attention_data_parallel,
            weight_dtype=t.weight_dtype, kv_cache_dtype=t.kv_cache_dtype,
            **engine_fields(t, LatencyRequest)[0],
        )
    )  # fmt: skip
    out = LatencyOut(
        batch_per_replica=batch,
        input_tokens=workload.input_tokens,
        output_tokens=workload.output_tokens,
        ttft_ms=estimate.ttft_ms,
        tpot_ms=estimate.tpot_ms,
        e2e_ms=estimate.e2e_ms,
        slo_ttft_ms=slo.ttft_ms if slo else None,
        slo_tpot_ms=slo.tpot_ms if slo else None,
        burst_ttft_ms=estimate.burst_ttft_ms,
        slo_burst=bool(slo and slo.burst),
    )
    if slo is None:
        return None, out
    if not fits:
        return Check(name="slo", status=Status.SKIP, summary="not evaluated: it does not fit"), out
    parts, met = [], True
    ttft_label, ttft = (
        ("burst TTFT", estimate.burst_ttft_ms) if slo.burst else ("TTFT", out.ttft_ms)
    )
    for label, value, limit in (
        (ttft_label, ttft, slo.ttft_ms),
        ("TPOT", out.tpot_ms, slo.tpot_ms),
    ):
        if limit is not None:
            met = met and value <= limit
            parts.append(
                f"{label} {value:,.1f} ms {'<=' if value <= limit else '>'} {limit:,.1f} ms"
            )
    summary = f"{', '.join(parts)} at batch {batch} per replica"
    return Check(name="slo", status=Status.PASS if met else Status.FAIL, summary=summary), out


def _kv_room(memory: MemoryBudget) -> int:
    """The KV pool per GPU; when nothing is left (reported as 0), the negative remainder
    of the usable memory after weights, activations and runtime: the shortfall."""
    if memory.kv_cache > 0:
        return memory.kv_cache
    return min(0, memory.usable - memory.beside_kv_bytes)


def evaluate(target: Target, backend: Backend, ignored: Sequence[str] = ()) -> Report:
    """Run every check on ``target``; when one fails, find the cheapest fixes."""
    target = resolve_names(target, backend)
    arch = _ask(target, "model", lambda: backend.architecture(target.model))
    gpu = _ask(target, "gpu", lambda: backend.gpu(target.gpu))
    _check_layout(target, arch)
    probe = Probe(target, backend, arch, gpu, target.max_model_len or arch.max_context_tokens)
    fit = probe.fit()
    per_sequence = _sequence_bytes(probe, fit)
    available = _kv_room(fit.memory)  # the engine's pool per GPU (negative: the shortfall)
    short = 0 if fit.max_batch >= 1 else max(0, per_sequence - available)
    checks = [_fits_check(fit, probe.context, short)]
    concurrency = _concurrency_check(target, fit, probe.context)
    checks += [concurrency] if concurrency else []
    slo_check, latency = _latency(probe, fit.max_batch >= 1)
    checks += [slo_check] if slo_check else []
    resolved = (fit.weight_dtype, fit.kv_cache_dtype)
    suggestions = []
    if fit.max_batch < 1:
        suggestions = suggest(probe, 1, fit.max_batch, resolved, "fits")
    elif concurrency is not None and concurrency.status in (Status.WARN, Status.FAIL):
        suggestions = suggest(
            probe, target.max_num_seqs or 1, fit.max_batch, resolved, "concurrency"
        )
    if slo_check is not None and slo_check.status is Status.FAIL and latency is not None:
        suggestions += slo_alternatives(probe, fit.weight_dtype)
    required = target.max_num_seqs if target.require_full_concurrency and target.max_num_seqs else 1
    return Report(
        verdict="fail" if any(c.status is Status.FAIL for c in checks) else "pass",
        source=target.source,
        backend=backend.label,
        engine=f"{fit.engine} {fit.engine_version}".strip(),
        setup=Setup(
            model=target.model_label,
            gpu=target.gpu,
            gpu_name=gpu.name,
            gpu_count=target.gpu_count,
            tensor_parallel=target.tensor_parallel,
            pipeline_parallel=target.pipeline_parallel,
            expert_parallel=target.expert_parallel,
            attention_data_parallel=target.attention_data_parallel,
            replicas=target.replicas,
            max_model_len=probe.context,
            max_num_seqs=target.max_num_seqs,
            gpu_memory_utilization=target.gpu_memory_utilization,
            weight_dtype=fit.weight_dtype,
            kv_cache_dtype=fit.kv_cache_dtype,
        ),
        checks=checks,
        memory=fit.memory,
        max_batch=fit.max_batch,
        max_context_for_batch_1=fit.max_context_for_batch_1,
        sequence_kv_bytes=per_sequence,
        margin_bytes=available - required * per_sequence,
        short_bytes=short,
        latency=latency,
        suggestions=suggestions,
        ignored_arguments=list(ignored),
        warnings=[*target.warnings, *engine_fields(target, MaxBatchRequest)[1]],
    )
