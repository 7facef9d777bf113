"""Where the gate gets its numbers: the bundled catalog in-process, or a capplan server.

Both speak the API's own request and response bodies, so an offline run and a ``--url``
run go through the same verdict code and can only differ if their catalogs differ.
"""

from __future__ import annotations

from typing import Protocol

from service.contract.schemas import (
    LatencyRequest,
    LatencyResponse,
    MaxBatchRequest,
    MaxBatchResponse,
    ModelRef,
    PlanRequest,
    PlanResponse,
)
from service.domain.architecture import Architecture
from service.domain.gpu import GpuSpec


class Rejected(ValueError):
    """The backend refused the input: unknown model or GPU, malformed or unsupported config."""


class Unavailable(RuntimeError):
    """The backend could not answer: server unreachable, server error, invalid catalog."""


class Backend(Protocol):
    """What the gate asks; every method may raise :class:`Rejected` or :class:`Unavailable`."""

    @property
    def label(self) -> str:
        """``offline`` or the server's URL, for the report."""
        ...

    def architecture(self, model: ModelRef) -> Architecture: ...

    def gpu(self, gpu_id: str) -> GpuSpec: ...

    def max_batch(self, request: MaxBatchRequest) -> MaxBatchResponse: ...

    def latency(self, request: LatencyRequest) -> LatencyResponse: ...

    def plan(self, request: PlanRequest) -> PlanResponse: ...

    def model_ids(self) -> list[str]:
        """Every catalog model id (for suggestions when a name is not found)."""
        ...

    def gpu_names(self) -> list[tuple[str, str]]:
        """Every catalog GPU as ``(id, display name)``."""
        ...

    def model_aliases(self) -> dict[str, str]:
        """Every alias a catalog model lists -> that model's id."""
        ...
