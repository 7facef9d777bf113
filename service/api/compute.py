"""The planning endpoints: thin translation between HTTP bodies and the planning answers."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.answer_cache import answer_cache
from service.api.compute_pool import ComputePool
from service.api.examples import answer, body
from service.api.limits import PLAN_LIMITS, charge, check_plan_cells, plan_cells, plan_cost
from service.api.problems import COMPUTE_PROBLEMS, Problem
from service.api.strict_body import strict_json_body
from service.contract.schemas import (
    ConstraintsIn,
    InlineModel,
    InspectRequest,
    InspectResponse,
    KvCacheOut,
    LatencyRequest,
    LatencyResponse,
    MaxBatchRequest,
    MaxBatchResponse,
    ModelRef,
    ParametersOut,
    PlanRequest,
    PlanResponse,
)
from service.db.outage import GpuCache
from service.domain.calibration import Calibration
from service.domain.engine import EngineCatalog, EngineProfile
from service.domain.gpu import GpuSpec
from service.domain.kv_cache import kv_cache_bytes_per_token, kv_layer_groups, resolve_kv_precision
from service.planning.answers import answer_latency, answer_max_batch, answer_plan, layout_problem
from service.planning.engines import resolve_engine
from service.planning.errors import CatalogUnavailable
from service.planning.lean import lean_plan
from service.planning.prices import merged, priced_all
from service.planning.resolve import (
    ResolvedModel,
    normalise,
    resolve_gpu,
    resolve_gpus,
    resolve_model,
)
from service.prices_file import PricesFileError, load_prices
from service.settings import Settings


async def _model(session: AsyncSession, ref: ModelRef, pool: ComputePool) -> ResolvedModel:
    """A catalog model, or an inline config normalised in the pool (up to 1024 layers)."""
    if isinstance(ref, InlineModel):
        return await pool.run(normalise, ref.hf_config, "inline hf_config")
    return await resolve_model(session, ref)


def _inspect(model: ResolvedModel, kv_cache_dtype: Any) -> InspectResponse:
    arch, params = model.architecture, model.parameters
    kv = resolve_kv_precision(arch, kv_cache_dtype)
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


def _lean_answer_plan(
    model: ResolvedModel,
    gpus: list[GpuSpec],
    request: PlanRequest,
    profile: EngineProfile,
    calibration: Calibration,
) -> PlanResponse:
    """:func:`answer_plan`, then sized as the request asks (in the worker: the full answer
    of a large search is megabytes, too much to ship back and encode)."""
    response = answer_plan(
        model.architecture, model.parameters, gpus, request, profile, model.name, calibration
    )
    return lean_plan(response, request.limit, request.include_rejected)


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
        responses={**COMPUTE_PROBLEMS, **answer(InspectResponse, "inspect", "Llama-3.1-8B")},
        summary="Normalised architecture, exact parameters and KV cache per token",
        operation_class=body("inspect", "A catalog model"),
    )
    async def inspect(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[InspectRequest],
        db_session: NamedDependency[AsyncSession],
        compute_pool: NamedDependency[ComputePool],
    ) -> InspectResponse:
        charge(request)
        model = await _model(db_session, data.model, compute_pool)
        return await compute_pool.run(_inspect, model, data.kv_cache_dtype)

    @post(
        "/max-batch",
        status_code=200,
        responses={**COMPUTE_PROBLEMS, **answer(MaxBatchResponse, "max_batch", "8k on H100")},
        summary="Maximum concurrent sequences for a context, and the longest context",
        operation_class=body("max_batch", "8k on H100"),
    )
    async def max_batch(
        self,
        request: Request[Any, Any, Any],
        compute_pool: NamedDependency[ComputePool],
        data: JSONBody[MaxBatchRequest],
        db_session: NamedDependency[AsyncSession],
        engine_catalog: NamedDependency[EngineCatalog],
        gpu_cache: NamedDependency[GpuCache],
    ) -> MaxBatchResponse:
        charge(request)
        model = await _model(db_session, data.model, compute_pool)
        gpu = await resolve_gpu(db_session, data.gpu, gpu_cache)
        _check_layout(model, data.tensor_parallel, data.pipeline_parallel)
        profile = resolve_engine(engine_catalog, data.engine)
        return await compute_pool.run(
            answer_max_batch, model.architecture, model.parameters, gpu, data, profile
        )

    @post(
        "/latency",
        status_code=200,
        responses={**COMPUTE_PROBLEMS, **answer(LatencyResponse, "latency", "Batch 16")},
        summary="TTFT, TPOT, end-to-end latency and throughput at a batch size",
        operation_class=body("latency", "Batch 16"),
    )
    async def latency(
        self,
        request: Request[Any, Any, Any],
        compute_pool: NamedDependency[ComputePool],
        data: JSONBody[LatencyRequest],
        db_session: NamedDependency[AsyncSession],
        engine_catalog: NamedDependency[EngineCatalog],
        calibration: NamedDependency[Calibration],
        gpu_cache: NamedDependency[GpuCache],
    ) -> LatencyResponse:
        charge(request)
        model = await _model(db_session, data.model, compute_pool)
        gpu = await resolve_gpu(db_session, data.gpu, gpu_cache)
        _check_layout(model, data.tensor_parallel, data.pipeline_parallel)
        profile = resolve_engine(engine_catalog, data.engine)
        return await compute_pool.run(
            answer_latency, model.architecture, model.parameters, gpu, data, profile, calibration
        )

    @post(
        "/plan",
        status_code=200,
        responses={**COMPUTE_PROBLEMS, **answer(PlanResponse, "plan", "70B, two GPU types")},
        summary="Every GPU x parallelism x precision that serves the workload, ranked",
        description=PLAN_LIMITS,
        operation_class=body("plan", "70B, two GPU types"),
    )
    async def plan(
        self,
        request: Request[Any, Any, Any],
        compute_pool: NamedDependency[ComputePool],
        settings: NamedDependency[Settings],
        data: JSONBody[PlanRequest],
        db_session: NamedDependency[AsyncSession],
        engine_catalog: NamedDependency[EngineCatalog],
        calibration: NamedDependency[Calibration],
        gpu_cache: NamedDependency[GpuCache],
    ) -> PlanResponse:
        constraints = data.constraints
        gpus = await resolve_gpus(db_session, constraints.gpus if constraints else None, gpu_cache)
        cells = plan_cells(
            len(gpus),
            len(set(constraints.weight_dtypes)) if constraints else 1,
            len(set(constraints.kv_cache_dtypes)) if constraints else 1,
            constraints.max_gpus if constraints else ConstraintsIn().max_gpus,
        )
        check_plan_cells(cells, settings)
        charge(request, plan_cost(cells))
        model = await _model(db_session, data.model, compute_pool)
        profile = resolve_engine(engine_catalog, data.engine)
        gpus = priced_all(gpus, await _prices(db_session, settings, data, gpu_cache))
        cache = answer_cache(request.app.state)
        key = cache.key(model, gpus, data, profile, calibration)
        if (cached := cache.get(key)) is not None:
            answer: PlanResponse = cached
            return answer
        answer = await compute_pool.run(_lean_answer_plan, model, gpus, data, profile, calibration)
        cache.put(key, answer)
        return answer


async def _prices(
    session: AsyncSession, settings: Settings, data: PlanRequest, gpu_cache: GpuCache
) -> dict[str, float]:
    """The deployment's price file over the catalog, then the question's ``prices``; a price
    for a GPU the catalog lacks is a 404 naming it (a typo is never silently ignored)."""
    for gpu_id in data.prices or {}:
        await resolve_gpu(session, gpu_id, gpu_cache)
    try:
        file_prices = load_prices(settings.prices_file) if settings.prices_file else None
    except PricesFileError as exc:
        raise CatalogUnavailable(str(exc)) from exc
    return merged(file_prices, data.prices)
