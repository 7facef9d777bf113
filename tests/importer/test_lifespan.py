"""The importer inside the service: the lifespan worker, its shutdown, and the periodic sweep."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from tests.fakehub import FakeHubServer
from tests.importer.conftest import AUTH, Sessions, app_settings
from tests.importer.jobs import get_job
from tests.importer.memory_hub import BlockingHub
from tests.importer.models import LLAMA_1B_TOTAL, REPO, llama_1b_config

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Litestar]
WAIT_S = 15


async def wait_for(client: Client, path: str, done: Callable[[dict[str, Any]], bool]) -> None:
    """Poll GET ``path`` until ``done(body)``, for at most WAIT_S seconds."""
    with anyio.fail_after(WAIT_S):
        while not done((await client.get(path)).json()):  # noqa: ASYNC110 - polling HTTP
            await anyio.sleep(0.05)


async def test_lifespan_worker_completes_a_job(db_url: str, llama: FakeHubServer) -> None:
    """With the importer enabled, a posted job is imported by the service's own worker."""
    settings = app_settings(db_url, llama.url, importer_enabled=True, importer_poll_interval_s=0.05)
    async with AsyncTestClient(app=create_app(settings)) as client:
        job = (await client.post("/v1/imports", json={"repo_id": REPO}, headers=AUTH)).json()

        await wait_for(client, f"/v1/imports/{job['id']}", lambda j: j["status"] == "succeeded")

        model = (await client.get(f"/v1/models/{REPO}")).json()
        assert model["total_params"] == LLAMA_1B_TOTAL


async def test_shutdown_hands_the_running_job_back(
    db_url: str, fake_hub: FakeHubServer, blocking_hub: BlockingHub, sessionmaker: Sessions
) -> None:
    """At shutdown past the grace period, the job in progress is requeued for other replicas."""
    settings = app_settings(
        db_url,
        fake_hub.url,
        importer_enabled=True,
        importer_poll_interval_s=0.05,
        importer_shutdown_grace_s=0.1,
    )
    app = create_app(settings, hub_client_factory=lambda _: blocking_hub)
    async with AsyncTestClient(app=app) as client:
        job = (await client.post("/v1/imports", json={"repo_id": REPO}, headers=AUTH)).json()
        await wait_for(client, f"/v1/imports/{job['id']}", lambda j: j["status"] == "running")

    stored = await get_job(sessionmaker, job["id"])
    assert (stored.status, stored.attempts, stored.lease_owner) == ("queued", 0, None)


async def test_periodic_sweep_enqueues_new_models(db_url: str, fake_hub: FakeHubServer) -> None:
    """With a sweep interval set, the service lists the sweep authors and queues imports."""
    fake_hub.hub.add_model("fresh-org/new-model", llama_1b_config())
    settings = app_settings(
        db_url, fake_hub.url, sweep_interval_s=3600.0, sweep_authors=("fresh-org",)
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        await wait_for(client, "/v1/imports", lambda page: page["total"] == 1)

        [job] = (await client.get("/v1/imports")).json()["items"]
    assert (job["repo_id"], job["status"]) == ("fresh-org/new-model", "queued")
