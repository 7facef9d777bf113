"""The import worker: lease a due job, import it, settle the job; one job at a time.

Each import runs in one transaction with the job's completion, so a failure writes nothing
to the catalog. Permanent failures (missing repo, gated, no or broken config.json,
unsupported architecture, operator-owned row) fail the job; transient Hub failures and
unexpected errors are retried with backoff until ``max_attempts``.

Tests drive it with :meth:`ImportWorker.run_once` / :meth:`ImportWorker.drain` and a fake
clock; the service runs :meth:`ImportWorker.run` in its lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.model_repository import ModelRepository
from service.db.models import ImportJobRow, JobStatus
from service.db.types import utcnow
from service.hub.client import HubClient
from service.hub.errors import HubError, TransientHubError
from service.importer.claim import claim_next
from service.importer.config import WorkerConfig
from service.importer.errors import ImportFailed, LeaseLost
from service.importer.heartbeat import beat_until
from service.importer.model_import import ImportResult, import_model
from service.importer.queue import JobQueue

logger = logging.getLogger("capplan.importer")

FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED)


class Processed(NamedTuple):
    """A job after one attempt (succeeded, failed, or queued again) and what it imported."""

    job: ImportJobRow
    result: ImportResult | None


class ImportWorker:
    """Runs import jobs from ``import_jobs`` against ``hub``."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        hub: HubClient,
        config: WorkerConfig,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.hub = hub
        self.config = config
        self.clock = clock

    async def run_once(self, job_id: str | None = None) -> Processed | None:
        """Claim and run the next due job (or job ``job_id``); None when nothing is due."""
        async with self.sessionmaker.begin() as session:
            job = await claim_next(
                session,
                self.config.owner,
                lease_s=self.config.lease_s,
                now=self.clock(),
                job_id=job_id,
            )
        if job is None:
            return None
        return await self._process(job)

    async def drain(self, max_jobs: int = 1000) -> list[Processed]:
        """Run due jobs until none is left (or ``max_jobs`` ran)."""
        done: list[Processed] = []
        while len(done) < max_jobs and (processed := await self.run_once()) is not None:
            done.append(processed)
        return done

    async def run(self, stop: asyncio.Event) -> None:
        """Run jobs until ``stop`` is set, polling every ``poll_interval_s`` when idle.

        Meanwhile it records a heartbeat every ``heartbeat_interval_s`` (also during a long
        import), so that replicas without a worker accept imports; it removes it on the way
        out. Cancelling it mid-import hands the job back (see :meth:`_process`).
        """
        logger.info("import worker %s started", self.config.owner)
        stopped = asyncio.Event()
        heartbeat = asyncio.create_task(
            beat_until(
                self.sessionmaker,
                self.config.owner,
                interval_s=self.config.heartbeat_interval_s,
                stop=stopped,
                clock=self.clock,
            ),
            name="hub-import-heartbeat",
        )
        try:
            await self._poll(stop)
        finally:
            stopped.set()
            await heartbeat
        logger.info("import worker %s stopped", self.config.owner)

    async def _poll(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                processed = await self.run_once()
            except Exception:  # the database is down, say: log and poll again
                logger.exception("import worker: claiming a job failed")
                processed = None
            if processed is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.config.poll_interval_s)

    async def run_job(self, job_id: str) -> Processed:
        """Run job ``job_id`` here, retrying as its backoff allows, until it has finished.

        If another worker holds it, wait for that worker instead.
        """
        while True:
            processed = await self.run_once(job_id)
            if processed is not None and processed.job.status in FINISHED:
                return processed
            async with self.sessionmaker() as session:
                job = await JobQueue(session).get(job_id)
            if job is None:
                raise LookupError(f"import job {job_id} does not exist")
            if job.status in FINISHED:
                return Processed(job, None)
            due = job.next_attempt_at if job.status == JobStatus.QUEUED else job.lease_expires_at
            wait = (due - self.clock()).total_seconds() if due else 0.0
            await asyncio.sleep(min(max(wait, 0.05), self.config.poll_interval_s))

    async def _process(self, job: ImportJobRow) -> Processed:
        owner = self.config.owner
        logger.info("importing %s (job %s, attempt %d)", job.repo_id, job.id, job.attempts)
        try:
            async with self.sessionmaker.begin() as session:
                result = await import_model(
                    self.hub, ModelRepository(session), job.repo_id, job.revision
                )
                done = await JobQueue(session, self.clock).succeed(job.id, owner)
        except asyncio.CancelledError:
            await self._release(job)
            raise
        except LeaseLost:
            logger.warning("job %s: lease lost mid-import; its result was discarded", job.id)
            return Processed(job, None)
        except (HubError, ImportFailed) as exc:
            return Processed(await self._settle(job, exc), None)
        except Exception as exc:
            logger.exception("job %s: unexpected error importing %s", job.id, job.repo_id)
            return Processed(await self._settle(job, exc), None)
        logger.info("imported %s", result)
        return Processed(done, result)

    async def _settle(self, job: ImportJobRow, exc: Exception) -> ImportJobRow:
        """Fail the job, or queue it again after a backoff if the failure may pass."""
        permanent = isinstance(exc, ImportFailed) or (isinstance(exc, HubError) and exc.permanent)
        message = str(exc) if isinstance(exc, HubError | ImportFailed) else _internal(exc)
        retry_after = exc.retry_after_s if isinstance(exc, TransientHubError) else None
        try:
            async with self.sessionmaker.begin() as session:
                queue = JobQueue(session, self.clock)
                if permanent or job.attempts >= job.max_attempts:
                    if not permanent:
                        message = f"gave up after {job.attempts} attempts: {message}"
                    logger.warning("job %s failed: %s", job.id, message)
                    return await queue.fail(job.id, self.config.owner, message)
                delay = self.config.retry_delay(job.attempts, retry_after)
                logger.info("job %s: %s; retrying in %.0f s", job.id, message, delay)
                at = self.clock() + dt.timedelta(seconds=delay)
                return await queue.retry(job.id, self.config.owner, message, at)
        except LeaseLost:
            logger.warning("job %s: lease lost before its failure was recorded", job.id)
            return job

    async def _release(self, job: ImportJobRow) -> None:
        """Hand an interrupted job back so that another worker can take it now."""
        try:
            async with self.sessionmaker.begin() as session:
                await JobQueue(session, self.clock).release(job.id, self.config.owner)
            logger.info("job %s released at shutdown", job.id)
        except Exception:  # its lease will expire instead
            logger.exception("job %s: could not release its lease", job.id)


def _internal(exc: Exception) -> str:
    return f"internal error: {type(exc).__name__}: {exc}"
