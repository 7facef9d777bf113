"""Deadlines on the database: a frozen server costs seconds, not minutes, and only real
outages are reported as outages.

"Frozen" is a TCP proxy that keeps every connection open and stops passing bytes, as a
SIGSTOPped or partitioned PostgreSQL looks to a client (a refused connection is
tests/ops/test_outage.py's case).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import threading
import time
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from service.app import create_app
from service.db.outage import unavailable
from tests.api.conftest import assert_problem
from tests.db.conftest import TINY_LLAMA_CONFIG, CatalogWriter
from tests.ops.conftest import ops_settings

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Litestar]
DEADLINE_S = 1.0
#: A request that needs the database answers within the deadline plus this much.
SLACK_S = 4.0


class FreezableProxy:
    """Forwards a loopback port to PostgreSQL until ``freeze``: then it holds every byte."""

    def __init__(self, target_url: str) -> None:
        parsed = make_url(target_url)
        self.target = (parsed.host or "127.0.0.1", parsed.port or 5432)
        self.port = 0
        self._thawed: asyncio.Event | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="frozen-db")
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    def start(self) -> FreezableProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def url(self, target_url: str) -> str:
        through = make_url(target_url).set(host="127.0.0.1", port=self.port)
        return through.render_as_string(hide_password=False)

    def freeze(self) -> None:
        """From now on no byte passes, either way; connections stay open."""
        self._call(self._set_thawed(False))

    def thaw(self) -> None:
        self._call(self._set_thawed(True))

    def close(self) -> None:
        self._call(self._set_thawed(True))
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _set_thawed(self, thawed: bool) -> None:
        assert self._thawed is not None
        if thawed:
            self._thawed.set()
        else:
            self._thawed.clear()

    async def _listen(self) -> None:
        self._thawed = asyncio.Event()
        self._thawed.set()
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.transport.abort()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        with contextlib.suppress(OSError):
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            self._writers.append(up_writer)
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                assert self._thawed is not None
                await self._thawed.wait()  # frozen: hold the bytes, the server "does not answer"
                writer.write(data)
                await writer.drain()
        writer.close()  # one side hung up: so does the other


@pytest.fixture
async def frozen(
    postgres_url: str, write_catalog: CatalogWriter
) -> AsyncIterator[tuple[Client, FreezableProxy]]:
    """The app on PostgreSQL behind a proxy the test can freeze; deadlines of 1 s."""
    proxy = FreezableProxy(postgres_url).start()
    settings = ops_settings(
        proxy.url(postgres_url),
        write_catalog(),
        db_statement_timeout_s=DEADLINE_S,
        db_pool_timeout_s=DEADLINE_S,
        ready_timeout_s=DEADLINE_S,
    )
    try:
        async with AsyncTestClient(app=create_app(settings), timeout=60) as client:
            yield client, proxy
            proxy.thaw()  # let shutdown close its connections
    finally:
        proxy.close()


async def timed(request: Coroutine[Any, Any, Any]) -> tuple[Any, float]:
    start = time.monotonic()
    response = await request
    return response, time.monotonic() - start


async def test_frozen_database_computes_from_the_cached_catalog(
    frozen: tuple[Client, FreezableProxy],
) -> None:
    """With the database frozen, a computation on a cached GPU still answers 200, promptly."""
    client, proxy = frozen
    body = {"model": {"hf_config": TINY_LLAMA_CONFIG}, "gpu": "h100-sxm", "context_length": 2048}
    proxy.freeze()

    response, seconds = await timed(client.post("/v1/max-batch", json=body))

    assert response.status_code == 200, response.text
    assert seconds < DEADLINE_S + SLACK_S


async def test_frozen_database_read_is_503_within_the_deadline(
    frozen: tuple[Client, FreezableProxy],
) -> None:
    """A catalog read against a frozen database is 503 + Retry-After, in seconds."""
    client, proxy = frozen
    proxy.freeze()

    response, seconds = await timed(client.get("/v1/gpus"))

    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) >= 1
    assert seconds < DEADLINE_S + SLACK_S


async def test_ready_answers_within_its_own_deadline(
    frozen: tuple[Client, FreezableProxy],
) -> None:
    """/ready against a frozen database is 503 after CAPPLAN_READY_TIMEOUT_S, not a hang."""
    client, proxy = frozen
    proxy.freeze()

    response, seconds = await timed(client.get("/ready"))

    assert_problem(response, 503)
    assert seconds < DEADLINE_S + SLACK_S


class _Sqlstate(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "is_outage"),
    [
        (DBAPIError("SELECT 1", {}, _Sqlstate("57014")), True),
        (DBAPIError("SELECT 1", {}, _Sqlstate("08006")), True),
        (DBAPIError("SELECT 1", {}, _Sqlstate("53300")), True),
        (DBAPIError("INSERT", {}, _Sqlstate("23505")), False),
        (DBAPIError("SELECT x", {}, _Sqlstate("42703")), False),
        (OperationalError("SELECT 1", {}, Exception("database is locked")), True),
        (OperationalError("SELECT 1", {}, Exception("no such table: gpus")), False),
        (TimeoutError(), True),
        (OSError(errno.EHOSTUNREACH, "No route to host"), True),
        (FileNotFoundError(errno.ENOENT, "calibration.yaml"), False),
        (PermissionError(errno.EACCES, "engines.yaml"), False),
    ],
    ids=[
        "statement-timeout",
        "connection-failure",
        "too-many-connections",
        "unique-violation",
        "undefined-column",
        "sqlite-locked",
        "sqlite-no-table",
        "client-timeout",
        "no-route",
        "missing-file",
        "unreadable-file",
    ],
)
def test_outages_are_told_by_cause(error: Exception, is_outage: bool) -> None:
    """Only driver, pool and connection failures are outages; a missing file is a bug."""
    assert unavailable(error) is is_outage


async def test_missing_calibration_file_is_500_logged_not_503(
    tmp_path: Path, write_catalog: CatalogWriter, caplog: pytest.LogCaptureFixture
) -> None:
    """A file the service needs is missing: 500 naming no internals, traceback in the log."""
    catalog = write_catalog()
    (catalog / "calibration.yaml").unlink()
    body = {
        "model": {"hf_config": TINY_LLAMA_CONFIG},
        "gpu": "h100-sxm",
        "batch_size": 1,
        "input_tokens": 128,
        "output_tokens": 16,
    }
    settings = ops_settings(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", catalog)
    with caplog.at_level(logging.ERROR, logger="capplan.api"):
        async with AsyncTestClient(app=create_app(settings)) as client:
            response = await client.post("/v1/latency", json=body)

    problem = assert_problem(response, 500)
    assert "calibration" not in problem.get("detail", "")
    assert any(record.exc_info for record in caplog.records)
