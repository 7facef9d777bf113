"""``POST /v1/frontier`` (the curve as JSON) and ``GET /v1/frontier.svg`` (the same, drawn)."""

from __future__ import annotations

from typing import Annotated, Any, cast

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import MultiDict
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.examples import answer, body, svg
from service.api.frontier_svg import frontier_svg
from service.api.problems import (
    COMPUTE_PROBLEMS,
    layout_problem_400,
    msgspec_error,
    unknown_ids_named,
)
from service.api.query import bad_query, check_query
from service.api.strict_body import strict_json_body
from service.contract.frontier import FrontierRequest, FrontierResponse
from service.contract.schemas import MODEL_ID_MAX_LENGTH, KvDtype, WeightDtype
from service.db.outage import GpuCache
from service.domain.calibration import Calibration
from service.domain.engine import EngineCatalog
from service.planning.answers import layout_problem
from service.planning.engines import resolve_engine
from service.planning.frontier import answer_frontier
from service.planning.resolve import resolve_gpu, resolve_model
from service.planning.speculative import resolve_draft


async def _answer(
    data: FrontierRequest,
    db_session: AsyncSession,
    engine_catalog: EngineCatalog,
    calibration: Calibration,
    gpu_cache: GpuCache,
    source: str = "body",
) -> FrontierResponse:
    """The answer; an unknown id's 404 names its field, in the body or (``source``) query."""
    with unknown_ids_named("model", source):
        model = await resolve_model(db_session, data.model)
    with unknown_ids_named("gpu", source):
        gpu = await resolve_gpu(db_session, data.gpu, gpu_cache)
    problem = layout_problem(model.architecture, data.tensor_parallel, data.pipeline_parallel)
    if problem:
        raise layout_problem_400(problem)
    profile = resolve_engine(engine_catalog, data.engine)
    with unknown_ids_named("speculative.draft_model", source):
        draft = await resolve_draft(db_session, data.speculative)
    return answer_frontier(
        model.architecture, model.parameters, gpu, data, profile, model.name, calibration, draft
    )


def _scalar(info: msgspec.inspect.Type) -> bool:
    """Whether a value of this type can be written as one query parameter."""
    if isinstance(info, msgspec.inspect.Metadata):
        return _scalar(info.type)
    if isinstance(info, msgspec.inspect.UnionType):
        return any(
            _scalar(arm) for arm in info.types if not isinstance(arm, msgspec.inspect.NoneType)
        )
    return isinstance(info, _SCALARS)


_SCALARS = (
    msgspec.inspect.IntType,
    msgspec.inspect.FloatType,
    msgspec.inspect.StrType,
    msgspec.inspect.BoolType,
    msgspec.inspect.LiteralType,
)
_INFO = cast(msgspec.inspect.StructType, msgspec.inspect.type_info(FrontierRequest))
QUERY_FIELDS = frozenset(field.name for field in _INFO.fields if _scalar(field.type))
"""The POST body's fields the SVG's query takes: every one a scalar (not ``speculative``)."""


def _from_query(query: MultiDict[str]) -> FrontierRequest:
    """The raw query as a :class:`FrontierRequest`, the POST body's struct (same fields, bounds
    and effect); an unknown, repeated or bad parameter is a 400 naming it."""
    check_query(query, QUERY_FIELDS, "GET /v1/frontier.svg")
    values = {key: query.getall(key)[0] for key in query}
    try:
        return msgspec.convert(values, FrontierRequest, strict=False)
    except msgspec.ValidationError as exc:
        message, key = msgspec_error(str(exc), "query")
        raise bad_query(key, message) from exc


