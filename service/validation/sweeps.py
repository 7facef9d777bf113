"""What a serving sweep's row says about how its benchmark ran: the lengths its client sent and
the server flags it was started with (``latency.json`` fields beside the published value)."""

from __future__ import annotations

from typing import Any

SERVER_FLAGS = frozenset(
    {
        "gpu_memory_utilization",
        "mem_fraction_static",
        "kv_cache_free_gpu_mem_fraction",
        "max_num_seqs",
        "max_model_len",
        "max_num_batched_tokens",
        "enforce_eager",
        "scheduler_recv_interval",
    }
)
"""Server flags a serving sweep may state (``"server"``), as :class:`Deployment` fields:
vLLM ``--gpu-memory-utilization`` / ``--max-num-seqs`` / ``--max-model-len`` /
``--max-num-batched-tokens`` / ``--enforce-eager``, SGLang ``--mem-fraction-static`` /
``--max-running-requests`` / ``--context-length`` / ``--chunked-prefill-size`` /
``--scheduler-recv-interval``."""


def server_flags(point: dict[str, Any]) -> dict[str, Any]:
    """A row's ``"server"`` flags (a copy); a flag outside :data:`SERVER_FLAGS` is an error
    naming the row and the flag, never ignored."""
    server = dict(point.get("server") or {})
    unknown = sorted(set(server) - SERVER_FLAGS)
    if unknown:
        raise ValueError(
            f"latency.json entry {point.get('id')!r}: field 'server' has unknown flags "
            f"{unknown} (known: {sorted(SERVER_FLAGS)})"
        )
    return server


def sent_lengths(point: dict[str, Any]) -> tuple[int, int]:
    """The mean prompt and output lengths a serving sweep's client sent: its printed totals
    over its completed requests where the row keeps them (``total_input_tokens``,
    ``total_output_tokens``, ``completed_requests``); else, for a stated
    ``random_range_ratio`` ``r``, lengths uniform in ``[r·L, L]`` (``sglang.bench_serving``
    and InferenceX's ``benchmark_serving.py``), mean ``(1 + r)/2·L``; else the nominal
    ``isl``/``osl``. The steady state is priced at these means; the replay spreads the
    nominal lengths itself."""
    isl, osl = int(point["isl"]), int(point["osl"])
    requests = int(point.get("completed_requests", 0))
    if requests > 0 and "total_input_tokens" in point and "total_output_tokens" in point:
        return (
            max(1, round(int(point["total_input_tokens"]) / requests)),
            max(1, round(int(point["total_output_tokens"]) / requests)),
        )
    if "random_range_ratio" in point:
        share = (1 + float(point["random_range_ratio"])) / 2
        return max(1, round(share * isl)), max(1, round(share * osl))
    return isl, osl
