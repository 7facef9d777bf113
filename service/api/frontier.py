"""``POST /v1/frontier`` (the curve as JSON) and ``GET /v1/frontier.svg`` (the same, drawn)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.examples import answer, body, svg
from service.api.frontier_svg import frontier_svg
from service.api.problems import COMPUTE_PROBLEMS, Problem
from service.api.strict_body import strict_json_body
from service.contract.frontier import FrontierRequest, FrontierResponse
from service.contract.schemas import KvDtype, WeightDtype
from service.db.outage import GpuCache
from service.domain.calibration import Calibration
from service.domain.engine import EngineCatalog
from service.planning.answers import layout_problem
from service.planning.engines import resolve_engine
from service.planning.frontier import answer_frontier
from service.planning.resolve import resolve_gpu, resolve_model
from service.planning.speculative import resolve_draft

_AT = " - at `$."


async def _answer(
    data: FrontierRequest,
    db_session: AsyncSession,
    engine_catalog: EngineCatalog,
    calibration: Calibration,
    gpu_cache: GpuCache,
) -> FrontierResponse:
    model = await resolve_model(db_session, data.model)
    gpu = await resolve_gpu(db_session, data.gpu, gpu_cache)
    problem = layout_problem(model.architecture, data.tensor_parallel, data.pipeline_parallel)
    if problem:
        raise Problem(400, problem)
    profile = resolve_engine(engine_catalog, data.engine)
    draft = await resolve_draft(db_session, data.speculative)
    return answer_frontier(
        model.architecture, model.parameters, gpu, data, profile, model.name, calibration, draft
    )


def _from_query(query: dict[str, Any]) -> FrontierRequest:
    """The query as a :class:`FrontierRequest`; a bad value is a 400 naming its parameter."""
    try:
        return msgspec.convert(query, FrontierRequest, strict=False)
    except msgspec.ValidationError as exc:
        text, _, where = str(exc).rpartition(_AT)
        key = where.rstrip("`") or "query"
        raise ValidationException(
            detail=f"invalid query parameter '{key}': {text or exc}",
            extra=[{"message": text or str(exc), "key": key, "source": "query"}],
        ) from exc


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
        db_session: NamedDependency[AsyncSession],
        engine_catalog: NamedDependency[EngineCatalog],
        calibration: NamedDependency[Calibration],
        gpu_cache: NamedDependency[GpuCache],
        model: Annotated[str, Parameter(description="Catalog model id")],
        gpu: Annotated[str, Parameter(description="Catalog GPU id")],
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
    ) -> Response[str]:
        query = {
            "model": model,
            "gpu": gpu,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "tensor_parallel": tensor_parallel,
            "pipeline_parallel": pipeline_parallel,
            "weight_dtype": weight_dtype,
            "kv_cache_dtype": kv_cache_dtype,
            "engine": engine,
            "slo_ttft_ms": slo_ttft_ms,
            "slo_tpot_ms": slo_tpot_ms,
        }
        data = _from_query(query)
        answer = await _answer(data, db_session, engine_catalog, calibration, gpu_cache)
        return Response(frontier_svg(answer), media_type="image/svg+xml")
