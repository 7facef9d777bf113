"""Two `capplan serve` replicas on one PostgreSQL, both running the importer (PostgreSQL only:
SQLite is a single-replica database)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import assert_problem, gpu_body
from tests.db.conftest import TINY_LLAMA_CONFIG
from tests.fakehub import FakeHubServer
from tests.importer.models import llama_tensors
from tests.ops.servers import AUTH, Server, Servers, server_env
from tests.ops.state import stored, wait_until
from tests.postgres import fresh_database

JOBS = 8


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A PostgreSQL database for this module's two replicas (dropped afterwards)."""
    with fresh_database("capplan_replicas") as url:
        yield url


@pytest.fixture(scope="module")
def replicas(
    database_url: str, fake_hub_server: FakeHubServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Server]]:
    """Two replicas started together (they migrate the empty database concurrently)."""
    env = server_env(
        database_url,
        HF_ENDPOINT=fake_hub_server.url,
        CAPPLAN_IMPORTER_ENABLED="true",
        CAPPLAN_IMPORTER_POLL_INTERVAL_S="0.1",
    )
    started = Servers(Path(tmp_path_factory.mktemp("replicas")))
    try:
        pair = [started.start(env), started.start(env)]
        yield [server.wait_ready() for server in pair]
    finally:
        started.stop_all()
        print(started.logs())


@pytest.fixture
def clients(replicas: list[Server]) -> Iterator[list[httpx.Client]]:
    """One admin client per replica."""
    pair = [httpx.Client(base_url=s.url, headers=AUTH, timeout=10) for s in replicas]
    try:
        yield pair
    finally:
        for client in pair:
            client.close()


@pytest.fixture
def hub(fake_hub_server: FakeHubServer) -> Iterator[FakeHubServer]:
    fake_hub_server.hub.reset()
    yield fake_hub_server
    fake_hub_server.hub.reset()


def finished(client: httpx.Client, ids: set[str]) -> list[dict[str, Any]] | None:
    page = client.get("/v1/imports", params={"limit": 500}).json()["items"]
    done = [job for job in page if job["id"] in ids and job["status"] in ("succeeded", "failed")]
    return done if len(done) == len(ids) else None


def test_jobs_queued_on_both_replicas_each_run_exactly_once(
    database_url: str, replicas: list[Server], clients: list[httpx.Client], hub: FakeHubServer
) -> None:
    """N jobs posted alternately to two replicas: all succeed, each imported exactly once."""
    repos = [f"ops-replicas/model-{i}" for i in range(JOBS)]
    tensors = llama_tensors(TINY_LLAMA_CONFIG)
    for repo in repos:
        hub.hub.add_model(repo, TINY_LLAMA_CONFIG, safetensors=tensors)

    ids = {
        clients[i % 2].post("/v1/imports", json={"repo_id": repo}).json()["id"]
        for i, repo in enumerate(repos)
    }
    jobs = wait_until(lambda: finished(clients[0], ids), "every job to finish")

    assert len(ids) == JOBS
    assert {(job["status"], job["attempts"]) for job in jobs} == {("succeeded", 1)}
    for repo in repos:
        downloads = hub.hub.requests_to(f"/{repo}/resolve/")
        assert len([r for r in downloads if r.path.endswith("/config.json")]) == 1, repo
        assert len(stored(database_url, repo).models) == 1, repo
    imported = [server.log.count('"message":"imported ops-replicas/') for server in replicas]
    assert sum(imported) == JOBS


def test_two_editors_with_one_version_get_one_200_and_one_409(
    clients: list[httpx.Client],
) -> None:
    """Concurrent PUTs of a GPU through both replicas, same `version`: one wins, one is 409."""
    first, second = clients
    created = first.post("/v1/gpus", json=gpu_body("ops-replica-gpu"))
    assert created.status_code == 201, created.text
    version = second.get("/v1/gpus/ops-replica-gpu").json()["version"]
    body = {k: v for k, v in gpu_body().items() if k != "id"}
    start = threading.Barrier(2)

    def edit(client: httpx.Client, name: str) -> httpx.Response:
        start.wait()
        return client.put(
            "/v1/gpus/ops-replica-gpu", json={**body, "name": name, "version": version}
        )

    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(edit, clients, ["editor one", "editor two"]))

    assert sorted(r.status_code for r in responses) == [200, 409]
    [won] = [r.json() for r in responses if r.status_code == 200]
    [lost] = [r for r in responses if r.status_code == 409]
    assert_problem(lost, 409)
    final = first.get("/v1/gpus/ops-replica-gpu").json()
    assert (final["version"], final["name"]) == (version + 1, won["name"])
