"""A database outage: /ready fails, inline-model computations go on, and the service recovers.

PostgreSQL goes away behind a TCP proxy the test cuts (open connections reset, new ones
refused); SQLite loses its database directory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import anyio
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, ProgrammingError

from service.app import create_app
from service.db.outage import unavailable
from tests.api.conftest import assert_problem, gpu_body
from tests.db.conftest import MODEL_SEED, TINY_LLAMA_CONFIG, CatalogWriter
from tests.ops.conftest import ops_settings
from tests.ops.outages import CuttableProxy, SqliteOutage
from tests.ops.servers import AUTH

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Litestar]
INLINE = {"hf_config": TINY_LLAMA_CONFIG}
WORKLOAD = {"input_tokens": 512, "output_tokens": 128, "concurrency": 4}


class Outage(Protocol):
    def cut(self) -> None: ...
    def restore(self) -> None: ...


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite in a directory of its own (the outage removes it), or a fresh PostgreSQL db."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'db' / 'capplan.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def outage(
    database_url: str, write_catalog: CatalogWriter
) -> AsyncIterator[tuple[Client, Outage]]:
    """The app (lifespan running, catalog loaded) and a way to take its database away."""
    catalog = write_catalog()
    if database_url.startswith("sqlite"):
        app = create_app(ops_settings(database_url, catalog))
        async with AsyncTestClient(app=app) as client:
            empty_pool = partial(client.blocking_portal.call, app.state.engine.dispose)
            yield client, SqliteOutage(database_url, empty_pool)
        return
    proxy = CuttableProxy(database_url).start()
    try:
        app = create_app(ops_settings(proxy.url(database_url), catalog))
        async with AsyncTestClient(app=app) as client:
            yield client, proxy
    finally:
        proxy.close()


async def eventually_ready(client: Client) -> None:
    with anyio.fail_after(10):
        while (await client.get("/ready")).status_code != 200:  # noqa: ASYNC110 - polling HTTP
            await anyio.sleep(0.1)


async def test_ready_is_503_problem_while_the_database_is_down(
    outage: tuple[Client, Outage],
) -> None:
    """/ready answers 503 problem+json during the outage (liveness stays 200)."""
    client, database = outage
    database.cut()
    assert_problem(await client.get("/ready"), 503)
    assert (await client.get("/health")).status_code == 200


async def test_inline_models_are_computed_during_the_outage(
    outage: tuple[Client, Outage],
) -> None:
    """max-batch, latency and plan on an inline config use the cached GPU catalog."""
    client, database = outage
    database.cut()
    bodies: dict[str, dict[str, Any]] = {
        "/v1/max-batch": {"model": INLINE, "gpu": "l4", "context_length": 2048},
        "/v1/latency": {
            "model": INLINE,
            "gpu": "h100-sxm",
            "batch_size": 4,
            "input_tokens": 512,
            "output_tokens": 128,
        },
        "/v1/plan": {"model": INLINE, "workload": WORKLOAD},
        "/v1/inspect": {"model": INLINE},
    }
    responses = {path: await client.post(path, json=body) for path, body in bodies.items()}
    assert {path: r.status_code for path, r in responses.items()} == dict.fromkeys(bodies, 200)
    planned = {c["gpu"] for c in responses["/v1/plan"].json()["configurations"]}
    assert planned == {"h100-sxm", "l4"}


async def test_catalog_lookups_are_503_during_the_outage(outage: tuple[Client, Outage]) -> None:
    """What needs the database answers 503 problem+json with Retry-After, not a 500."""
    client, database = outage
    database.cut()
    response = await client.post(
        "/v1/plan", json={"model": MODEL_SEED["repo_id"], "workload": WORKLOAD}
    )
    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) > 0


async def test_metrics_report_the_database_down(outage: tuple[Client, Outage]) -> None:
    """The scrape still works and says capplan_database_up 0."""
    client, database = outage
    database.cut()
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "capplan_database_up 0.0" in response.text


async def test_service_recovers_when_the_database_returns(outage: tuple[Client, Outage]) -> None:
    """After the outage /ready is 200 again and catalog models are served."""
    client, database = outage
    database.cut()
    assert (await client.get("/ready")).status_code == 503
    database.restore()

    await eventually_ready(client)
    response = await client.post(
        "/v1/plan", json={"model": MODEL_SEED["repo_id"], "workload": WORKLOAD}
    )
    assert response.status_code == 200, response.text


async def test_gpus_read_after_start_up_join_the_fallback(outage: tuple[Client, Outage]) -> None:
    """A GPU added later is cached by the first computation that reads it."""
    client, database = outage
    created = await client.post("/v1/gpus", json=gpu_body("late-gpu"), headers=AUTH)
    assert created.status_code == 201, created.text
    body = {"model": INLINE, "gpu": "late-gpu", "context_length": 2048}
    assert (await client.post("/v1/max-batch", json=body)).status_code == 200

    database.cut()
    assert (await client.post("/v1/max-batch", json=body)).status_code == 200


@pytest.mark.parametrize(
    ("error", "is_outage"),
    [
        (OperationalError("SELECT 1", {}, Exception("unable to open database file")), True),
        (InterfaceError("SELECT 1", {}, Exception("connection is closed")), True),
        (ConnectionRefusedError(111, "Connect call failed"), True),
        (IntegrityError("INSERT", {}, Exception("duplicate key")), False),
        (ProgrammingError("SELEC", {}, Exception("syntax error")), False),
    ],
    ids=["operational", "interface", "refused", "integrity", "programming"],
)
def test_only_connection_failures_count_as_outages(error: Exception, is_outage: bool) -> None:
    """A refused or lost connection is an outage (503); a rejected statement stays a bug (500)."""
    assert unavailable(error) is is_outage
