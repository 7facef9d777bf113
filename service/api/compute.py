"""The planning endpoints: thin translation between HTTP bodies and the planning answers."""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.serialization import encode_json, get_serializer
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.answer_cache import answer_cache
from service.api.catalog_cache import (
    CatalogCache,
    CatalogReads,
    GpuCatalog,
    LazySession,
    catalog_cache,
)
from service.api.compute_pool import ComputePool, provide_compute_pool
from service.api.deps import provide_calibration, provide_engine_catalog, settings_from
from service.api.examples import answer, body
from service.api.limits import PLAN_LIMITS, charge, check_plan_cells, plan_cells, plan_cost
from service.api.outage import provide_gpu_cache
from service.api.problems import COMPUTE_PROBLEMS, layout_problem_400, unknown_ids_named
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
    SpeculativeIn,
)
from service.db.outage import GpuCache
from service.db.session import sessionmaker_from
from service.domain.calibration import Calibration
from service.domain.engine import EngineCatalog, EngineProfile
from service.domain.gpu import GpuSpec
from service.domain.kv_cache import kv_cache_bytes_per_token, kv_layer_groups, resolve_kv_precision
from service.domain.modifiers_draft import DraftModel
from service.planning.answers import answer_latency, answer_max_batch, answer_plan, layout_problem
from service.planning.engines import resolve_engine
from service.planning.errors import CatalogUnavailable, InvalidField, ModelNotFound
from service.planning.lean import lean_plan
from service.planning.prices import merged, priced_all
from service.planning.question import plan_variants
from service.planning.resolve import (
    ResolvedModel,
    normalise,
    resolve_gpu,
    resolve_model,
)
from service.planning.speculative import resolve_draft
from service.prices_file import PricesFileError, load_prices
from service.settings import Settings


async def _model(session: AsyncSession, ref: ModelRef, pool: ComputePool) -> ResolvedModel:
    """A catalog model, or an inline config normalised in the pool (up to 1024 layers)."""
    if isinstance(ref, InlineModel):
        return await pool.run(normalise, ref.hf_config, "inline hf_config")
    with unknown_ids_named("model"):
        return await resolve_model(session, ref)


async def _gpu(session: AsyncSession, gpu_id: str, cache: GpuCache) -> GpuSpec:
    with unknown_ids_named("gpu"):
        return await resolve_gpu(session, gpu_id, cache)


async def _draft(
    session: AsyncSession, speculative: SpeculativeIn | None, prefix: str = ""
) -> DraftModel | None:
    with unknown_ids_named(f"{prefix}speculative.draft_model"):
        return await resolve_draft(session, speculative, prefix)


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
    draft: DraftModel | None = None,
) -> PlanResponse:
    """:func:`answer_plan`, then sized as the request asks (in the worker: the full answer
    of a large search is megabytes, too much to ship back and encode)."""
    response = answer_plan(
        model.architecture, model.parameters, gpus, request, profile, model.name, calibration, draft
    )
    return lean_plan(response, request.limit, request.include_rejected)


def _check_layout(model: ResolvedModel, tensor_parallel: int, pipeline_parallel: int) -> None:
    problem = layout_problem(model.architecture, tensor_parallel, pipeline_parallel)
    if problem:
        raise layout_problem_400(problem)


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
        gpu = await _gpu(db_session, data.gpu, gpu_cache)
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
        gpu = await _gpu(db_session, data.gpu, gpu_cache)
        _check_layout(model, data.tensor_parallel, data.pipeline_parallel)
        profile = resolve_engine(engine_catalog, data.engine)
        draft = await _draft(db_session, data.speculative)
        return await compute_pool.run(
            answer_latency,
            model.architecture,
            model.parameters,
            gpu,
            data,
            profile,
            calibration,
            draft,
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
        self, request: Request[Any, Any, Any], data: JSONBody[PlanRequest]
    ) -> Response[PlanResponse]:
        # The collaborators come from the application state, not as dependencies: Litestar
        # resolves several dependencies in a task group per request, which cost a repeated
        # question more than the rest of its answer (bench/plan_latency.py --profile).
        state = request.app.state
        async with LazySession(sessionmaker_from(state)) as sessions:
            return await _plan(request, data, sessions)


