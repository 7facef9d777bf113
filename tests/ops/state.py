"""Read import jobs and model rows straight from the database, and poll the HTTP API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, select

from service.db.models import ImportJobRow, ModelRevisionRow, ModelRow
from service.db.session import create_engine

T = TypeVar("T")
WAIT_S = 20.0


@dataclass(frozen=True)
class Stored:
    """What the database holds for one repository."""

    jobs: list[dict[str, Any]]
    models: list[dict[str, Any]]
    revisions: int


def stored(database_url: str, repo_id: str) -> Stored:
    """Every job, model row and archived revision of ``repo_id`` (case-blind)."""
    return asyncio.run(_stored(database_url, repo_id))


async def _stored(database_url: str, repo_id: str) -> Stored:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            jobs = await connection.execute(
                select(ImportJobRow).where(func.lower(ImportJobRow.repo_id) == repo_id.lower())
            )
            models = await connection.execute(
                select(ModelRow).where(func.lower(ModelRow.id) == repo_id.lower())
            )
            revisions = await connection.scalar(
                select(func.count())
                .select_from(ModelRevisionRow)
                .where(func.lower(ModelRevisionRow.model_id) == repo_id.lower())
            )
        return Stored(
            jobs=[dict(row._mapping) for row in jobs],
            models=[dict(row._mapping) for row in models],
            revisions=revisions or 0,
        )
    finally:
        await engine.dispose()


def wait_until(probe: Callable[[], T | None], what: str, timeout_s: float = WAIT_S) -> T:
    """Poll ``probe`` every 50 ms until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := probe():
            return result
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}")


def job_in(client: httpx.Client, job_id: str, *statuses: str) -> dict[str, Any] | None:
    """The job if it is in one of ``statuses``, else None."""
    job: dict[str, Any] = client.get(f"/v1/imports/{job_id}").json()
    return job if job["status"] in statuses else None
