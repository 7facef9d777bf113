"""What a gate run found: one struct, rendered by every output format.

Bytes are integers, per GPU; times are milliseconds. ``verdict`` is ``fail`` when any check
failed; warnings never fail the gate.
"""

from __future__ import annotations

import enum
from typing import Any, Literal

import msgspec

from service.domain.capacity import MemoryBudget


class Status(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - a check status, not a password
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"


class Check(msgspec.Struct, frozen=True, kw_only=True):
    """One named question (``fits``, ``concurrency``, ``slo``) and its answer."""

    name: str
    status: Status
    summary: str


class Suggestion(msgspec.Struct, frozen=True, kw_only=True):
    """A change that was re-checked and makes the failing check (``fixes``) pass.

    ``settings`` holds the changed manifest fields; ``extra_cost_per_hour`` is the added
    GPU cost in USD (0 for configuration-only changes, ``None`` when a price is unknown).
    """

    kind: str
    fixes: str
    change: str
    outcome: str
    settings: dict[str, Any]
    max_batch: int
    gpu_count: int
    extra_cost_per_hour: float | None


class Setup(msgspec.Struct, frozen=True, kw_only=True):
    """The deployment as checked, with ``auto`` precisions resolved; ``expert_parallel``:
    experts spread whole over the ``tensor_parallel`` GPUs (EP degree = TP)."""

    model: str
    gpu: str
    gpu_name: str
    gpu_count: int
    tensor_parallel: int
    pipeline_parallel: int
    replicas: int
    expert_parallel: bool = False
    attention_data_parallel: bool = False
    max_model_len: int
    max_num_seqs: int | None
    gpu_memory_utilization: float
    weight_dtype: str
    kv_cache_dtype: str


class LatencyOut(msgspec.Struct, frozen=True, kw_only=True):
    batch_per_replica: int
    input_tokens: int
    output_tokens: int
    ttft_ms: float
    tpot_ms: float
    e2e_ms: float
    slo_ttft_ms: float | None
    slo_tpot_ms: float | None
    burst_ttft_ms: float | None = None
    slo_burst: bool = False


class Report(msgspec.Struct, frozen=True, kw_only=True):
    """The whole answer. ``margin_bytes`` is KV cache left after the sequences required
    (one, or ``max_num_seqs`` with ``require_full_concurrency``); negative means short."""

    verdict: Literal["pass", "fail"]
    source: str
    backend: str
    engine: str
    setup: Setup
    checks: list[Check]
    memory: MemoryBudget
    max_batch: int
    max_context_for_batch_1: int
    sequence_kv_bytes: int
    margin_bytes: int
    short_bytes: int
    latency: LatencyOut | None
    suggestions: list[Suggestion]
    ignored_arguments: list[str]
    warnings: list[str] = msgspec.field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 0 if self.verdict == "pass" else 1


class ErrorReport(msgspec.Struct, frozen=True, kw_only=True):
    """Why the gate could not check (exit 2): bad input or an unusable backend."""

    verdict: Literal["error"] = "error"
    source: str
    field: str | None
    message: str

    @property
    def exit_code(self) -> int:
        return 2

    def __str__(self) -> str:
        if self.field is None:
            return f"{self.source}: {self.message}"
        where = self.field if self.field.startswith("-") else f"field '{self.field}'"
        return f"{self.source}: {where}: {self.message}"
