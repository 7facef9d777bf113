"""API test fixtures: the app from ``create_app`` on SQLite and PostgreSQL, over AsyncTestClient.

The database comes from ``tests/db``'s ``db_url`` fixture (each test gets a database of its own on
each backend; PostgreSQL needs ``CAPPLAN_TEST_POSTGRES_URL``). With a client it is a copy of one
migrated and seeded with the repository's real catalog once per session, so ids such as
``h100-sxm`` and ``meta-llama/Llama-3.1-8B`` exist.

Expected numbers never come from the code under test: parameter totals and configs come from
``catalog/reference/models.json`` (vendored public configs), GPU figures from
``catalog/gpus.yaml``, and the rest is arithmetic written out in the tests.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from tests.databases import MIGRATED, DbTemplate
from tests.db.conftest import anyio_backend, db_url, postgres_url
from tests.heartbeats import record_heartbeat

__all__ = ["anyio_backend", "db_url", "postgres_url"]

REPO_ROOT = Path(__file__).resolve().parents[2]
CATALOG_DIR = REPO_ROOT / "catalog"
MODELS_JSON = CATALOG_DIR / "reference" / "models.json"

ADMIN_TOKEN = "test-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PROBLEM_JSON = "application/problem+json"

AppFactory = Callable[..., AsyncTestClient[Litestar]]


def settings_for(db: str, **overrides: Any) -> Settings:
    """Writes on with ``test-token``, the shipped catalog, no rate limit, no debug tracebacks."""
    values: dict[str, Any] = {
        "database_url": db,
        "admin_token": ADMIN_TOKEN,
        "catalog_dir": CATALOG_DIR,
        "rate_limit_per_minute": 0,
        "importer_enabled": False,
        "debug": False,
    }
    return Settings(**{**values, **overrides})


CLIENTS = {"client", "read_only_client"}


@pytest.fixture
def db_template(request: pytest.FixtureRequest) -> DbTemplate:
    """A test with a client starts from a copy of the database migrated and seeded with
    ``catalog/`` once per session (what the lifespan's migrate and sync would write)."""
    if CLIENTS & set(request.fixturenames):
        return CATALOG_DIR
    return MIGRATED if "engine" in request.fixturenames else None


@pytest.fixture
async def client(db_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app with an admin token configured, its lifespan running on a seeded database; an
    import worker's heartbeat is fresh (as if another replica ran it: the app runs none)."""
    app = create_app(settings_for(db_url, sync_catalog_on_start=False))
    async with AsyncTestClient(app=app) as test_client:
        await record_heartbeat(db_url)
        yield test_client


@pytest.fixture
async def read_only_client(db_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app with no admin token configured: reads open, every write refused."""
    app = create_app(settings_for(db_url, admin_token=None, sync_catalog_on_start=False))
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@cache
def _reference() -> dict[str, dict[str, Any]]:
    if not MODELS_JSON.is_file():
        pytest.fail(f"{MODELS_JSON} is missing: the API tests read catalog/reference/")
    models = json.loads(MODELS_JSON.read_text(encoding="utf-8"))["models"]
    return {entry["repo_id"]: entry for entry in models}


def reference_model(repo_id: str) -> dict[str, Any]:
    """One entry of models.json (``repo_id``, ``total_params``, ``config``), safe to mutate."""
    return copy.deepcopy(_reference()[repo_id])


@cache
def _catalog_gpus() -> dict[str, dict[str, Any]]:
    # Exponents such as 3.35e+12 keep their sign in gpus.yaml, so safe_load reads them as floats.
    gpus = yaml.safe_load((CATALOG_DIR / "gpus.yaml").read_text(encoding="utf-8"))["gpus"]
    return {gpu["id"]: gpu for gpu in gpus}


def catalog_gpu(gpu_id: str) -> dict[str, Any]:
    """One GPU of the seed catalog as its YAML states it."""
    return copy.deepcopy(_catalog_gpus()[gpu_id])


def catalog_gpu_ids() -> list[str]:
    return sorted(_catalog_gpus())


def catalog_model_ids() -> list[str]:
    """Repo ids of the seed catalog's model files."""
    files = (CATALOG_DIR / "models").glob("*.yaml")
    return sorted(yaml.safe_load(path.read_text(encoding="utf-8"))["repo_id"] for path in files)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """An RFC 9457 problem with this status: media type, members, and no leaked trace."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"]
    assert "Traceback" not in response.text
    return body


def error_keys(problem: dict[str, Any]) -> set[str]:
    """The body fields a validation problem names."""
    return {str(error["key"]) for error in problem.get("errors") or []}


def gpu_body(gpu_id: str = "test-gpu", **overrides: Any) -> dict[str, Any]:
    """A valid POST /v1/gpus body."""
    body: dict[str, Any] = {
        "id": gpu_id,
        "name": "Test GPU 48GB",
        "vendor": "nvidia",
        "memory_bytes": 48 * 2**30,
        "memory_bandwidth_bytes_per_s": 1.0e12,
        "dense_tflops_bf16": 200.0,
        "dense_tflops_fp16": 200.0,
        "price_per_hour_usd": 1.0,
    }
    return {**body, **overrides}
