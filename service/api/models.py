"""GET/POST /v1/models and GET/PUT/DELETE /v1/models/{model_id}: architectures by repo id."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.auth import ADMIN_SECURITY, require_admin
from service.api.problems import READ_PROBLEMS, WRITE_PROBLEMS, Problem
from service.api.strict_body import strict_json_body
from service.contract.catalog import (
    ModelCreate,
    ModelOut,
    ModelPage,
    ModelReplace,
    ModelSummary,
)
from service.db.model_columns import derived_model_columns
from service.db.model_repository import ModelRepository
from service.db.models import ModelRow, Origin
from service.db.repository import StaleVersion
from service.domain.architecture import Architecture
from service.planning.resolve import normalise

Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]


# Once: msgspec.structs.fields() re-evaluates the string annotations on every call (~0.1 ms).
_SUMMARY_FIELDS = tuple(field.name for field in msgspec.structs.fields(ModelSummary))


def _summary_fields(row: ModelRow) -> dict[str, Any]:
    fields = {name: getattr(row, name, None) for name in _SUMMARY_FIELDS}
    fields["model_type"] = str(row.architecture.get("model_type", "unknown"))
    return fields


def model_summary(row: ModelRow) -> ModelSummary:
    return ModelSummary(**_summary_fields(row))


def model_out(row: ModelRow) -> ModelOut:
    architecture = msgspec.convert(row.architecture, Architecture)
    return ModelOut(**_summary_fields(row), config=row.config, architecture=architecture)


def model_values(config: dict[str, Any], name: str, notes: str) -> dict[str, Any]:
    """The stored columns of a model: raw config, normalised architecture, exact counts."""
    model = normalise(config, name, field="config")
    return derived_model_columns(config, model.architecture, model.parameters) | {"notes": notes}


def _model_id(raw: str) -> str:
    return raw.lstrip("/")


class ModelController(Controller):
    path = "/v1/models"
    tags = ["catalog"]
    before_request = staticmethod(strict_json_body)

    @get("/", responses=READ_PROBLEMS, summary="List models (paginated)")
    async def list_models(
        self,
        db_session: NamedDependency[AsyncSession],
        model_type: Annotated[str | None, QueryParameter(max_length=64)] = None,
        origin: Annotated[str | None, QueryParameter(max_length=16)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ModelPage:
        page = await ModelRepository(db_session).find(
            model_type=model_type, origin=origin, limit=limit, offset=offset
        )
        return ModelPage(
            items=[model_summary(r) for r in page.items],
            total=page.total,
            limit=limit,
            offset=offset,
        )

    @get("/{model_id:path}", responses=READ_PROBLEMS, summary="One model with its config")
    async def get_model(
        self, db_session: NamedDependency[AsyncSession], model_id: FromPath[str]
    ) -> ModelOut:
        row = await ModelRepository(db_session).get(_model_id(model_id))
        if row is None:
            raise Problem(404, f"model '{_model_id(model_id)}' is not in the catalog")
        return model_out(row)

    @post(
        "/",
        guards=[require_admin],
        security=ADMIN_SECURITY,
        responses=WRITE_PROBLEMS,
        summary="Add a model from its config.json (admin)",
    )
    async def create_model(
        self, db_session: NamedDependency[AsyncSession], data: JSONBody[ModelCreate]
    ) -> ModelOut:
        repository = ModelRepository(db_session)
        if await repository.get(data.id) is not None:
            raise Problem(409, f"model '{data.id}' already exists; PUT replaces it")
        values = model_values(data.config, data.id, data.notes)
        row, _ = await repository.upsert(data.id, values, origin=Origin.OPERATOR)
        return model_out(row)

    @put(
        "/{model_id:path}",
        guards=[require_admin],
        security=ADMIN_SECURITY,
        responses=WRITE_PROBLEMS,
        summary="Replace a model's config (admin)",
    )
    async def replace_model(
        self,
        db_session: NamedDependency[AsyncSession],
        model_id: FromPath[str],
        data: JSONBody[ModelReplace],
    ) -> ModelOut:
        repository = ModelRepository(db_session)
        row_id = _model_id(model_id)
        row = await repository.get(row_id)
        if row is None:
            raise Problem(404, f"model '{row_id}' is not in the catalog; POST /v1/models adds it")
        values = model_values(data.config, row_id, data.notes)
        try:
            row = await repository.update(
                row_id, values, origin=Origin.OPERATOR, expected_version=data.version or row.version
            )
        except StaleVersion as exc:
            raise Problem(409, str(exc)) from exc
        return model_out(row)

    @delete(
        "/{model_id:path}",
        guards=[require_admin],
        security=ADMIN_SECURITY,
        responses=WRITE_PROBLEMS,
        summary="Remove a model (admin)",
    )
    async def delete_model(
        self, db_session: NamedDependency[AsyncSession], model_id: FromPath[str]
    ) -> None:
        repository = ModelRepository(db_session)
        row_id = _model_id(model_id)
        if await repository.get(row_id) is None:
            raise Problem(404, f"model '{row_id}' is not in the catalog")
        await repository.delete(row_id)
