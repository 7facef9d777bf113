"""Concurrent writes over HTTP: no 500, no lost or duplicated write (SQLite and PostgreSQL).

The requests run concurrently on one event loop, each with its own session and connection,
as they do on a server; on PostgreSQL their transactions really overlap.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import ADMIN, client, gpu_body
from tests.db.conftest import anyio_backend, db_url, postgres_url

__all__ = ["anyio_backend", "client", "db_url", "postgres_url"]

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Litestar]
WRITERS = 10


def statuses(responses: list[httpx.Response]) -> list[int]:
    return sorted(response.status_code for response in responses)


async def all_at_once(*requests: Any) -> list[httpx.Response]:
    return list(await asyncio.gather(*requests))


async def test_concurrent_creates_of_one_gpu_are_one_201_and_409s(client: Client) -> None:
    """Of concurrent POSTs with one id and different bodies, one is stored; the rest 409."""
    responses = await all_at_once(
        *(
            client.post("/v1/gpus", json=gpu_body("raced", name=f"writer {i}"), headers=ADMIN)
            for i in range(WRITERS)
        )
    )

    assert statuses(responses) == [201] + [409] * (WRITERS - 1)
    [winner] = [response.json()["name"] for response in responses if response.status_code == 201]
    stored = (await client.get("/v1/gpus/raced")).json()
    assert (stored["name"], stored["version"]) == (winner, 1)


async def test_concurrent_deletes_are_one_204_and_404s(client: Client) -> None:
    """Of concurrent DELETEs of one GPU, one deletes it; the others find it gone (404)."""
    assert (
        await client.post("/v1/gpus", json=gpu_body("doomed"), headers=ADMIN)
    ).status_code == 201

    responses = await all_at_once(
        *(client.delete("/v1/gpus/doomed", headers=ADMIN) for _ in range(WRITERS))
    )

    assert statuses(responses) == [204] + [404] * (WRITERS - 1)


async def test_concurrent_replaces_of_one_version_are_one_200_and_409s(client: Client) -> None:
    """Of concurrent PUTs from version 1, one applies (version 2); the others are stale (409)."""
    assert (
        await client.post("/v1/gpus", json=gpu_body("contended"), headers=ADMIN)
    ).status_code == 201
    body = {k: v for k, v in gpu_body().items() if k != "id"}

    responses = await all_at_once(
        *(
            client.put(
                "/v1/gpus/contended", json={**body, "name": f"w{i}", "version": 1}, headers=ADMIN
            )
            for i in range(WRITERS)
        )
    )

    assert statuses(responses) == [200] + [409] * (WRITERS - 1)
    [winner] = [response.json()["name"] for response in responses if response.status_code == 200]
    stored = (await client.get("/v1/gpus/contended")).json()
    assert (stored["name"], stored["version"]) == (winner, 2)


async def test_concurrent_imports_of_the_same_repos_queue_one_job_each(client: Client) -> None:
    """Concurrent POST /v1/imports of 4 repositories, 5 times each: 4 jobs, each returned 5x."""
    repos = [f"org/model-{n}" for n in range(4)]

    responses = await all_at_once(
        *(
            client.post("/v1/imports", json={"repo_id": repo}, headers=ADMIN)
            for repo in repos
            for _ in range(5)
        )
    )

    assert {response.status_code for response in responses} == {202}
    jobs: dict[str, set[str]] = {}
    for response in responses:
        jobs.setdefault(response.json()["repo_id"], set()).add(response.json()["id"])
    assert {repo: len(ids) for repo, ids in jobs.items()} == dict.fromkeys(repos, 1)
    assert (await client.get("/v1/imports")).json()["total"] == len(repos)
