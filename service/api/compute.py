"""The planning endpoints: thin translation between HTTP bodies and the planning answers."""

from __future__ import annotations

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.problems import COMPUTE_PROBLEMS, Problem
from service.api.strict_body import strict_json_body
from service.contract.schemas import (
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
from service.db.outage import GpuCache
from service.domain.calibration import Calibration
from service.domain.engine import EngineCatalog
from service.domain.kv_cache import kv_cache_bytes_per_token, kv_layer_groups, resolve_kv_precision
from service.planning.answers import answer_latency, answer_max_batch, answer_plan, layout_problem
from service.planning.engines import resolve_engine
from service.planning.resolve import ResolvedModel, resolve_gpu, resolve_gpus, resolve_model


def _check_layout(model: ResolvedModel, tensor_parallel: int, pipeline_parallel: int) -> None:
    problem = layout_problem(model.architecture, tensor_parallel, pipeline_parallel)
    if problem:
        raise Problem(400, problem)


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
        engine_catalog: NamedDependency[EngineCatalog],
        gpu_cache: NamedDependency[GpuCache],
    ) -> MaxBatchResponse:
        model = await resolve_model(db_session, data.model)
        gpu = await resolve_gpu(db_session, data.gpu, gpu_cache)
        _check_layout(model, data.tensor_parallel, data.pipeline_parallel)
        profile = resolve_engine(engine_catalog, data.engine)
        return answer_max_batch(model.architecture, model.parameters, gpu, data, profile)

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
        engine_catalog: NamedDependency[EngineCatalog],
        calibration: NamedDependency[Calibration],
        gpu_cache: NamedDependency[GpuCache],
    ) -> LatencyResponse:
        model = await resolve_model(db_session, data.model)
        gpu = await resolve_gpu(db_session, data.gpu, gpu_cache)
        _check_layout(model, data.tensor_parallel, data.pipeline_parallel)
        profile = resolve_engine(engine_catalog, data.engine)
        return answer_latency(model.architecture, model.parameters, gpu, data, profile, calibration)

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
        engine_catalog: NamedDependency[EngineCatalog],
        calibration: NamedDependency[Calibration],
        gpu_cache: NamedDependency[GpuCache],
    ) -> PlanResponse:
        model = await resolve_model(db_session, data.model)
        profile = resolve_engine(engine_catalog, data.engine)
        constraints = data.constraints
        gpus = await resolve_gpus(db_session, constraints.gpus if constraints else None, gpu_cache)
        return answer_plan(
            model.architecture,
            model.parameters,
            gpus,
            data,
            profile,
            model.name,
            calibration,
        )
