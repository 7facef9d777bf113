"""Serving speed of POST /v1/plan against a live ``capplan serve`` on loopback.

Starts the real server (uvicorn, one worker) on a free 127.0.0.1 port with a throwaway SQLite
database (migrated and seeded with ``catalog/`` at start-up), waits for ``/ready``, then asks
for a plan over the *whole* GPU catalog (no constraints: every GPU x TP/PP x precision):

1. sequentially, one request at a time, alternating with ``GET /health`` on the same
   connection (the target: the plan's median at most 3x the health check's);
2. new questions, one at a time (each misses the answer cache: the search runs);
3. from several concurrent clients (httpx, one connection each): throughput in requests/s
   and latency under load (which includes queueing behind the other clients).

Every phase is bounded by ``--time-limit`` (the whole run stays under a minute by default);
the server is stopped (SIGTERM, then SIGKILL) whatever happens. Not a test: timings depend on
the machine, and the load generator shares its CPUs with the server. ``--profile`` also runs
the same requests in-process under cProfile (computing inline, not in the worker pool) and
prints where the time goes; with ``--new-questions`` the profiled requests are new questions
(a different prompt length each, so every one misses the answer cache and runs the search).

Usage::

    make bench
    uv run python bench/plan_latency.py --requests 400 --concurrency 8 --profile
    uv run python bench/plan_latency.py --profile --new-questions
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import os
import pstats
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

DEFAULT_MODEL = "meta-llama/Llama-3.1-8B"
WORKLOAD = {"input_tokens": 2000, "output_tokens": 500, "concurrency": 16}


def plan_body(model: str) -> dict[str, Any]:
    return {"model": model, "workload": WORKLOAD, "objective": "cost"}


@dataclass
class Sample:
    seconds: list[float]
    wall_s: float
    failures: int

    def line(self, label: str) -> str:
        ms = sorted(s * 1e3 for s in self.seconds)
        if not ms:
            return f"{label}: no successful request ({self.failures} failed)"
        return (
            f"{label}: {len(ms)} requests in {self.wall_s:.2f} s = "
            f"{len(ms) / self.wall_s:.0f} req/s | latency ms p50 {percentile(ms, 50):.2f} "
            f"p90 {percentile(ms, 90):.2f} p99 {percentile(ms, 99):.2f} max {ms[-1]:.2f}"
            + (f" | {self.failures} FAILED" if self.failures else "")
        )


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, round(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def capplan_command() -> list[str]:
    """The ``capplan`` entry point of this interpreter's environment."""
    script = Path(sys.executable).with_name("capplan")
    if script.exists():
        return [str(script)]
    found = shutil.which("capplan")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main())"]


def server_env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{data_dir / 'bench.db'}",
        CAPPLAN_IMPORTER_ENABLED="false",
        CAPPLAN_RATE_LIMIT_PER_MINUTE="0",
        CAPPLAN_DEBUG="false",
    )
    env.pop("CAPPLAN_ADMIN_TOKEN", None)
    env.update(extra or {})
    return env


@contextlib.contextmanager
def running_server(
    port: int, data_dir: Path, log_path: Path, extra_env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    command = [*capplan_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "warning"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own entry point, fixed arguments
            command, env=server_env(data_dir, extra_env), stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


async def wait_ready(base: str, process: subprocess.Popen[bytes], timeout_s: float) -> float:
    """Seconds until /ready answered 200 (the lifespan migrated and seeded the database)."""
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=2.0) as client:
        while time.perf_counter() - started < timeout_s:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode} before /ready")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/ready")).status_code == 200:
                    return time.perf_counter() - started
            await asyncio.sleep(0.1)
    raise TimeoutError(f"/ready did not answer 200 within {timeout_s:.0f} s")


async def drive(
    base: str, body: dict[str, Any], requests: int, concurrency: int, deadline: float
) -> Sample:
    """``requests`` plans from ``concurrency`` clients, stopping early at ``deadline``."""
    seconds: list[float] = []
    failures = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(requests):
        queue.put_nowait(index)

    async def client_loop() -> None:
        nonlocal failures
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base, timeout=30.0, limits=limits) as client:
            while time.perf_counter() < deadline:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                response = await client.post("/v1/plan", json=body)
                elapsed = time.perf_counter() - started
                if response.status_code == 200 and response.json()["configurations"]:
                    seconds.append(elapsed)
                else:
                    failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    return Sample(seconds=seconds, wall_s=time.perf_counter() - started, failures=failures)


async def health_and_plan(
    base: str, body: dict[str, Any], requests: int, deadline: float
) -> tuple[Sample, Sample]:
    """``GET /health`` and the repeated plan, alternately, one at a time on one connection of
    one client: the two see the same server, client and machine load."""
    health: list[float] = []
    plans: list[float] = []
    failures = 0
    started = time.perf_counter()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base, timeout=30.0, limits=limits) as client:
        for _ in range(requests):
            if time.perf_counter() >= deadline:
                break
            began = time.perf_counter()
            ok = (await client.get("/health")).status_code == 200
            health.append(time.perf_counter() - began)
            began = time.perf_counter()
            response = await client.post("/v1/plan", json=body)
            elapsed = time.perf_counter() - began
            if ok and response.status_code == 200 and response.json()["configurations"]:
                plans.append(elapsed)
            else:
                failures += 1
    wall_s = time.perf_counter() - started
    return Sample(health, wall_s, 0), Sample(plans, wall_s, failures)


