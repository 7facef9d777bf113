"""The planning endpoints' answers as pure functions of a model, GPUs and a request body.

What ``/v1/max-batch``, ``/v1/latency`` and ``/v1/plan`` compute once the model and GPUs are
resolved; the offline gate and the Slack command call these instead of a server.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.api.schemas import (
    LatencyRequest,
    LatencyResponse,
    MaxBatchRequest,
    MaxBatchResponse,
    PlanRequest,
    PlanResponse,
)
from service.domain.architecture import Architecture
from service.domain.capacity import Deployment, capacity
from service.domain.engine import EngineProfile
from service.domain.gpu import GpuSpec
from service.domain.kv_cache import resolve_kv_precision
from service.domain.latency import Efficiency, Serving, estimate_latency
from service.domain.parameters import ParameterCount
from service.domain.planner import Objective, SearchSpace, Slo, Workload, plan
from service.domain.weights import resolve_weight_precision, weight_memory


def layout_problem(arch: Architecture, tensor_parallel: int, pipeline_parallel: int) -> str | None:
    """Why vLLM would refuse this layout (the API's 400), or None."""
    heads = arch.num_attention_heads
    if heads % tensor_parallel:
        return f"tensor_parallel {tensor_parallel} must divide the {heads} attention heads"
    if pipeline_parallel > arch.num_layers:
        return f"pipeline_parallel {pipeline_parallel} exceeds the {arch.num_layers} layers"
    return None


def answer_max_batch(
    arch: Architecture,
    params: ParameterCount,
    gpu: GpuSpec,
    request: MaxBatchRequest,
    profile: EngineProfile,
) -> MaxBatchResponse:
    weights = resolve_weight_precision(arch, request.weight_dtype)
    kv = resolve_kv_precision(arch, request.kv_cache_dtype)
    tp, pp = request.tensor_parallel, request.pipeline_parallel
    memory = weight_memory(arch, params, weights, tp, pp)
    deployment = Deployment(
        gpu_memory_bytes=gpu.memory_bytes,
        tensor_parallel=tp,
        pipeline_parallel=pp,
        weight_precision=weights,
        kv_precision=kv,
        gpu_memory_utilization=request.gpu_memory_utilization,
        max_num_seqs=request.max_num_seqs,
    )
    result = capacity(arch, memory.per_gpu_bytes, deployment, profile, request.context_length)
    return MaxBatchResponse(
        fits=result.fits,
        max_batch=result.max_batch,
        kv_cache_tokens=result.kv_cache_tokens,
        kv_cache_blocks=result.kv_cache_blocks,
        max_context_for_batch_1=result.max_context_for_batch_1,
        memory=result.memory,
        binding_constraint=result.binding_constraint.value,
        reasons=list(result.reasons),
        weight_dtype=weights.value,
        kv_cache_dtype=kv.value,
        engine=f"{profile.name} {profile.version}",
    )


def answer_latency(
    arch: Architecture, params: ParameterCount, gpu: GpuSpec, request: LatencyRequest
) -> LatencyResponse:
    serving = Serving(
        gpu=gpu,
        tensor_parallel=request.tensor_parallel,
        pipeline_parallel=request.pipeline_parallel,
        weight_precision=resolve_weight_precision(arch, request.weight_dtype),
        kv_precision=resolve_kv_precision(arch, request.kv_cache_dtype),
    )
    efficiency = Efficiency()
    estimate = estimate_latency(
        arch,
        params,
        serving,
        batch_size=request.batch_size,
        input_tokens=request.input_tokens,
        output_tokens=request.output_tokens,
        efficiency=efficiency,
    )
    return LatencyResponse(
        ttft_ms=estimate.ttft_ms,
        tpot_ms=estimate.tpot_ms,
        e2e_ms=estimate.e2e_ms,
        output_tokens_per_s=estimate.output_tokens_per_s,
        prefill_bound=estimate.prefill.bound.value,
        decode_bound=estimate.decode.bound.value,
        prefill=estimate.prefill,
        decode=estimate.decode,
        weight_dtype=serving.weight_precision.value,
        kv_cache_dtype=serving.kv_precision.value,
        assumptions=efficiency,
    )


def answer_plan(
    arch: Architecture,
    params: ParameterCount,
    gpus: Sequence[GpuSpec],
    request: PlanRequest,
    profile: EngineProfile,
    model_name: str,
) -> PlanResponse:
    """``gpus`` must already be the request's GPUs (or the catalog, in id order)."""
    constraints = request.constraints
    space = SearchSpace()
    if constraints is not None:
        space = SearchSpace(
            weight_dtypes=tuple(dict.fromkeys(constraints.weight_dtypes)),
            kv_cache_dtypes=tuple(dict.fromkeys(constraints.kv_cache_dtypes)),
            max_gpus=constraints.max_gpus,
            gpu_memory_utilization=constraints.gpu_memory_utilization,
        )
    workload, slo = request.workload, request.slo
    result = plan(
        arch,
        params,
        gpus,
        Workload(
            input_tokens=workload.input_tokens,
            output_tokens=workload.output_tokens,
            concurrency=workload.concurrency,
        ),
        slo=Slo(ttft_ms=slo.ttft_ms, tpot_ms=slo.tpot_ms) if slo else None,
        space=space,
        objective=Objective(request.objective),
        profile=profile,
    )
    return PlanResponse(
        model=model_name,
        objective=request.objective,
        configurations=list(result.configurations),
        rejected=list(result.rejected),
    )
