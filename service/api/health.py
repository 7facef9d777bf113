"""Liveness and readiness: /health never touches I/O; /ready checks the database.

Both answer GET and HEAD (load balancers and probes often send HEAD): one handler per path
serves the two methods, so Litestar's automatic OPTIONS and its 405s list GET and HEAD (a
second handler on the path would leave HEAD out of ``Allow``: Litestar 2 bug #4169, see
schemathesis.toml). A HEAD answer has GET's status and headers; the ASGI server (uvicorn)
sends no body for it, as HTTP requires.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import msgspec
from litestar import Controller, HttpMethod, route
from litestar.datastructures import State
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from service.api.deps import settings_from
from service.api.examples import answer
from service.api.problems import Problem, problem
from service.db.session import is_at_head

if TYPE_CHECKING:
    from litestar.handlers import HTTPRouteHandler
    from litestar.types import Method, OperationIDCreator
    from litestar.types.internal_types import PathParameterDefinition

_READS = [HttpMethod.GET, HttpMethod.HEAD]


def _operation_ids(get: str) -> OperationIDCreator:
    """``get`` for the GET operation (the id it had before HEAD was served), ``Head`` + ``get``
    for HEAD: Litestar would otherwise rename GET's id once the handler serves two methods."""

    def operation_id(
        handler: HTTPRouteHandler, method: Method, path: list[str | PathParameterDefinition]
    ) -> str:
        return get if method == HttpMethod.GET else f"Head{get}"

    return operation_id


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: Annotated[str, msgspec.Meta(description="ok while the process serves requests")]


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    status: Annotated[str, msgspec.Meta(description="ready, or why not")]
    database: Annotated[str, msgspec.Meta(description="ok, or the database error")]
    migrations: Annotated[
        str,
        msgspec.Meta(
            description="head when the schema is at the newest migration, else what is wrong"
        ),
    ]


class HealthController(Controller):
    tags = ["operations"]

    @route(
        "/health",
        http_method=_READS,
        operation_id=_operation_ids("HealthHealth"),
        summary="The process is alive",
        responses=answer(Health, "health", "Alive"),
    )
    async def health(self) -> Health:
        return Health(status="ok")

    @route(
        "/ready",
        http_method=_READS,
        operation_id=_operation_ids("ReadyReady"),
        summary="The database is reachable and migrated to head",
        responses={
            **answer(Readiness, "ready", "Ready"),
            503: problem("Not ready: database unreachable or not migrated", 503),
        },
    )
    async def ready(self, state: State) -> Readiness:
        # Raising (not returning a problem body) keeps the documented 200 a plain Readiness.
        deadline_s = settings_from(state).ready_timeout_s
        try:
            at_head = await asyncio.wait_for(_database_at_head(state.engine), deadline_s)
        except TimeoutError as exc:
            raise Problem(
                503, f"database did not answer within {deadline_s:g} s (CAPPLAN_READY_TIMEOUT_S)"
            ) from exc
        except (SQLAlchemyError, OSError) as exc:
            raise Problem(503, f"database unreachable: {type(exc).__name__}") from exc
        if not at_head:
            raise Problem(503, "database schema is not at the newest migration")
        return Readiness(status="ready", database="ok", migrations="head")


async def _database_at_head(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return await is_at_head(engine)
