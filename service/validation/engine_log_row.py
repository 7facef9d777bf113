"""One ``engine_memory_logs.json`` start-up log against capplan: the report row.

Each error is signed, predicted / measured − 1 in %, and ``None`` where the log or the
prediction lacks the figure; :mod:`service.validation.engine_log_check` fills the row,
:mod:`service.validation.engine_log_report` summarises the rows.
"""

from __future__ import annotations

import msgspec


class EngineLogCheck(msgspec.Struct, frozen=True, kw_only=True):
    """One start-up log against capplan: signed errors (predicted / measured − 1, in %) of
    the weights, the KV-cache memory and the KV-cache tokens, where the log has them.

    ``status`` is ``checked``, ``weights only: <what the log does not state>``,
    ``allocator only: <why>`` (the budget cannot be predicted, but the log's KV memory laid
    out by the allocator is checked against its tokens: ``allocator_kv_tokens``), or
    ``not modelled: <why>``; ``inputs_from_log`` names measured figures used as inputs.
    """

    id: str
    engine: str
    model: str
    gpu: str
    tensor_parallel: int
    status: str
    inputs_from_log: str = ""
    predicted_weights_gib: float | None = None
    measured_weights_gib: float | None = None
    predicted_kv_gib: float | None = None
    measured_kv_gib: float | None = None
    predicted_kv_tokens: int | None = None
    measured_kv_tokens: int | None = None
    predicted_cudagraph_gib: float | None = None
    measured_cudagraph_gib: float | None = None
    predicted_max_concurrency: float | None = None
    measured_max_concurrency: float | None = None
    allocator_kv_tokens: int | None = None

    @property
    def modelled(self) -> bool:
        return not self.status.startswith("not modelled")

    @property
    def weights_error_pct(self) -> float | None:
        return _error(self.predicted_weights_gib, self.measured_weights_gib)

    @property
    def kv_memory_error_pct(self) -> float | None:
        """None when the log's KV memory is not positive (the start-up failed)."""
        if self.measured_kv_gib is not None and self.measured_kv_gib <= 0:
            return None
        return _error(self.predicted_kv_gib, self.measured_kv_gib)

    @property
    def kv_tokens_error_pct(self) -> float | None:
        return _error(self.predicted_kv_tokens, self.measured_kv_tokens)

    @property
    def allocator_tokens_error_pct(self) -> float | None:
        """Tokens the allocator makes of the log's own KV memory against the logged tokens."""
        return _error(self.allocator_kv_tokens, self.measured_kv_tokens)

    @property
    def max_concurrency_error_pct(self) -> float | None:
        """vLLM's "Maximum concurrency for N tokens per request: x" (the allocator's pages
        per request, sliding-window groups included) against the prediction."""
        return _error(self.predicted_max_concurrency, self.measured_max_concurrency)

    @property
    def cudagraph_error_pct(self) -> float | None:
        """vLLM's "Estimated CUDA graph memory" line against the per-layer estimate."""
        return _error(self.predicted_cudagraph_gib, self.measured_cudagraph_gib)


def _error(predicted: float | None, measured: float | None) -> float | None:
    if predicted is None or measured is None or measured == 0:
        return None
    return (predicted / measured - 1) * 100