async def _plan(
    request: Request[Any, Any, Any], data: PlanRequest, sessions: LazySession
) -> Response[PlanResponse]:
    """The answer to ``data``: from the answer cache when the question and the catalog objects
    it reads are the same as last time, else computed in the pool (and cached)."""
    _check_disaggregated(data)
    state = request.app.state
    settings = settings_from(state)
    catalog = catalog_cache(state)
    reads = catalog.reads(sessions, provide_gpu_cache(request))
    constraints = data.constraints
    gpus, gpu_catalog = await _plan_gpus(catalog, reads, constraints.gpus if constraints else None)
    model = None
    if not isinstance(data.model, InlineModel):
        with unknown_ids_named("model"):
            model = await catalog.model(reads, data.model)
    cells = plan_cells(
        len(gpus),
        len(set(constraints.weight_dtypes)) if constraints else 1,
        len(set(constraints.kv_cache_dtypes)) if constraints else 1,
        constraints.max_gpus if constraints else ConstraintsIn().max_gpus,
        plan_variants(
            model.architecture if model is not None else None,
            constraints.expert_parallel if constraints else True,
            data.model.hf_config if isinstance(data.model, InlineModel) else None,
        ),
    )
    check_plan_cells(cells, settings)
    charge(request, plan_cost(cells))
    # A cached answer was computed from this very question and these catalog objects, so
    # every check below passed for it and would pass again: skip them, and the search.
    # Every catalog object the answer is computed from is one of ``inputs``.
    answers = answer_cache(state)
    draft_model, cacheable = await _draft_input(catalog, reads, data)
    key, inputs = answers.key(data), (gpu_catalog, model, draft_model)
    cacheable = cacheable and gpu_catalog is not None
    if cacheable and (cached := answers.get(key, inputs)) is not None:
        return _json(cached)
    pool = provide_compute_pool(request)
    if model is None:
        model = await _model(sessions.session, data.model, pool)
    profile = resolve_engine(provide_engine_catalog(state), data.engine)
    prices, price_sources = await _prices(catalog, reads, settings, data)
    gpus = priced_all(gpus, prices)
    calibration = provide_calibration(state)
    speculative = data.workload.speculative
    draft = None
    if speculative is not None and (speculative.method == "draft_model" or speculative.draft_model):
        draft = await _draft(sessions.session, speculative, "workload.")
    answer = await pool.run(_lean_answer_plan, model, gpus, data, profile, calibration, draft)
    encoded = encode_json(answer, get_serializer(request.route_handler.resolve_type_encoders()))
    if cacheable and all(source is gpu_catalog for source in price_sources):
        answers.put(key, inputs, encoded)
    return _json(encoded)


def _check_disaggregated(data: PlanRequest) -> None:
    """Disaggregated pools are sized for a request rate: without one the flag would be
    silently ignored, so it is a 400 naming it."""
    if data.constraints and data.constraints.disaggregated and data.workload.requests_per_s is None:
        raise InvalidField(
            "constraints.disaggregated",
            "needs workload.requests_per_s: the prefill and decode pools are sized for a "
            "request rate",
        )


async def _draft_input(
    catalog: CatalogCache, reads: CatalogReads, data: PlanRequest
) -> tuple[ResolvedModel | None, bool]:
    """The catalog draft model a speculative question names (its answer is cached against it)
    and whether it was found; an unknown one is not cached, and :func:`resolve_draft` refuses
    it after the other checks, as for any question."""
    speculative = data.workload.speculative
    draft_id = speculative.draft_model if speculative is not None else None
    if draft_id is None:
        return None, True
    try:
        return await catalog.model(reads, draft_id), True
    except ModelNotFound:
        return None, False


def _json(body: bytes) -> Response[PlanResponse]:
    """An encoded answer as it is (a Response of bytes is sent without re-encoding)."""
    return Response(content=body, media_type=MediaType.JSON)  # type: ignore[arg-type]


async def _plan_gpus(
    catalog: CatalogCache, reads: CatalogReads, gpu_ids: list[str] | None
) -> tuple[list[GpuSpec], GpuCatalog | None]:
    """The named GPUs, each once (:class:`GpuNotFound` naming ``constraints.gpus[i]`` for an
    unknown id), or the whole catalog; and the cached catalog they all came from (None when
    some did not: no answer is cached). An id may be in any letter case."""
    if gpu_ids is None:
        whole = await catalog.catalog(reads)
        return list(whole.gpus), whole
    first: dict[str, int] = {}  # each id looked up once, named by where it first appears
    for index, gpu_id in enumerate(gpu_ids):
        first.setdefault(gpu_id, index)
    found: dict[str, tuple[GpuSpec, GpuCatalog | None]] = {}
    for gpu_id, index in first.items():
        with unknown_ids_named(f"constraints.gpus[{index}]"):
            gpu, source = await catalog.gpu(reads, gpu_id)
        found.setdefault(gpu.id, (gpu, source))
    return [gpu for gpu, _ in found.values()], _common([source for _, source in found.values()])


async def _prices(
    catalog: CatalogCache, reads: CatalogReads, settings: Settings, data: PlanRequest
) -> tuple[dict[str, float], list[GpuCatalog | None]]:
    """The deployment's price file over the catalog, then the question's ``prices`` keyed by
    catalog id (a key may be in any letter case); a price for a GPU the catalog lacks is a
    404 naming ``prices.<id>`` (a typo is never silently ignored), two keys naming one GPU a
    400. And where each priced GPU came from (see :meth:`CatalogCache.gpu`)."""
    asked: dict[str, float] = {}
    keys: dict[str, str] = {}
    sources: list[GpuCatalog | None] = []
    for key, price in (data.prices or {}).items():
        with unknown_ids_named(f"prices.{key}"):
            gpu, source = await catalog.gpu(reads, key)
        if gpu.id in keys:
            raise InvalidField(
                f"prices.{key}", f"names {gpu.id}, priced already by prices.{keys[gpu.id]}"
            )
        asked[gpu.id], keys[gpu.id] = price, key
        sources.append(source)
    try:
        file_prices = load_prices(settings.prices_file) if settings.prices_file else None
    except PricesFileError as exc:
        raise CatalogUnavailable(str(exc)) from exc
    return merged(file_prices, asked), sources


def _common(sources: list[GpuCatalog | None]) -> GpuCatalog | None:
    """The one catalog all ``sources`` are (None if they are not all one, or there are none)."""
    first = sources[0] if sources else None
    return first if all(source is first for source in sources) else None
