"""The event-loop stall of issue 13, before and after: /health while heavy plans compute.

Starts a real ``capplan serve`` (uvicorn, one process, throwaway SQLite) twice:

* ``before``: ``CAPPLAN_COMPUTE_POOL=inline`` computes on the event loop, as the service did;
* ``after``: the default worker processes (``CAPPLAN_COMPUTE_WORKERS``, niced).

Each time it sends ``--plans`` copies of the costliest plan the limits allow (a 1,024-layer
inline config over the whole catalog, every dtype, max_gpus 16: 15,872 search cells) at once,
and probes ``GET /health`` back to back until they are answered. It also sends the issue's
original request (max_gpus 64: 63,488 cells), which the service now refuses before any work.

Not a test: timings depend on the machine and its load. Usage::

    uv run python bench/abuse.py --plans 4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plan_latency import free_port, running_server, wait_ready

ROOT = Path(__file__).resolve().parents[1]
WEIGHT_DTYPES = ["auto", "fp32", "bf16", "fp16", "fp8", "int8", "int4", "mxfp4"]
KV_DTYPES = ["auto", "bf16", "fp16", "fp8"]


def heavy_plan(max_gpus: int) -> dict[str, Any]:
    reference = json.loads((ROOT / "catalog" / "reference" / "models.json").read_text())
    llama = next(m for m in reference["models"] if m["repo_id"] == "meta-llama/Llama-3.1-8B")
    return {
        "model": {"hf_config": {**llama["config"], "num_hidden_layers": 1024}},
        "workload": {"input_tokens": 2000, "output_tokens": 500, "concurrency": 64},
        "constraints": {
            "max_gpus": max_gpus,
            "weight_dtypes": WEIGHT_DTYPES,
            "kv_cache_dtypes": KV_DTYPES,
        },
    }


async def stall(base: str, plans: int) -> dict[str, Any]:
    """Send ``plans`` costliest valid plans at once; probe /health until all are answered."""
    body = heavy_plan(16)
    async with httpx.AsyncClient(base_url=base, timeout=600.0) as planner:
        started = time.perf_counter()
        tasks = [asyncio.create_task(planner.post("/v1/plan", json=body)) for _ in range(plans)]
        probes: list[float] = []
        async with httpx.AsyncClient(base_url=base, timeout=600.0) as prober:
            while not all(task.done() for task in tasks):
                sent = time.perf_counter()
                await prober.get("/health")
                probes.append((time.perf_counter() - sent) * 1e3)
        answers = [task.result() for task in tasks]
        wall_s = time.perf_counter() - started
        original = await planner.post("/v1/plan", json=heavy_plan(64))
    ordered = sorted(probes)
    return {
        "plan_statuses": sorted(a.status_code for a in answers),
        "plans_wall_s": round(wall_s, 1),
        "health_probes": len(probes),
        "health_median_ms": round(statistics.median(ordered), 1),
        "health_p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1),
        "health_max_ms": round(ordered[-1], 1),
        "original_request": f"{original.status_code} in {original.elapsed.total_seconds():.2f} s",
    }


def run(mode: str, plans: int) -> dict[str, Any]:
    env = {
        "CAPPLAN_COMPUTE_POOL": mode,
        "CAPPLAN_COMPUTE_DEADLINE_S": "600",
        "CAPPLAN_COMPUTE_QUEUE": str(plans),
    }
    if mode == "inline":  # as before: no bound on the search space either
        env["CAPPLAN_PLAN_MAX_SEARCH_CELLS"] = "10000000"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="capplan-abuse-") as tmp:
        data = Path(tmp)
        with running_server(port, data, data / "server.log", extra_env=env) as process:
            asyncio.run(wait_ready(base, process, 120.0))
            return asyncio.run(stall(base, plans))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=4, help="costliest plans sent at once")
    args = parser.parse_args(argv)
    for label, mode in (("before (inline)", "inline"), ("after (process pool)", "process")):
        result = run(mode, args.plans)
        print(f"{label}: " + ", ".join(f"{key}={value}" for key, value in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
