"""Importer fixtures: a migrated database on SQLite and PostgreSQL, the loopback fake Hub, a
worker on a controllable clock, and the app with the importer's settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.app import create_app
from service.db.types import utcnow
from service.hub.client import HfHubClient
from service.importer.config import WorkerConfig
from service.importer.worker import ImportWorker
from service.settings import Settings
from tests.db.conftest import anyio_backend, db_url, engine, postgres_url, sessionmaker
from tests.fakehub import FakeHubServer
from tests.fakehub.fixtures import fake_hub, fake_hub_server
from tests.heartbeats import record_heartbeat
from tests.importer.memory_hub import BlockingHub
from tests.importer.models import REPO, SHA_1, llama_1b_config, llama_tensors

__all__ = [
    "anyio_backend",
    "db_url",
    "engine",
    "fake_hub",
    "fake_hub_server",
    "postgres_url",
    "sessionmaker",
]

ADMIN_TOKEN = "importer-admin-token"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
REPO_ROOT = Path(__file__).resolve().parents[2]

Sessions = async_sessionmaker[AsyncSession]


class Clock:
    """A clock the test moves by hand; starts at the real time so API-made jobs are due."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def llama(fake_hub: FakeHubServer) -> FakeHubServer:
    """The fake Hub serving Llama-3.2-1B's config and tensor shapes as REPO at SHA_1."""
    config = llama_1b_config()
    fake_hub.hub.add_model(REPO, config, sha=SHA_1, safetensors=llama_tensors(config))
    return fake_hub


@pytest.fixture
def blocking_hub() -> Iterator[BlockingHub]:
    """An in-memory Hub serving REPO whose model_info hangs until released."""
    hub = BlockingHub()
    hub.add(REPO, llama_1b_config(), SHA_1)
    yield hub
    hub.release.set()  # let an abandoned worker thread finish


def worker_config(**changes: float | int | str) -> WorkerConfig:
    values: dict[str, float | int | str] = {
        "owner": "test-worker",
        "lease_s": 60.0,
        "poll_interval_s": 0.05,
        "backoff_s": 5.0,
        "backoff_max_s": 60.0,
        "max_attempts": 3,
    }
    return WorkerConfig(**{**values, **changes})  # type: ignore[arg-type]


@pytest.fixture
def worker(sessionmaker: Sessions, fake_hub: FakeHubServer, clock: Clock) -> ImportWorker:
    """A worker on the fake Hub (anonymous, 5 s timeout) and the test's clock."""
    hub = HfHubClient(fake_hub.url, token=None, timeout_s=5.0)
    return ImportWorker(sessionmaker, hub, worker_config(), clock=clock)


def app_settings(db_url: str, hub_url: str, **changes: object) -> Settings:
    """The service with writes on, the fake Hub, no catalog sync, the importer off."""
    values: dict[str, object] = {
        "database_url": db_url,
        "admin_token": ADMIN_TOKEN,
        "hf_endpoint": hub_url,
        "hub_timeout_s": 5.0,
        "catalog_dir": REPO_ROOT / "catalog",
        "sync_catalog_on_start": False,
        "rate_limit_per_minute": 0,
        "importer_enabled": False,
    }
    return Settings(**{**values, **changes})  # type: ignore[arg-type]


@pytest.fixture
async def client(db_url: str, fake_hub: FakeHubServer) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app (lifespan running) on the test database, pointed at the fake Hub; it runs no
    worker, but a worker's heartbeat is fresh (as if another replica ran it)."""
    app = create_app(app_settings(db_url, fake_hub.url))
    async with AsyncTestClient(app=app) as test_client:
        await record_heartbeat(db_url)
        yield test_client
