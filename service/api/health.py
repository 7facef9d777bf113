"""Liveness and readiness: /health never touches I/O; /ready checks the database."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.response import Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.api.problems import PROBLEM_JSON, ProblemDetails, problem
from service.db.session import is_at_head


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: str


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    database: str
    migrations: str


class HealthController(Controller):
    tags = ["operations"]

    @get("/health", summary="The process is alive")
    async def health(self) -> Health:
        return Health(status="ok")

    @get(
        "/ready",
        summary="The database is reachable and migrated to head",
        responses={503: problem("Not ready: database unreachable or not migrated")},
    )
    async def ready(self, state: State) -> Response[Readiness | ProblemDetails]:
        try:
            async with state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            at_head = await is_at_head(state.engine)
        except (SQLAlchemyError, OSError) as exc:
            detail = f"database unreachable: {type(exc).__name__}"
            body = ProblemDetails(status=503, title="Service Unavailable", detail=detail)
            return Response(body, status_code=503, media_type=PROBLEM_JSON)
        if not at_head:
            body = ProblemDetails(
                status=503,
                title="Service Unavailable",
                detail="database schema is not at the newest migration",
            )
            return Response(body, status_code=503, media_type=PROBLEM_JSON)
        return Response(Readiness(status="ready", database="ok", migrations="head"))
