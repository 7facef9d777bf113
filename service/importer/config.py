"""How the import worker behaves: its identity, lease, polling and retry backoff."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass

from service.importer.heartbeat import beat_interval_s
from service.settings import Settings


def default_worker_id() -> str:
    """``host:pid:random``: unique per process, readable in ``lease_owner``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """Tuning of one worker; :meth:`from_settings` reads the ``CAPPLAN_IMPORTER_*`` values.

    ``heartbeat_interval_s``: seconds between the heartbeats :meth:`ImportWorker.run` records,
    a third of ``CAPPLAN_IMPORTER_HEARTBEAT_STALE_S``.
    """

    owner: str
    lease_s: float = 300.0
    poll_interval_s: float = 2.0
    backoff_s: float = 5.0
    backoff_max_s: float = 600.0
    max_attempts: int = 5
    heartbeat_interval_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerConfig:
        return cls(
            owner=settings.importer_worker_id or default_worker_id(),
            lease_s=settings.importer_lease_s,
            poll_interval_s=settings.importer_poll_interval_s,
            backoff_s=settings.importer_backoff_s,
            backoff_max_s=settings.importer_backoff_max_s,
            max_attempts=settings.importer_max_attempts,
            heartbeat_interval_s=beat_interval_s(settings.importer_heartbeat_stale_s),
        )

    def retry_delay(self, attempt: int, retry_after_s: float | None) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based).

        The Hub's ``Retry-After`` when it sent one, else ``backoff_s · 2^(attempt-1)``
        capped at ``backoff_max_s``.
        """
        if retry_after_s is not None:
            return max(0.0, retry_after_s)
        return float(min(self.backoff_max_s, self.backoff_s * 2 ** max(0, attempt - 1)))