class FrontierController(Controller):
    path = "/v1"
    tags = ["planning"]

    @post(
        "/frontier",
        status_code=200,
        responses={**COMPUTE_PROBLEMS, **answer(FrontierResponse, "frontier", "8B on L4")},
        summary="Throughput-interactivity frontier over concurrency 1 ... saturation",
        before_request=strict_json_body,
        operation_class=body("frontier", "8B on L4"),
    )
    async def frontier(
        self,
        data: JSONBody[FrontierRequest],
        db_session: NamedDependency[AsyncSession],
        engine_catalog: NamedDependency[EngineCatalog],
        calibration: NamedDependency[Calibration],
        gpu_cache: NamedDependency[GpuCache],
    ) -> FrontierResponse:
        return await _answer(data, db_session, engine_catalog, calibration, gpu_cache)

    @get(
        "/frontier.svg",
        status_code=200,
        responses={**COMPUTE_PROBLEMS, **svg("frontier", "8B on L4")},
        media_type="image/svg+xml",
        summary="The frontier drawn as an SVG chart (same parameters as the POST body)",
    )
    async def frontier_svg(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        engine_catalog: NamedDependency[EngineCatalog],
        calibration: NamedDependency[Calibration],
        gpu_cache: NamedDependency[GpuCache],
        model: Annotated[
            str,
            Parameter(min_length=1, max_length=MODEL_ID_MAX_LENGTH, description="Catalog model id"),
        ],
        gpu: Annotated[str, Parameter(min_length=1, max_length=64, description="Catalog GPU id")],
        input_tokens: Annotated[int, Parameter(ge=1, le=10_000_000, description="Prompt tokens")],
        output_tokens: Annotated[
            int, Parameter(ge=1, le=10_000_000, description="Generated tokens per request")
        ],
        tensor_parallel: Annotated[
            int, Parameter(ge=1, le=64, description="Tensor-parallel degree")
        ] = 1,
        pipeline_parallel: Annotated[
            int, Parameter(ge=1, le=64, description="Pipeline-parallel degree")
        ] = 1,
        weight_dtype: Annotated[WeightDtype, Parameter(description="Weight precision")] = "auto",
        kv_cache_dtype: Annotated[KvDtype, Parameter(description="KV cache precision")] = "auto",
        engine: Annotated[str | None, Parameter(description="Serving engine profile")] = None,
        slo_ttft_ms: Annotated[
            float | None, Parameter(ge=0.001, le=3_600_000, description="TTFT target, ms")
        ] = None,
        slo_tpot_ms: Annotated[
            float | None, Parameter(ge=0.001, le=3_600_000, description="TPOT target, ms")
        ] = None,
        prefix_cache_hit_rate: Annotated[
            float,
            Parameter(
                ge=0,
                lt=1,
                schema_extra={"minimum": 0},  # restated: Litestar drops a falsy bound
                description="Share of each prompt already in the prefix cache, 0-1",
            ),
        ] = 0.0,
        expert_parallel: Annotated[
            bool, Parameter(description="MoE only: experts spread whole over the GPUs")
        ] = False,
        attention_data_parallel: Annotated[
            bool, Parameter(description="Attention data parallelism over the GPUs")
        ] = False,
        mm_items_per_prompt: Annotated[
            int | None,
            Parameter(
                ge=0,
                le=1024,
                schema_extra={"minimum": 0},  # restated: Litestar drops a falsy bound
                description="vLLM --limit-mm-per-prompt: multimodal items per prompt",
            ),
        ] = None,
        max_num_seqs: Annotated[
            int | None,
            Parameter(ge=1, le=65_536, description="Sequences running at once (caps the batch)"),
        ] = None,
        max_num_batched_tokens: Annotated[
            int | None,
            Parameter(ge=1, le=10_000_000, description="Tokens per scheduler step"),
        ] = None,
        kv_cache_memory_bytes: Annotated[
            int | None,
            Parameter(ge=1, le=2**50, description="vLLM V1 --kv-cache-memory-bytes, per GPU"),
        ] = None,
        block_size_tokens: Annotated[
            int | None, Parameter(ge=1, le=4096, description="vLLM --block-size, tokens")
        ] = None,
        enforce_eager: Annotated[
            bool | None, Parameter(description="vLLM --enforce-eager: no CUDA graphs")
        ] = None,
        mem_fraction_static: Annotated[
            float | None,
            Parameter(
                gt=0,
                le=1,
                schema_extra={"exclusive_minimum": 0.0},  # restated: a falsy bound is dropped
                description="SGLang --mem-fraction-static",
            ),
        ] = None,
        kv_cache_free_gpu_mem_fraction: Annotated[
            float | None,
            Parameter(
                gt=0,
                le=1,
                schema_extra={"exclusive_minimum": 0.0},  # restated: a falsy bound is dropped
                description="TensorRT-LLM --kv_cache_free_gpu_memory_fraction",
            ),
        ] = None,
        scheduler_recv_interval: Annotated[
            int | None,
            Parameter(ge=1, le=1000, description="SGLang --scheduler-recv-interval, steps"),
        ] = None,
    ) -> Response[str]:
        # The parameters above document the query (and Litestar checks them); the request is
        # built from the raw query as the POST body's struct, so the two cannot drift.
        data = _from_query(request.query_params)
        answer = await _answer(data, db_session, engine_catalog, calibration, gpu_cache, "query")
        return Response(frontier_svg(answer), media_type="image/svg+xml")
