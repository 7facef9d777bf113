"""The planning endpoints: thin translation between HTTP bodies and the domain core."""

from __future__ import annotations

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.problems import COMPUTE_PROBLEMS, Problem
from service.api.resolve import resolve_gpu, resolve_gpus, resolve_model
from service.api.schemas import (
    InspectRequest,
    InspectResponse,
    KvCacheOut,
    LatencyRequest,
    LatencyResponse,
    MaxBatchRequest,
    MaxBatchResponse,
    ParametersOut,
    PlanRequest,
    PlanResponse,
)
from service.api.strict_body import strict_json_body
from service.domain.capacity import Deployment, capacity
from service.domain.engine import EngineProfile
from service.domain.kv_cache import kv_cache_bytes_per_token, kv_layer_groups, resolve_kv_precision
from service.domain.latency import Efficiency, Serving, estimate_latency
from service.domain.planner import Objective, SearchSpace, Slo, Workload, plan
from service.domain.weights import resolve_weight_precision, weight_memory


def _check_layout(
    num_layers: int, heads: int, tensor_parallel: int, pipeline_parallel: int
) -> None:
    if heads % tensor_parallel:
        raise Problem(
            400, f"tensor_parallel {tensor_parallel} must divide the {heads} attention heads"
        )
    if pipeline_parallel > num_layers:
        raise Problem(400, f"pipeline_parallel {pipeline_parallel} exceeds the {num_layers} layers")


