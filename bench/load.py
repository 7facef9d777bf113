"""Load test: concurrent clients on POST /v1/plan and /v1/max-batch for a fixed time.

Starts ``capplan serve`` on a free loopback port with a throwaway SQLite database (rate limit
off), or targets a running service with ``--url``. Each of ``--concurrency`` clients holds one
connection (httpx) and sends plan and max-batch requests alternately until ``--duration``
seconds (default 20, at most 60) have passed. Reports requests/s, p50/p99 latency per endpoint
and overall, and the error count (anything but a 200 with an answer); exits 1 on any error.
The load generator shares the machine's CPUs with the server, so the figures are a floor.

Usage::

    uv run python bench/load.py                        # 20 s, 8 clients
    uv run python bench/load.py --duration 60 --concurrency 16
    uv run python bench/load.py --url http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from plan_latency import capplan_command, free_port, percentile, plan_body, server_env, wait_ready

MAX_DURATION_S = 60.0
DEFAULT_MODEL = "meta-llama/Llama-3.1-8B"


def requests_for(model: str) -> list[tuple[str, dict[str, Any]]]:
    """The request mix: a whole-catalog plan, and a max-batch on one GPU."""
    max_batch = {"model": model, "gpu": "h100-sxm", "context_length": 8192}
    return [("/v1/plan", plan_body(model)), ("/v1/max-batch", max_batch)]


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    def record(self, path: str, seconds: float, ok: bool) -> None:
        if ok:
            self.latencies.setdefault(path, []).append(seconds)
        else:
            self.errors[path] = self.errors.get(path, 0) + 1


def answered(path: str, response: httpx.Response) -> bool:
    if response.status_code != 200:
        return False
    body = response.json()
    return bool(body["configurations"]) if path == "/v1/plan" else "max_batch" in body


async def client_loop(
    base: str, mix: list[tuple[str, dict[str, Any]]], offset: int, deadline: float, tally: Tally
) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base, timeout=30.0, limits=limits) as client:
        turn = offset
        while time.perf_counter() < deadline:
            path, body = mix[turn % len(mix)]
            turn += 1
            started = time.perf_counter()
            try:
                response = await client.post(path, json=body)
                ok = answered(path, response)
            except httpx.HTTPError:
                ok = False
            tally.record(path, time.perf_counter() - started, ok)


async def drive(base: str, model: str, concurrency: int, duration_s: float) -> tuple[Tally, float]:
    mix = requests_for(model)
    tally = Tally()
    started = time.perf_counter()
    deadline = started + duration_s
    await asyncio.gather(*(client_loop(base, mix, i, deadline, tally) for i in range(concurrency)))
    return tally, time.perf_counter() - started


def line(label: str, seconds: list[float], errors: int, wall_s: float) -> str:
    ms = sorted(s * 1e3 for s in seconds)
    if not ms:
        return f"{label:<14} no successful request, {errors} errors"
    return (
        f"{label:<14} {len(ms):>6} ok  {len(ms) / wall_s:>7.1f} req/s  "
        f"p50 {percentile(ms, 50):>7.2f} ms  p99 {percentile(ms, 99):>7.2f} ms  "
        f"max {ms[-1]:>7.2f} ms  errors {errors}"
    )


def report(tally: Tally, wall_s: float, concurrency: int) -> str:
    rows = [
        line(path, tally.latencies.get(path, []), tally.errors.get(path, 0), wall_s)
        for path in sorted(set(tally.latencies) | set(tally.errors))
    ]
    every = [s for seconds in tally.latencies.values() for s in seconds]
    rows.append(line("all", every, sum(tally.errors.values()), wall_s))
    head = f"{wall_s:.1f} s, {concurrency} concurrent clients, {os.cpu_count()} CPUs"
    return "\n".join([head, *rows])


@contextlib.contextmanager
def local_server(port: int, data_dir: Path, log_level: str) -> Iterator[subprocess.Popen[bytes]]:
    """``capplan serve`` as deployed (one uvicorn worker, JSON logs at ``log_level``)."""
    command = [*capplan_command(), "serve", "--port", str(port), "--log-level", log_level]
    with (data_dir / "server.log").open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own entry point, fixed arguments
            command, env=server_env(data_dir), stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def target(url: str | None, log_level: str) -> Iterator[str]:
    """``url``, or a fresh local server (stopped afterwards)."""
    if url:
        yield url.rstrip("/")
        return
    data_dir = Path(tempfile.mkdtemp(prefix="capplan-load-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = data_dir / "server.log"
    try:
        with local_server(port, data_dir, log_level) as process:
            ready_s = asyncio.run(wait_ready(base, process, timeout_s=60.0))
            print(f"capplan serve on {base} (SQLite in {data_dir}) ready after {ready_s:.1f} s")
            yield base
    except Exception:
        print(f"--- server log ---\n{log_path.read_text(errors='replace')}")
        raise
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running service (default: start one on loopback)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds (max 60)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="catalog repo id")
    parser.add_argument(
        "--log-level", default="info", help="of the local server (info logs every request)"
    )
    args = parser.parse_args(argv)
    duration = min(max(args.duration, 1.0), MAX_DURATION_S)

    with target(args.url, args.log_level) as base:
        asyncio.run(drive(base, args.model, 2, 1.0))  # warm-up, not counted
        tally, wall_s = asyncio.run(drive(base, args.model, args.concurrency, duration))
    print(report(tally, wall_s, args.concurrency))
    return 1 if tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
