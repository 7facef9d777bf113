"""The worker with the real HfHubClient against the loopback fake Hub, driven by run_once."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest

from service.db.model_repository import ModelRepository
from service.db.models import JobStatus
from service.hub.client import HfHubClient
from service.importer.worker import ImportWorker
from tests.fakehub import FakeHubServer
from tests.importer.conftest import Clock, Sessions, worker_config
from tests.importer.jobs import catalog, enqueue, get_job
from tests.importer.models import (
    LLAMA_1B_TOTAL,
    MAMBA_CONFIG,
    REPO,
    SHA_1,
    SHA_2,
    llama_1b_config,
    llama_tensors,
)

pytestmark = pytest.mark.anyio

INFO_PATH = f"/api/models/{REPO}"
CONFIG_PATH = f"/{REPO}/resolve/{SHA_1}/config.json"


async def test_job_imports_the_model(
    worker: ImportWorker, llama: FakeHubServer, sessionmaker: Sessions, clock: Clock
) -> None:
    """A queued job ends succeeded, with the exact count and the Hub's agreeing total stored."""
    job_id = await enqueue(sessionmaker, REPO, clock=clock)

    [processed] = await worker.drain()

    job = await get_job(sessionmaker, job_id)
    assert (job.status, job.attempts, job.error, job.lease_owner) == ("succeeded", 1, None, None)
    assert job.finished_at is not None
    row = (await catalog(sessionmaker))[REPO]
    assert (row.total_params, row.hub_safetensors_total) == (LLAMA_1B_TOTAL, LLAMA_1B_TOTAL)
    assert (row.origin, row.revision, row.gated) == ("hub", SHA_1, False)
    assert "agrees with the computed count" in row.notes
    assert processed.result is not None
    assert processed.result.total_params == LLAMA_1B_TOTAL


def _missing(hub: FakeHubServer) -> None:
    pass


def _gated(hub: FakeHubServer) -> None:
    hub.hub.add_model(REPO, llama_1b_config(), gated="manual", authorized_tokens=["hf_ok"])


def _no_config(hub: FakeHubServer) -> None:
    hub.hub.add_model(REPO, None, files={"README.md": b"weights only"})


def _malformed(hub: FakeHubServer) -> None:
    hub.hub.add_model(REPO, b'{"model_type": "llama",')


def _mamba(hub: FakeHubServer) -> None:
    hub.hub.add_model(REPO, MAMBA_CONFIG)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        pytest.param(_missing, "repository not found", id="not-found"),
        pytest.param(_gated, "gated: set HF_TOKEN", id="gated-without-token"),
        pytest.param(_no_config, "no config.json", id="no-config"),
        pytest.param(_malformed, "config.json is unreadable: not JSON", id="malformed-json"),
        pytest.param(
            _mamba, r"unsupported architecture feature 'state-space \(Mamba\)", id="mamba"
        ),
    ],
)
async def test_permanent_failure_fails_the_job_at_once(
    worker: ImportWorker,
    fake_hub: FakeHubServer,
    sessionmaker: Sessions,
    clock: Clock,
    setup: Callable[[FakeHubServer], None],
    message: str,
) -> None:
    """Each permanent failure ends the job failed after one attempt; the catalog is untouched."""
    setup(fake_hub)
    job_id = await enqueue(sessionmaker, REPO, clock=clock)

    await worker.drain()

    job = await get_job(sessionmaker, job_id)
    assert (job.status, job.attempts, job.lease_owner) == ("failed", 1, None)
    assert job.error is not None
    assert REPO in job.error
    assert re.search(message, job.error), job.error
    assert await catalog(sessionmaker) == {}


async def test_server_error_is_retried_after_backoff(
    worker: ImportWorker, llama: FakeHubServer, sessionmaker: Sessions, clock: Clock
) -> None:
    """A 503 queues the job again after the base backoff; the next attempt succeeds."""
    llama.hub.fail_next(INFO_PATH, 503)
    job_id = await enqueue(sessionmaker, REPO, clock=clock)

    await worker.run_once()

    job = await get_job(sessionmaker, job_id)
    assert (job.status, job.attempts, job.lease_owner) == ("queued", 1, None)
    assert job.error is not None
    assert "503" in job.error
    assert job.next_attempt_at == clock.now + dt.timedelta(seconds=5)
    assert await worker.run_once() is None  # not due yet
    clock.advance(5)
    await worker.run_once()
    job = await get_job(sessionmaker, job_id)
    assert (job.status, job.attempts, job.error) == ("succeeded", 2, None)
    assert REPO in await catalog(sessionmaker)