class PlanningController(Controller):
    path = "/v1"
    tags = ["planning"]
    before_request = staticmethod(strict_json_body)

    @post(
        "/inspect",
        status_code=200,
        responses=COMPUTE_PROBLEMS,
        summary="Normalised architecture, exact parameters and KV cache per token",
    )
    async def inspect(
        self, data: JSONBody[InspectRequest], db_session: NamedDependency[AsyncSession]
    ) -> InspectResponse:
        model = await resolve_model(db_session, data.model)
        arch, params = model.architecture, model.parameters
        kv = resolve_kv_precision(arch, data.kv_cache_dtype)
        return InspectResponse(
            model=model.name,
            architecture=arch,
            parameters=ParametersOut(
                total=params.total,
                active=params.active,
                non_embedding=params.non_embedding,
                breakdown=params.breakdown,
            ),
            kv_cache=KvCacheOut(
                dtype=kv.value,
                bytes_per_token=kv_cache_bytes_per_token(arch, kv),
                per_layer_kind=kv_layer_groups(arch, kv),
            ),
        )

    @post(
        "/max-batch",
        status_code=200,
        responses=COMPUTE_PROBLEMS,
        summary="Maximum concurrent sequences for a context, and the longest context",
    )
    async def max_batch(
        self,
        data: JSONBody[MaxBatchRequest],
        db_session: NamedDependency[AsyncSession],
        engine_profile: NamedDependency[EngineProfile],
    ) -> MaxBatchResponse:
        model = await resolve_model(db_session, data.model)
        gpu = await resolve_gpu(db_session, data.gpu)
        arch = model.architecture
        _check_layout(
            arch.num_layers, arch.num_attention_heads, data.tensor_parallel, data.pipeline_parallel
        )
        weights = resolve_weight_precision(arch, data.weight_dtype)
        kv = resolve_kv_precision(arch, data.kv_cache_dtype)
        memory = weight_memory(
            arch, model.parameters, weights, data.tensor_parallel, data.pipeline_parallel
        )
        deployment = Deployment(
            gpu_memory_bytes=gpu.memory_bytes,
            tensor_parallel=data.tensor_parallel,
            pipeline_parallel=data.pipeline_parallel,
            weight_precision=weights,
            kv_precision=kv,
            gpu_memory_utilization=data.gpu_memory_utilization,
            max_num_seqs=data.max_num_seqs,
        )
        result = capacity(
            arch, memory.per_gpu_bytes, deployment, engine_profile, data.context_length
        )
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
            engine=f"{engine_profile.name} {engine_profile.version}",
        )

    @post(
        "/latency",
        status_code=200,
        responses=COMPUTE_PROBLEMS,
        summary="TTFT, TPOT, end-to-end latency and throughput at a batch size",
    )
    async def latency(
        self,
        data: JSONBody[LatencyRequest],
        db_session: NamedDependency[AsyncSession],
        engine_profile: NamedDependency[EngineProfile],
    ) -> LatencyResponse:
        model = await resolve_model(db_session, data.model)
        gpu = await resolve_gpu(db_session, data.gpu)
        arch = model.architecture
        _check_layout(
            arch.num_layers, arch.num_attention_heads, data.tensor_parallel, data.pipeline_parallel
        )
        # A latency is only meaningful if the deployment holds the weights and the batch's KV
        # cache; an infeasible one is still answered (200), with fits=false and the reasons.
        context = data.input_tokens + data.output_tokens
        weights = resolve_weight_precision(arch, data.weight_dtype)
        fit = capacity(
            arch,
            weight_memory(
                arch, model.parameters, weights, data.tensor_parallel, data.pipeline_parallel
            ).per_gpu_bytes,
            Deployment(
                gpu_memory_bytes=gpu.memory_bytes,
                tensor_parallel=data.tensor_parallel,
                pipeline_parallel=data.pipeline_parallel,
                weight_precision=weights,
                kv_precision=resolve_kv_precision(arch, data.kv_cache_dtype),
            ),
            engine_profile,
            context,
            with_max_context=False,
        )
        reasons = list(fit.reasons)
        if fit.fits and fit.max_batch < data.batch_size:
            reasons.append(
                f"batch_size {data.batch_size} exceeds the {fit.max_batch} sequences of "
                f"{context} tokens the KV cache holds"
            )
        serving = Serving(
            gpu=gpu,
            tensor_parallel=data.tensor_parallel,
            pipeline_parallel=data.pipeline_parallel,
            weight_precision=resolve_weight_precision(arch, data.weight_dtype),
            kv_precision=resolve_kv_precision(arch, data.kv_cache_dtype),
        )
        efficiency = Efficiency()
        estimate = estimate_latency(
            arch,
            model.parameters,
            serving,
            batch_size=data.batch_size,
            input_tokens=data.input_tokens,
            output_tokens=data.output_tokens,
            efficiency=efficiency,
        )
        return LatencyResponse(
            fits=fit.fits and fit.max_batch >= data.batch_size,
            reasons=reasons,
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

    @post(
        "/plan",
        status_code=200,
        responses=COMPUTE_PROBLEMS,
        summary="Every GPU x parallelism x precision that serves the workload, ranked",
    )
    async def plan(
        self,
        data: JSONBody[PlanRequest],
        db_session: NamedDependency[AsyncSession],
        engine_profile: NamedDependency[EngineProfile],
    ) -> PlanResponse:
        model = await resolve_model(db_session, data.model)
        constraints = data.constraints
        gpus = await resolve_gpus(db_session, constraints.gpus if constraints else None)
        space = SearchSpace()
        if constraints is not None:
            space = SearchSpace(
                weight_dtypes=tuple(dict.fromkeys(constraints.weight_dtypes)),
                kv_cache_dtypes=tuple(dict.fromkeys(constraints.kv_cache_dtypes)),
                max_gpus=constraints.max_gpus,
                gpu_memory_utilization=constraints.gpu_memory_utilization,
            )
        slo = Slo(ttft_ms=data.slo.ttft_ms, tpot_ms=data.slo.tpot_ms) if data.slo else None
        workload = data.workload
        result = plan(
            model.architecture,
            model.parameters,
            gpus,
            Workload(
                input_tokens=workload.input_tokens,
                output_tokens=workload.output_tokens,
                concurrency=workload.concurrency,
            ),
            slo=slo,
            space=space,
            objective=Objective(data.objective),
            profile=engine_profile,
        )
        return PlanResponse(
            model=model.name,
            objective=data.objective,
            configurations=list(result.configurations),
            rejected=list(result.rejected),
        )
