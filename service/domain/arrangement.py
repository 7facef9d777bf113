"""Which arrangement a plan configuration recommends, and that arrangement's figures.

A configuration is one layout served aggregated (every replica runs prompts and decodes)
and, with ``constraints.disaggregated`` and a request rate, also as separate prefill and
decode pools (:mod:`service.domain.disaggregation`). It recommends the pools exactly when
they beat aggregated serving (``beats_aggregated``); the ranking, and the answer's pruning
of dominated configurations, compare the recommended arrangement's :class:`Figures`.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from service.domain.disaggregation import Disaggregated

Arrangement = Literal["aggregated", "disaggregated"]


class Figures(NamedTuple):
    """What one arrangement needs and delivers (units as in the configuration's fields)."""

    gpu_count: int
    cost_per_hour: float | None
    cost_per_million_output_tokens: float | None
    ttft_ms: float
    tpot_ms: float
    e2e_ms: float
    output_tokens_per_s: float
    meets_slo: bool


def recommended(pools: Disaggregated | None) -> Arrangement:
    """``disaggregated`` exactly when the pools beat aggregated serving, else ``aggregated``."""
    return "disaggregated" if pools is not None and pools.beats_aggregated else "aggregated"


def pool_figures(pools: Disaggregated) -> Figures:
    """The disaggregated pools' own figures."""
    return Figures(
        gpu_count=pools.gpu_count,
        cost_per_hour=pools.cost_per_hour,
        cost_per_million_output_tokens=pools.cost_per_million_output_tokens,
        ttft_ms=pools.ttft_ms,
        tpot_ms=pools.tpot_ms,
        e2e_ms=pools.e2e_ms,
        output_tokens_per_s=pools.output_tokens_per_s,
        meets_slo=pools.meets_slo,
    )
