"""Fuzz a live ``capplan serve`` with schemathesis until at least 20,000 cases ran: zero 5xx.

Starts the real server (uvicorn, one worker) on a free 127.0.0.1 port with a throwaway SQLite
database, writes on (admin token), no rate limit, its own import worker, and the Hub endpoint on
a closed loopback port (queued imports fail fast instead of leaving the machine). Then runs
``st run`` on the OpenAPI document the server serves (``/schema/openapi.json``: the code under
test, whether or not ``openapi.yaml`` was regenerated) with the repository's
``schemathesis.toml`` (every default check, including ``not_a_server_error``, with the contract
tests' exceptions; fixed seed, deterministic generation), authenticated as admin, through every
phase (examples, coverage, fuzzing, stateful), continuing past failures. ``--max-examples`` per
operation and phase sets the size; the default gives over 20,000 cases. The health checks that
judge the generator, not the server (``filter_too_much``, ``too_slow``), are suppressed.

The server counts every answer by route and status (``/metrics``), so the 5xx figure is the
server's own, not schemathesis' sample of failures. Exit status 1 when the server answered any
5xx or schemathesis reported a failure. Not part of CI (minutes of CPU); ``make fuzz`` runs it.

Usage::

    make fuzz
    uv run python bench/fuzz.py --max-examples 300 --workers 2 --log st.log --server-log server.log
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from plan_latency import free_port, running_server, wait_ready

REPO_ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "fuzz-admin-token"  # noqa: S105 - a throwaway server on loopback
#: A loopback port nothing listens on: imports fail at once (connection refused) and retry.
CLOSED_HUB = "http://127.0.0.1:9"
METRIC = re.compile(
    r'^capplan_http_requests_total\{method="(?P<method>[^"]*)",route="(?P<route>[^"]*)",'
    r'status="(?P<status>\d+)"\} (?P<count>[0-9.e+]+)$'
)
CASES = re.compile(r"^\s*(\d+) generated", re.MULTILINE)


def server_answers(metrics_text: str) -> Counter[tuple[str, str, int]]:
    """Requests the server answered, by (method, route, status), from its /metrics page."""
    counts: Counter[tuple[str, str, int]] = Counter()
    for line in metrics_text.splitlines():
        if match := METRIC.match(line):
            key = (match["method"], match["route"], int(match["status"]))
            counts[key] += int(float(match["count"]))
    return counts


def schemathesis_command(schema: Path, base: str, args: argparse.Namespace) -> list[str]:
    st = Path(sys.executable).with_name("st")
    return [
        str(st),
        "run",
        str(schema),
        "--url",
        base,
        "--header",
        f"Authorization: Bearer {ADMIN_TOKEN}",
        "--max-examples",
        str(args.max_examples),
        "--workers",
        str(args.workers),
        "--suppress-health-check",
        "filter_too_much,too_slow",
        "--request-timeout",
        "60",
        "--continue-on-failure",
        "--no-color",
        "--output-sanitize",
        "false",  # parameters named *token* (input_tokens) would print as [Filtered]
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=1200, help="per operation and phase")
    parser.add_argument("--workers", type=int, default=4, help="schemathesis workers")
    parser.add_argument("--log", type=Path, help="write schemathesis' output here too")
    parser.add_argument("--server-log", type=Path, help="keep the server's log here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="capplan-fuzz-") as tmp:
        data_dir = Path(tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server_log = data_dir / "server.log"
        extra = {
            "CAPPLAN_ADMIN_TOKEN": ADMIN_TOKEN,
            "HF_ENDPOINT": CLOSED_HUB,
            "CAPPLAN_IMPORTER_ENABLED": "true",
            "CAPPLAN_LOG_FORMAT": "text",
        }
        with running_server(port, data_dir, server_log, extra) as process:
            asyncio.run(wait_ready(base, process, timeout_s=120))
            schema = data_dir / "openapi.json"
            schema.write_text(httpx.get(f"{base}/schema/openapi.json", timeout=60).text)
            started = time.perf_counter()
            run = subprocess.run(  # noqa: S603 - schemathesis of this environment, fixed args
                schemathesis_command(schema, base, args),
                cwd=REPO_ROOT,  # schemathesis.toml is read from here
                capture_output=True,
                text=True,
                check=False,
            )
            wall_s = time.perf_counter() - started
            metrics = httpx.get(f"{base}/metrics", timeout=30).text
        log_text = server_log.read_text(errors="replace")
        if args.server_log:
            args.server_log.write_text(log_text)
        errors = [line for line in log_text.splitlines() if "unhandled error" in line]

    output = run.stdout + run.stderr
    if args.log:
        args.log.write_text(output)
    print(output[-6000:])
    answers = server_answers(metrics)
    fivexx = {key: n for key, n in answers.items() if key[2] >= 500}
    cases = sum(int(n) for n in CASES.findall(output))
    print(
        f"fuzz: {cases} schemathesis cases, {sum(answers.values())} requests answered by the "
        f"server, {sum(fivexx.values())} 5xx, in {wall_s:.0f} s "
        f"(schemathesis exit {run.returncode})"
    )
    for (method, route, status), n in sorted(fivexx.items()):
        print(f"  {status} x{n}: {method} {route}")
    for line in errors:
        print(f"  server log: {line}")
    return 1 if fivexx or run.returncode != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
