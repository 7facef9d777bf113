"""GET/POST /v1/models and GET/PUT/DELETE /v1/models/{model_id}: architectures by repo id."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.auth import ADMIN_SECURITY, require_admin
from service.api.examples import answer, body
from service.api.preconditions import expected_version, has_precondition
from service.api.problems import READ_PROBLEMS, REPLACE_PROBLEMS, WRITE_PROBLEMS, Problem
from service.api.query import strict_query
from service.api.strict_body import strict_json_body
from service.contract.catalog import (
    ModelCreate,
    ModelOut,
    ModelPage,
    ModelReplace,
    ModelSummary,
)
from service.contract.schemas import MODEL_ID_MAX_LENGTH
from service.db.model_columns import derived_model_columns
from service.db.model_repository import ModelRepository
from service.db.models import ModelRow, Origin
from service.db.repository import AlreadyExists, NotFound, StaleVersion
from service.domain.architecture import Architecture
from service.planning.resolve import model_not_found, normalise

Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
# The ``path`` converter keeps the leading slash (``/meta-llama/Llama-3.1-8B``), so the check
# allows one more character than the id may have; the OpenAPI states the id's own bound.
ModelIdPath = Annotated[
    str,
    PathParameter(
        min_length=2,
        max_length=MODEL_ID_MAX_LENGTH + 1,
        schema_extra={"minLength": 1, "maxLength": MODEL_ID_MAX_LENGTH},
    ),
]


# Once: msgspec.structs.fields() re-evaluates the string annotations on every call (~0.1 ms).
_SUMMARY_FIELDS = tuple(field.name for field in msgspec.structs.fields(ModelSummary))


def _summary_fields(row: ModelRow) -> dict[str, Any]:
    fields = {name: getattr(row, name, None) for name in _SUMMARY_FIELDS}
    fields["model_type"] = str(row.architecture.get("model_type", "unknown"))
    fields["aliases"] = list(row.aliases or ())
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

    @get(
        "/",
        responses={**READ_PROBLEMS, **answer(ModelPage, "model_list", "gpt-oss models")},
        summary="List models (paginated)",
        before_request=strict_query,
    )
    async def list_models(
        self,
        db_session: NamedDependency[AsyncSession],
        model_type: Annotated[
            str | None,
            QueryParameter(max_length=64, description="config.json model_type, any letter case"),
        ] = None,
        origin: Annotated[
            Origin | None, QueryParameter(description="only models written by this origin")
        ] = None,
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

    @get(
        "/{model_id:path}",
        responses={**READ_PROBLEMS, **answer(ModelOut, "model_get", "Llama-3.2-1B")},
        summary="One model with its config",
    )
    async def get_model(
        self, db_session: NamedDependency[AsyncSession], model_id: ModelIdPath
    ) -> ModelOut:
        row = await ModelRepository(db_session).get(_model_id(model_id))
        if row is None:
            raise await model_not_found(db_session, _model_id(model_id))
        return model_out(row)

    @post(
        "/",
        guards=[require_admin],
        security=ADMIN_SECURITY,
        responses={**WRITE_PROBLEMS, **answer(ModelOut, "model_create", "A fine-tune", 201)},
        summary="Add a model from its config.json (admin; 409 if the id exists)",
        operation_class=body("model_create", "A fine-tune"),
    )
    async def create_model(
        self,
        db_session: NamedDependency[AsyncSession],
        data: JSONBody[ModelCreate],
    ) -> ModelOut:
        values = model_values(data.config, data.id, data.notes)
        try:
            row = await ModelRepository(db_session).create(data.id, values, origin=Origin.OPERATOR)
        except AlreadyExists as exc:
            raise Problem(409, f"model '{data.id}' already exists; PUT replaces it") from exc
        return model_out(row)

    @put(
        "/{model_id:path}",
        guards=[require_admin],
        security=ADMIN_SECURITY,
        responses={**REPLACE_PROBLEMS, **answer(ModelOut, "model_replace", "New notes")},
        summary="Replace a model's config (admin; version or If-Match required)",
        operation_class=body("model_replace", "New notes"),
    )
    async def replace_model(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        model_id: ModelIdPath,
        data: JSONBody[ModelReplace],
    ) -> ModelOut:
        row_id = _model_id(model_id)
        repository = ModelRepository(db_session)
        missing = Problem(404, f"model '{row_id}' is not in the catalog; POST /v1/models adds it")
        if not has_precondition(request, data.version) and await repository.get(row_id) is None:
            raise missing
        version = expected_version(request, data.version)
        values = model_values(data.config, row_id, data.notes)
        try:
            row = await repository.update(
                row_id, values, origin=Origin.OPERATOR, expected_version=version
            )
        except NotFound as exc:
            raise missing from exc
        except StaleVersion as exc:
            raise Problem(409, str(exc)) from exc
        return model_out(row)

    @delete(
        "/{model_id:path}",
        guards=[require_admin],
        security=ADMIN_SECURITY,
        responses=WRITE_PROBLEMS,
        summary="Remove a model (admin; If-Match optional)",
    )
    async def delete_model(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        model_id: ModelIdPath,
    ) -> None:
        row_id = _model_id(model_id)
        version = expected_version(request, None) if "if-match" in request.headers else None
        try:
            await ModelRepository(db_session).delete(row_id, expected_version=version)
        except NotFound as exc:
            raise Problem(404, f"model '{row_id}' is not in the catalog") from exc
        except StaleVersion as exc:
            raise Problem(409, str(exc)) from exc
