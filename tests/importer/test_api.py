"""POST/GET /v1/imports, and an import followed through to /v1/models and /v1/plan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.hub.client import HfHubClient
from service.importer.worker import ImportWorker
from tests.fakehub import FakeHubServer
from tests.heartbeats import record_heartbeat
from tests.importer.conftest import AUTH, Sessions, app_settings, worker_config
from tests.importer.models import LLAMA_1B_TOTAL, MAMBA_CONFIG, REPO, SHA_1

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Litestar]


async def post_import(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v1/imports", json=body, headers=AUTH)
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    return job


async def run_worker(sessionmaker: Sessions, hub_url: str) -> None:
    """Run every due job with a worker of its own on the app's database (real clock).

    Not the app's sessionmaker: the test client runs the app on another event loop.
    """
    hub = HfHubClient(hub_url, token=None, timeout_s=5.0)
    await ImportWorker(sessionmaker, hub, worker_config()).drain()


async def test_post_queues_a_job(client: Client) -> None:
    """POST answers 202 with a queued job that GET then returns."""
    job = await post_import(client, {"repo_id": REPO, "revision": "main"})

    assert (job["repo_id"], job["revision"], job["status"], job["attempts"]) == (
        REPO,
        "main",
        "queued",
        0,
    )
    response = await client.get(f"/v1/imports/{job['id']}")
    assert response.status_code == 200
    assert response.json() == job


async def test_post_needs_the_admin_token(client: Client) -> None:
    """Without the bearer token POST is refused with a 401 problem."""
    response = await client.post("/v1/imports", json={"repo_id": REPO})

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_post_rejects_a_malformed_repo_id(client: Client) -> None:
    """A repo id without a namespace is a 400 problem naming the field."""
    response = await client.post("/v1/imports", json={"repo_id": "llama"}, headers=AUTH)

    assert response.status_code == 400
    assert "repo_id" in response.text


async def test_post_returns_the_active_job_for_the_same_repo(client: Client) -> None:
    """Importing a repo that is already queued returns the existing job."""
    first = await post_import(client, {"repo_id": REPO})

    second = await post_import(client, {"repo_id": REPO})

    assert second["id"] == first["id"]


async def test_unknown_job_is_a_404_problem(client: Client) -> None:
    """GET of an unknown job id is 404 problem+json."""
    response = await client.get("/v1/imports/0123456789abcdef")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "does not exist" in response.json()["detail"]


async def test_list_filters_by_status_and_paginates(
    client: Client, llama: FakeHubServer, sessionmaker: Sessions
) -> None:
    """GET /v1/imports lists newest first, filters by status and pages with limit/offset."""
    done = await post_import(client, {"repo_id": REPO})
    await run_worker(sessionmaker, llama.url)
    waiting = [await post_import(client, {"repo_id": f"org/m{i}"}) for i in range(3)]

    queued = (await client.get("/v1/imports", params={"status": "queued", "limit": 2})).json()
    succeeded = (await client.get("/v1/imports", params={"status": "succeeded"})).json()

    assert queued["total"] == 3
    assert [job["id"] for job in queued["items"]] == [waiting[2]["id"], waiting[1]["id"]]
    assert [job["id"] for job in succeeded["items"]] == [done["id"]]


async def test_failed_import_is_reported_on_the_job(
    client: Client, fake_hub: FakeHubServer, sessionmaker: Sessions
) -> None:
    """An unsupported architecture fails the job with the feature named; no model appears."""
    fake_hub.hub.add_model(REPO, MAMBA_CONFIG)
    job = await post_import(client, {"repo_id": REPO})

    await run_worker(sessionmaker, fake_hub.url)

    job = (await client.get(f"/v1/imports/{job['id']}")).json()
    assert job["status"] == "failed"
    assert "state-space (Mamba) layers" in job["error"]
    assert (await client.get(f"/v1/models/{REPO}")).status_code == 404


@pytest.fixture
async def seeded_client(db_url: str, fake_hub: FakeHubServer) -> AsyncIterator[Client]:
    """The app with the shipped seed catalog loaded (GPUs to plan on); the worker that runs
    the job (``run_worker``) is alive elsewhere."""
    app = create_app(app_settings(db_url, fake_hub.url, sync_catalog_on_start=True))
    async with AsyncTestClient(app=app) as test_client:
        await record_heartbeat(db_url)
        yield test_client


async def test_imported_model_can_be_planned(
    seeded_client: Client, llama: FakeHubServer, sessionmaker: Sessions
) -> None:
    """After the import succeeds, /v1/models shows the exact count and /v1/plan accepts the id."""
    job = await post_import(seeded_client, {"repo_id": REPO})

    await run_worker(sessionmaker, llama.url)

    job = (await seeded_client.get(f"/v1/imports/{job['id']}")).json()
    assert job["status"] == "succeeded", job
    model = (await seeded_client.get(f"/v1/models/{REPO}")).json()
    assert (model["total_params"], model["hub_safetensors_total"]) == (
        LLAMA_1B_TOTAL,
        LLAMA_1B_TOTAL,
    )
    assert (model["origin"], model["revision"]) == ("hub", SHA_1)
    plan = await seeded_client.post(
        "/v1/plan",
        json={"model": REPO, "workload": {"input_tokens": 1024, "output_tokens": 256}},
    )
    assert plan.status_code == 200, plan.text
    assert plan.json()["model"] == REPO
    assert plan.json()["configurations"]