def new_question(body: dict[str, Any], index: int) -> dict[str, Any]:
    """``body`` with a prompt length no other index asks: an answer-cache miss."""
    workload = {**body["workload"], "input_tokens": body["workload"]["input_tokens"] + 1 + index}
    return {**body, "workload": workload}


async def new_questions(base: str, body: dict[str, Any], requests: int, deadline: float) -> Sample:
    """Plans no earlier request asked (each a different prompt length): answer-cache misses."""
    seconds: list[float] = []
    failures = 0
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
        for index in range(requests):
            if time.perf_counter() >= deadline:
                break
            began = time.perf_counter()
            response = await client.post("/v1/plan", json=new_question(body, index))
            if response.status_code == 200:
                seconds.append(time.perf_counter() - began)
            else:
                failures += 1
    return Sample(seconds, time.perf_counter() - started, failures)


def median_ms(sample: Sample) -> float:
    return percentile(sorted(sample.seconds), 50) * 1e3


async def describe_plan(base: str, body: dict[str, Any]) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
        plan = (await client.post("/v1/plan", json=body)).json()
        gpus = (await client.get("/v1/gpus", params={"limit": 500})).json()["total"]
    return (
        f"one plan: {body['model']} over the whole catalog ({gpus} GPUs): "
        f"{len(plan['configurations'])} configurations (of {plan.get('considered', '?')} "
        f"feasible), {sum(g['count'] for g in plan.get('rejections', []))} rejections in "
        f"{len(plan.get('rejections', []))} reasons"
    )


def profile_in_process(
    body: dict[str, Any], requests: int, data_dir: Path, *, new: bool = False
) -> str:
    """The same plans (``new``: new questions, 10_000 tokens away from the timed phase's)
    through the ASGI app in this thread, computing inline (so cProfile sees it), no sockets."""
    from service.app import create_app
    from service.settings import Settings

    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{data_dir / 'profile.db'}", compute_pool="inline"
    )
    profiler = cProfile.Profile()

    async def run() -> None:
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.lifespan(),
            httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
        ):
            await client.post("/v1/plan", json=body)  # warm caches outside the profile
            profiler.enable()
            started = time.perf_counter()
            for index in range(requests):
                await client.post(
                    "/v1/plan", json=new_question(body, 10_000 + index) if new else body
                )
            profiler.disable()
            kind = "new questions" if new else "repeated plans"
            print(
                f"profiled {requests} {kind}: "
                f"{(time.perf_counter() - started) / requests * 1e3:.1f} ms each under cProfile"
            )

    asyncio.run(run())
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats(r"service[/\\]", 20)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help="catalog repo id to plan")
    parser.add_argument("--sequential", type=int, default=100, help="requests one at a time")
    parser.add_argument("--misses", type=int, default=20, help="new questions, one at a time")
    parser.add_argument("--requests", type=int, default=400, help="requests under load")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument("--time-limit", type=float, default=50.0, help="seconds, whole run")
    parser.add_argument("--profile", action="store_true", help="also profile in-process")
    parser.add_argument(
        "--new-questions",
        action="store_true",
        help="profile new questions (answer-cache misses: the search) instead of a repeated one",
    )
    args = parser.parse_args(argv)

    run_deadline = time.perf_counter() + args.time_limit
    body = plan_body(args.model)
    data_dir = Path(tempfile.mkdtemp(prefix="capplan-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = data_dir / "server.log"
    print(f"capplan serve on {base} (SQLite in {data_dir}), {os.cpu_count()} CPUs")
    try:
        with running_server(port, data_dir, log_path) as process:

            async def bench() -> None:
                ready_s = await wait_ready(base, process, timeout_s=30.0)
                print(f"ready after {ready_s:.1f} s (migrate + seed catalog)")
                print(await describe_plan(base, body))
                await drive(base, body, 20, 1, run_deadline)  # warm-up
                health, sequential = await health_and_plan(
                    base, body, args.sequential, run_deadline
                )
                print(health.line("GET /health, alternating"))
                print(sequential.line("repeated /v1/plan, alternating"))
                plan_ms, health_ms = median_ms(sequential), median_ms(health)
                print(
                    f"median /v1/plan {plan_ms:.2f} ms vs /health {health_ms:.2f} ms: "
                    f"{plan_ms / health_ms:.1f}x (target <= 3x)"
                )
                misses = await new_questions(base, body, args.misses, run_deadline)
                print(misses.line("new questions (answer-cache misses), 1 client"))
                loaded = await drive(base, body, args.requests, args.concurrency, run_deadline)
                print(loaded.line(f"concurrent, {args.concurrency} clients"))
                if time.perf_counter() >= run_deadline:
                    print(f"stopped at the {args.time_limit:.0f} s time limit")

            asyncio.run(bench())
        if args.profile:
            print(profile_in_process(body, 50, data_dir, new=args.new_questions))
    except Exception:
        print(f"--- server log ({log_path}) ---\n{log_path.read_text(errors='replace')}")
        raise
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
