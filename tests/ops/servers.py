"""Real ``capplan serve`` processes on free loopback ports, for tests that signal or kill them.

Each process logs (JSON lines) to a file under the test's tmp_path; a failing test prints it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import httpx

CAPPLAN = Path(sys.executable).with_name("capplan")
READY_TIMEOUT_S = 30.0
ADMIN_TOKEN = "ops-admin-token"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(database_url: str, **settings: str) -> dict[str, str]:
    """This environment without capplan/Hub variables, plus the database and ``settings``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CAPPLAN_", "HF_", "DATABASE_URL"))
    }
    env.update(
        DATABASE_URL=database_url,
        CAPPLAN_ADMIN_TOKEN=ADMIN_TOKEN,
        CAPPLAN_SYNC_CATALOG_ON_START="false",
        CAPPLAN_RATE_LIMIT_PER_MINUTE="0",
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_OFFLINE="0",
    )
    env.update(settings)
    return env


class Server:
    """One ``capplan serve`` subprocess; ``url`` once started."""

    def __init__(self, log_path: Path, env: Mapping[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("wb")
        command = [str(CAPPLAN), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(  # noqa: S603 - our own entry point
            command, env=dict(env), stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> Server:
        """Block until GET /ready answers 200 (migrated, catalog loaded)."""
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log}")
                try:
                    if client.get("/ready").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise TimeoutError(f"{self.url} not ready after {timeout_s} s:\n{self.log}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs at all."""
        self.process.kill()
        self.process.wait()

    def terminate(self, timeout_s: float = 30.0) -> int:
        """SIGTERM and wait for the exit status (graceful shutdown)."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout_s)

    def stop(self) -> None:
        """Make sure the process is gone and the log closed (teardown)."""
        if self.process.poll() is None:
            try:
                self.terminate(10.0)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


class Servers:
    """Starts servers for one test and stops every one of them afterwards."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[Server] = []

    def start(self, env: Mapping[str, str]) -> Server:
        server = Server(self.directory / f"server-{len(self.started)}.log", env)
        self.started.append(server)
        return server

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {s.log_path.name} ---\n{s.log}" for s in self.started)
