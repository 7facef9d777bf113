"""Computing requests run off the event loop, in a bounded worker pool with a deadline.

A plan over the whole catalog is pure-Python arithmetic for up to seconds; on the event loop
it froze every other request (``/health`` stalled 7 s under four at once). Here:

* ``CAPPLAN_COMPUTE_WORKERS`` worker *processes* compute (``CAPPLAN_COMPUTE_POOL=thread``
  for threads; ``inline`` computes on the event loop, as before, for ``bench/abuse.py``).
  Threads would share the GIL with the event loop: with two busy ones,
  ``/health`` p99 measured 180 ms; separate processes, niced, leave the loop its own CPU time.
* At most ``CAPPLAN_COMPUTE_QUEUE`` more requests wait for a worker; past that the request
  is refused at once: 503 with ``Retry-After``.
* A request not answered within ``CAPPLAN_COMPUTE_DEADLINE_S`` is answered 503 with
  ``Retry-After``. A running computation cannot be interrupted: it finishes in the background
  and keeps its slot until then, so the pool stays bounded however many requests time out.
* Workers end with the server, however it ends. A worker blocks on its task queue, whose
  write end it holds itself, so a server killed with SIGKILL (or by the OOM killer) used to
  leave its workers, and the forkserver they keep alive, running for good: each worker now
  watches the server's process (:func:`_exit_with`) and exits when it does.

Errors raised in a worker come back as the same exception type with the same attributes
(:func:`_call` wraps them, since keyword-only constructors do not survive pickling), with the
worker's traceback as ``__cause__``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import multiprocessing
import os
import select
import threading
import time
import traceback
from collections.abc import AsyncIterator, Callable
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar, cast

from litestar import Litestar, Request

from service.api.problems import Problem
from service.settings import Settings

P = ParamSpec("P")
T = TypeVar("T")
#: Niceness of worker processes: the event loop process wins the CPU when both want it.
WORKER_NICENESS = 10
logger = logging.getLogger("capplan.compute")


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process."""


class _Failure:
    """An exception raised in a worker, in a form that pickles whatever its constructor."""

    def __init__(self, exc: BaseException) -> None:
        self.type = type(exc)
        self.args = exc.args
        self.state = dict(getattr(exc, "__dict__", {}))
        self.trace = "".join(traceback.format_exception(exc))

    def rebuild(self) -> BaseException:
        exc = self.type.__new__(self.type)
        BaseException.__init__(exc, *self.args)
        exc.__dict__.update(self.state)
        exc.__cause__ = RemoteTraceback(self.trace)
        return exc


def _call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run in the worker: the result, or the exception as a :class:`_Failure`."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        return _Failure(exc)


#: How often a worker without ``os.pidfd_open`` (not Linux) checks that its server lives.
SERVER_POLL_S = 1.0


def _start_worker(server_pid: int) -> None:
    """A worker's initializer: lower its priority and tie its life to the server's."""
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    _exit_with(server_pid)


def _exit_with(pid: int) -> None:
    """End this process when process ``pid`` ends, from a daemon thread.

    On Linux the thread blocks on a pidfd of ``pid`` (readable once it has exited,
    ``pidfd_open(2)``); elsewhere it checks every :data:`SERVER_POLL_S` seconds.
    """
    pidfd_open = getattr(os, "pidfd_open", None)
    try:
        pidfd = None if pidfd_open is None else pidfd_open(pid)
    except OSError:  # already gone, or a kernel before 5.3
        pidfd = None
    if pidfd is None and not _alive(pid):
        os._exit(0)
    target = _poll_until_gone if pidfd is None else _wait_until_readable
    argument = pid if pidfd is None else pidfd
    threading.Thread(
        target=target, args=(argument,), name="capplan-server-watch", daemon=True
    ).start()


def _wait_until_readable(pidfd: int) -> None:
    select.select([pidfd], [], [])
    os._exit(0)


def _poll_until_gone(pid: int) -> None:
    while _alive(pid):
        time.sleep(SERVER_POLL_S)
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class ComputePool:
    """A fixed number of workers, a bounded wait, and a deadline per request."""

    def __init__(
        self, workers: int, queue: int, deadline_s: float, *, processes: bool = False
    ) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self.deadline_s = deadline_s
        self.admitted = 0  # running or waiting, including computations past their deadline
        self._processes = processes
        self._executor = self._new_executor()
        self.inline = False  # True: compute on the event loop (bench/abuse.py's "before")

    def _new_executor(self) -> Executor:
        if not self._processes:
            return ThreadPoolExecutor(self.workers, thread_name_prefix="capplan-compute")
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["service.planning.answers", "service.api.compute"])
        return ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),)
        )

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` in a worker; 503 when the pool is full or past the deadline."""
        if self.admitted >= self.capacity:
            raise Problem(
                503,
                f"all {self.workers} compute workers are busy and {self.capacity - self.workers} "
                "requests wait already; retry shortly",
                headers={"Retry-After": str(self._retry_after_s())},
            )
        if self.inline:
            return fn(*args, **kwargs)
        loop = asyncio.get_running_loop()
        try:
            future = self._executor.submit(_call, fn, args, kwargs)
        except BrokenExecutor:
            self._replace_broken()
            future = self._executor.submit(_call, fn, args, kwargs)
        self.admitted += 1
        future.add_done_callback(lambda _: loop.call_soon_threadsafe(self._release))
        try:
            result = await asyncio.wait_for(asyncio.wrap_future(future), self.deadline_s)
        except BrokenExecutor:
            # A worker died (killed, out of memory): start a fresh pool for the next requests.
            logger.error("a compute worker died; starting a new pool", exc_info=True)
            self._replace_broken()
            raise Problem(
                503,
                "a compute worker stopped unexpectedly; retry shortly",
                headers={"Retry-After": str(self._retry_after_s())},
            ) from None
        except TimeoutError:
            future.cancel()  # only takes effect if it has not started yet
            raise Problem(
                503,
                f"the computation did not finish within {self.deadline_s:g} s "
                "(CAPPLAN_COMPUTE_DEADLINE_S); the server is busy, retry shortly",
                headers={"Retry-After": str(self._retry_after_s())},
            ) from None
        if isinstance(result, _Failure):
            raise result.rebuild()
        return cast("T", result)

    def warm(self) -> None:
        """Start the workers now (in the background), not on the first request."""
        for _ in range(self.workers):
            self._executor.submit(int)

    def close(self) -> None:
        """Stop accepting work; computations still running are left to finish."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _replace_broken(self) -> None:
        broken, self._executor = self._executor, self._new_executor()
        broken.shutdown(wait=False, cancel_futures=True)

    def _release(self) -> None:
        self.admitted -= 1

    def _retry_after_s(self) -> int:
        return max(1, math.ceil(self.deadline_s))


def compute_pool(
    settings: Settings,
) -> Callable[[Litestar], contextlib.AbstractAsyncContextManager[None]]:
    """A lifespan entry that puts a :class:`ComputePool` on ``app.state.compute_pool``."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = ComputePool(
            settings.compute_workers,
            settings.compute_queue,
            settings.compute_deadline_s,
            processes=settings.compute_pool == "process",
        )
        pool.inline = settings.compute_pool == "inline"
        app.state.compute_pool = pool
        if settings.compute_pool == "process":
            pool.warm()
        try:
            yield
        finally:
            pool.close()

    return lifespan


def provide_compute_pool(request: Request[Any, Any, Any]) -> ComputePool:
    pool: ComputePool = request.app.state.compute_pool
    return pool
