"""GET /metrics: Prometheus text with request, catalog and import-job metrics, per app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from service.app import create_app
from tests.db.conftest import CatalogWriter
from tests.heartbeats import record_heartbeat
from tests.ops.conftest import ops_settings
from tests.ops.servers import AUTH

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def client(tmp_path: Path, write_catalog: CatalogWriter) -> AsyncIterator[Client]:
    app = create_app(ops_settings(f"sqlite+aiosqlite:///{tmp_path}/t.db", write_catalog()))
    async with AsyncTestClient(app=app) as client:
        yield client


async def scrape(client: Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of GET /metrics by (name, labels)."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def labels(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())


async def test_metrics_are_prometheus_text(client: Client) -> None:
    """The exposition is Prometheus' text format 0.0.4."""
    response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE capplan_http_requests_total counter" in response.text


async def test_requests_are_counted_by_route_template(client: Client) -> None:
    """Two GPUs fetched are one series, labelled by the route template, not the raw path."""
    await client.get("/v1/gpus/l4")
    await client.get("/v1/gpus/h100-sxm")

    samples = await scrape(client)
    route = labels(method="GET", route="/v1/gpus/{gpu_id}", status="200")
    assert samples[("capplan_http_requests_total", route)] == 2
    assert samples[("capplan_http_request_duration_seconds_count", route)] == 2
    assert not [key for key in samples if ("route", "/v1/gpus/l4") in key[1]]


async def test_unrouted_requests_share_one_label(client: Client) -> None:
    """404s from the router are counted under route="unmatched", whatever the path."""
    await client.get("/random/one")
    await client.get("/random/two")

    samples = await scrape(client)
    unmatched = labels(method="GET", route="unmatched", status="404")
    assert samples[("capplan_http_requests_total", unmatched)] == 2


async def test_catalog_sizes_are_reported(client: Client) -> None:
    """The number of GPUs and models in the catalog, read at scrape time."""
    samples = await scrape(client)
    assert samples[("capplan_catalog_gpus", labels())] == 2
    assert samples[("capplan_catalog_models", labels())] == 1
    assert samples[("capplan_database_up", labels())] == 1


async def test_import_jobs_are_reported_by_status(
    db_url: str, tmp_path: Path, write_catalog: CatalogWriter
) -> None:
    """Queued import jobs show in capplan_import_jobs and the queue depth (both backends)."""
    app = create_app(ops_settings(db_url, write_catalog()))
    async with AsyncTestClient(app=app) as client:
        await record_heartbeat(db_url)  # a worker on another replica (this app runs none)
        for repo in ("org/model-a", "org/model-b"):
            enqueued = await client.post("/v1/imports", json={"repo_id": repo}, headers=AUTH)
            assert enqueued.status_code == 202
        samples = await scrape(client)

    assert samples[("capplan_import_jobs", labels(status="queued"))] == 2
    assert samples[("capplan_import_jobs", labels(status="succeeded"))] == 0
    assert samples[("capplan_import_queue_depth", labels())] == 2


async def test_each_app_has_its_own_registry(
    tmp_path: Path, write_catalog: CatalogWriter, client: Client
) -> None:
    """A second app in the same process starts from zero (and registers without conflict)."""
    await client.get("/health")
    other = create_app(ops_settings(f"sqlite+aiosqlite:///{tmp_path}/other.db", write_catalog()))
    async with AsyncTestClient(app=other) as other_client:
        samples = await scrape(other_client)
    health = labels(method="GET", route="/health", status="200")
    assert ("capplan_http_requests_total", health) not in samples


async def test_metrics_are_not_in_the_openapi(client: Client) -> None:
    """/metrics is operational, not part of the API contract."""
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/metrics" not in schema["paths"]


async def test_head_answers_as_get_without_a_body(client: Client) -> None:
    """HEAD /metrics (what monitoring probes send) gets GET's status and type, no body."""
    get = await client.get("/metrics")
    head = await client.head("/metrics")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"] == get.headers["content-type"]


async def test_allow_lists_get_and_head(client: Client) -> None:
    """OPTIONS and a 405 both list GET and HEAD in Allow (one handler serves the two)."""
    options = await client.options("/metrics")
    refused = await client.post("/metrics")
    assert (options.status_code, refused.status_code) == (204, 405)
    for response in (options, refused):
        assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
