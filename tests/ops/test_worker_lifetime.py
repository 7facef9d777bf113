"""Compute workers end with their server, however the server ends."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.process]

#: Holds a process pool of two workers; prints the workers' and their forkserver's pids.
POOL_HOLDER = """
import asyncio, os, sys
from service.api.compute_pool import ComputePool

async def main() -> None:
    pool = ComputePool(2, 1, 60.0, processes=True)
    pids = await asyncio.gather(pool.run(os.getpid), pool.run(os.getpid), pool.run(os.getppid))
    print(*sorted(set(pids)), flush=True)
    sys.stdin.read()

asyncio.run(main())
"""
EXIT_TIMEOUT_S = 15.0


def ended_within(pid: int, timeout_s: float) -> bool:
    """Whether process ``pid`` ends within ``timeout_s`` (a pidfd is readable once it has)."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([pidfd], [], [], timeout_s)
    finally:
        os.close(pidfd)
    return bool(readable)


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="waits on pidfds (Linux 5.3+)")
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_workers_and_their_forkserver_end_with_the_server(stop: signal.Signals) -> None:
    """Ending the process that holds a compute pool ends its workers and their forkserver."""
    holder = subprocess.Popen(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", POOL_HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert holder.stdout is not None
    started = time.monotonic()
    pids = [int(pid) for pid in holder.stdout.readline().split()]
    assert pids, "the pool holder printed no worker pids"
    assert holder.pid not in pids
    holder.send_signal(stop)
    holder.wait()
    holder.stdout.close()
    assert holder.stdin is not None
    holder.stdin.close()
    survivors = [pid for pid in pids if not ended_within(pid, EXIT_TIMEOUT_S)]
    assert survivors == [], f"outlived their server by {time.monotonic() - started:.0f} s"
