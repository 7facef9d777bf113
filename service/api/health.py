"""Liveness and readiness: /health never touches I/O; /ready checks the database."""

from __future__ import annotations

import asyncio
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from service.api.deps import settings_from
from service.api.examples import answer
from service.api.problems import Problem, problem
from service.db.session import is_at_head


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

    @get(
        "/health",
        summary="The process is alive",
        responses=answer(Health, "health", "Alive"),
    )
    async def health(self) -> Health:
        return Health(status="ok")

    @get(
        "/ready",
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