async def test_rate_limit_honours_retry_after(
    worker: ImportWorker, llama: FakeHubServer, sessionmaker: Sessions, clock: Clock
) -> None:
    """A 429 with Retry-After: 2 schedules the next attempt 2 s later, not at the backoff."""
    llama.hub.fail_next(INFO_PATH, 429, headers={"Retry-After": "2"})
    job_id = await enqueue(sessionmaker, REPO, clock=clock)

    await worker.run_once()

    job = await get_job(sessionmaker, job_id)
    assert job.status == JobStatus.QUEUED
    assert job.next_attempt_at == clock.now + dt.timedelta(seconds=2)
    clock.advance(2)
    await worker.drain()
    assert (await get_job(sessionmaker, job_id)).status == JobStatus.SUCCEEDED


async def test_backoff_doubles_between_attempts(
    worker: ImportWorker, llama: FakeHubServer, sessionmaker: Sessions, clock: Clock
) -> None:
    """The second retry waits twice as long as the first."""
    llama.hub.fail_next(INFO_PATH, 502, times=2)
    job_id = await enqueue(sessionmaker, REPO, clock=clock)

    await worker.run_once()
    clock.advance(5)
    await worker.run_once()

    job = await get_job(sessionmaker, job_id)
    assert (job.status, job.attempts) == ("queued", 2)
    assert job.next_attempt_at == clock.now + dt.timedelta(seconds=10)


async def test_gives_up_after_max_attempts(
    worker: ImportWorker, llama: FakeHubServer, sessionmaker: Sessions, clock: Clock
) -> None:
    """A transient failure on the last allowed attempt fails the job, saying so."""
    llama.hub.fail_next(INFO_PATH, 500, times=2)
    job_id = await enqueue(sessionmaker, REPO, max_attempts=2, clock=clock)

    await worker.run_once()
    clock.advance(5)
    await worker.run_once()

    job = await get_job(sessionmaker, job_id)
    assert (job.status, job.attempts) == ("failed", 2)
    assert job.error is not None
    assert job.error.startswith("gave up after 2 attempts:")
    assert await catalog(sessionmaker) == {}


async def test_timeout_is_transient(
    llama: FakeHubServer, sessionmaker: Sessions, clock: Clock
) -> None:
    """A Hub that does not answer within the timeout gets the job retried, not failed."""
    hub = HfHubClient(llama.url, token=None, timeout_s=0.2)
    worker = ImportWorker(sessionmaker, hub, worker_config(), clock=clock)
    llama.hub.stall_next(INFO_PATH, 2.0)
    job_id = await enqueue(sessionmaker, REPO, clock=clock)

    await worker.run_once()

    job = await get_job(sessionmaker, job_id)
    assert job.status == JobStatus.QUEUED
    assert job.error is not None
    assert "did not answer in time" in job.error


async def test_reimporting_the_same_sha_writes_nothing(
    worker: ImportWorker, llama: FakeHubServer, sessionmaker: Sessions, clock: Clock
) -> None:
    """A second import of an unchanged commit succeeds without touching the model row."""
    await enqueue(sessionmaker, REPO, clock=clock)
    await worker.drain()
    before = (await catalog(sessionmaker))[REPO]
    second = await enqueue(sessionmaker, REPO, clock=clock)

    [processed] = await worker.drain()

    after = (await catalog(sessionmaker))[REPO]
    assert (await get_job(sessionmaker, second)).status == JobStatus.SUCCEEDED
    assert processed.result is not None
    assert processed.result.outcome == "unchanged"
    assert (after.updated_at, after.version) == (before.updated_at, before.version)
    assert len(llama.hub.requests_to(CONFIG_PATH)) == 1


async def test_new_commit_updates_the_row_and_archives_the_old_one(
    worker: ImportWorker, llama: FakeHubServer, sessionmaker: Sessions, clock: Clock
) -> None:
    """A new sha with a changed config replaces the row; the previous revision is archived."""
    await enqueue(sessionmaker, REPO, clock=clock)
    await worker.drain()
    config = {**llama_1b_config(), "max_position_embeddings": 65536}
    llama.hub.add_model(REPO, config, sha=SHA_2, safetensors=llama_tensors(config))
    await enqueue(sessionmaker, REPO, clock=clock)

    [processed] = await worker.drain()

    assert processed.result is not None
    assert processed.result.outcome == "updated"
    row = (await catalog(sessionmaker))[REPO]
    assert (row.revision, row.architecture["max_context_tokens"]) == (SHA_2, 65536)
    async with sessionmaker() as session:
        [archived] = await ModelRepository(session).revisions(REPO)
    assert archived.revision == SHA_1
