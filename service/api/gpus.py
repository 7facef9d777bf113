"""GET/POST /v1/gpus and GET/PUT/DELETE /v1/gpus/{gpu_id}: the operator's fleet."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.auth import ADMIN_SECURITY, require_admin
from service.api.examples import answer, body
from service.api.preconditions import expected_version, has_precondition
from service.api.problems import READ_PROBLEMS, REPLACE_PROBLEMS, WRITE_PROBLEMS, Problem
from service.api.query import strict_query
from service.api.strict_body import strict_json_body
from service.contract.catalog import MIN_TFLOPS, GpuCreate, GpuOut, GpuPage, GpuReplace
from service.db.gpu_repository import GpuRepository
from service.db.models import GpuRow, Origin
from service.db.repository import AlreadyExists, NotFound, StaleVersion
from service.domain.gpu import achievable_rate_problem
from service.planning.resolve import gpu_not_found

Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
GpuIdPath = Annotated[str, PathParameter(min_length=1, max_length=64)]


# Once: msgspec.structs.fields() re-evaluates the string annotations on every call (~0.1 ms).
_GPU_OUT_FIELDS = tuple(field.name for field in msgspec.structs.fields(GpuOut))


def gpu_out(row: GpuRow) -> GpuOut:
    return GpuOut(**{name: getattr(row, name) for name in _GPU_OUT_FIELDS})


def _values(body: GpuCreate | GpuReplace) -> dict[str, Any]:
    values = msgspec.structs.asdict(body)
    values.pop("id", None)
    values.pop("version", None)
    return values


class GpuController(Controller):
    path = "/v1/gpus"
    tags = ["catalog"]
    before_request = staticmethod(strict_json_body)

    @get(
        "/",
        responses={**READ_PROBLEMS, **answer(GpuPage, "gpu_list", "AMD GPUs, two per page")},
        summary="List GPUs (paginated)",
        before_request=strict_query,
    )
    async def list_gpus(
        self,
        db_session: NamedDependency[AsyncSession],
        vendor: Annotated[
            str | None, QueryParameter(max_length=64, description="any letter case: NVIDIA, nvidia")
        ] = None,
        # Not Optional: Litestar 2.25 drops ``minimum: 0`` from the schema of an ``int | None``.
        min_memory_bytes: Annotated[int, QueryParameter(ge=0, le=2**50)] = 0,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> GpuPage:
        page = await GpuRepository(db_session).find(
            vendor=vendor, min_memory_bytes=min_memory_bytes or None, limit=limit, offset=offset
        )
        return GpuPage(
            items=[gpu_out(r) for r in page.items], total=page.total, limit=limit, offset=offset
        )

    @get(
        "/{gpu_id:str}",
        responses={**READ_PROBLEMS, **answer(GpuOut, "gpu_get", "h100-sxm")},
        summary="One GPU",
    )
    async def get_gpu(self, db_session: NamedDependency[AsyncSession], gpu_id: GpuIdPath) -> GpuOut:
        row = await GpuRepository(db_session).get(gpu_id)
        if row is None:
            raise await gpu_not_found(db_session, gpu_id)
        return gpu_out(row)

    @post(
        "/",
        guards=[require_admin],
        security=ADMIN_SECURITY,
        responses={**WRITE_PROBLEMS, **answer(GpuOut, "gpu_create", "An L4 of the lab", 201)},
        summary="Add a GPU (admin; 409 if the id exists)",
        operation_class=body("gpu_create", "An L4 of the lab"),
    )
    async def create_gpu(
        self,
        db_session: NamedDependency[AsyncSession],
        data: JSONBody[GpuCreate],
    ) -> GpuOut:
        _check_rates(data)
        try:
            row = await GpuRepository(db_session).create(
                data.id, _values(data), origin=Origin.OPERATOR
            )
        except AlreadyExists as exc:
            raise Problem(
                409, f"GPU '{data.id}' already exists; PUT /v1/gpus/{data.id} replaces it"
            ) from exc
        return gpu_out(row)

    @put(
        "/{gpu_id:str}",
        guards=[require_admin],
        security=ADMIN_SECURITY,
        responses={**REPLACE_PROBLEMS, **answer(GpuOut, "gpu_replace", "Version 1 replaced")},
        summary="Replace a GPU (admin; version or If-Match required, 409 on a stale version)",
        operation_class=body("gpu_replace", "Version 1 replaced"),
    )
    async def replace_gpu(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        gpu_id: GpuIdPath,
        data: JSONBody[GpuReplace],
    ) -> GpuOut:
        repository = GpuRepository(db_session)
        missing = Problem(404, f"GPU '{gpu_id}' is not in the catalog; POST /v1/gpus adds it")
        if not has_precondition(request, data.version) and await repository.get(gpu_id) is None:
            raise missing
        version = expected_version(request, data.version)
        _check_rates(data)
        try:
            row = await repository.update(
                gpu_id, _values(data), origin=Origin.OPERATOR, expected_version=version
            )
        except NotFound as exc:
            raise missing from exc
        except StaleVersion as exc:
            raise Problem(409, str(exc)) from exc
        return gpu_out(row)

    @delete(
        "/{gpu_id:str}",
        guards=[require_admin],
        security=ADMIN_SECURITY,
        responses=WRITE_PROBLEMS,
        summary="Remove a GPU (admin; If-Match optional)",
    )
    async def delete_gpu(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        gpu_id: GpuIdPath,
    ) -> None:
        version = expected_version(request, None) if "if-match" in request.headers else None
        try:
            await GpuRepository(db_session).delete(gpu_id, expected_version=version)
        except NotFound as exc:
            raise Problem(404, f"GPU '{gpu_id}' is not in the catalog") from exc
        except StaleVersion as exc:
            raise Problem(409, str(exc)) from exc


def _check_rates(body: GpuCreate | GpuReplace) -> None:
    """BF16 is 0 (no BF16 on this chip) or a physical rate, like every other rate; a measured
    BF16 matmul rate needs that peak and stays below it."""
    if 0 < body.dense_tflops_bf16 < MIN_TFLOPS:
        _reject(
            "dense_tflops_bf16",
            f"dense_tflops_bf16 must be 0 (no BF16) or >= {MIN_TFLOPS}",
            f"0 or >= {MIN_TFLOPS}, got {body.dense_tflops_bf16}",
        )
    if why := achievable_rate_problem(body.dense_tflops_bf16, body.achievable_tflops_bf16):
        _reject("achievable_tflops_bf16", f"achievable_tflops_bf16: {why}", why)


def _reject(key: str, detail: str, message: str) -> None:
    raise ValidationException(
        detail=detail, extra=[{"message": message, "key": key, "source": "body"}]
    )
