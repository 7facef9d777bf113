"""Database outages a test can start and end: a cuttable TCP proxy, a vanishing SQLite file.

Both have blocking ``cut()``/``restore()``: the app under AsyncTestClient runs on a portal
thread's event loop, not on the test's, so the proxy runs on a loop and thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from sqlalchemy import make_url


class CuttableProxy:
    """Forwards a loopback port to ``host:port``. ``cut`` resets the open connections and
    refuses new ones, as when the database server goes away; ``restore`` listens again."""

    def __init__(self, target_url: str) -> None:
        parsed = make_url(target_url)
        self.target = (parsed.host or "127.0.0.1", parsed.port or 5432)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="db-proxy")

    def start(self) -> CuttableProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def url(self, target_url: str) -> str:
        """``target_url`` through the proxy."""
        through = make_url(target_url).set(host="127.0.0.1", port=self.port)
        return through.render_as_string(hide_password=False)

    def cut(self) -> None:
        self._call(self._cut())

    def restore(self) -> None:
        self._call(self._listen())

    def close(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _forward(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        self._writers.add(client_w)
        try:
            upstream_r, upstream_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self._writers.add(upstream_w)
        await asyncio.gather(_pipe(client_r, upstream_w), _pipe(upstream_r, client_w))
        for writer in (client_w, upstream_w):
            self._writers.discard(writer)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


class SqliteOutage:
    """Takes the database's directory away. Open SQLite connections would keep using the
    moved file, so ``empty_pool`` (the engine's dispose) runs first: every query then has to
    open the missing file."""

    def __init__(self, url: str, empty_pool: Callable[[], None]) -> None:
        database = make_url(url).database
        assert database is not None
        self.directory = Path(database).parent
        self.away = self.directory.with_name(self.directory.name + ".away")
        self.empty_pool = empty_pool

    def cut(self) -> None:
        self.empty_pool()
        self.directory.rename(self.away)

    def restore(self) -> None:
        self.away.rename(self.directory)
