"""What a deployment costs: its GPUs at the GPU's hourly price, per hour and per million
generated tokens at the rate it delivers them.

One rule for every arrangement the planner reports: the aggregated configuration (all its
replicas) and the disaggregated prefill and decode pools are priced alike, from their own GPU
count and the output tokens per second they serve.
"""

from __future__ import annotations

from typing import NamedTuple

SECONDS_PER_HOUR = 3600
TOKENS_PER_MILLION = 1e6


class Cost(NamedTuple):
    """USD per hour for the GPUs, and per million output tokens; both None without a price."""

    per_hour_usd: float | None
    per_million_output_tokens_usd: float | None


def deployment_cost(
    price_per_gpu_hour_usd: float | None, gpu_count: int, output_tokens_per_s: float
) -> Cost:
    """``price × gpu_count`` per hour, and that over ``output_tokens_per_s × 3600`` tokens,
    per million; no price (None) is no cost figure, a price of 0 (owned hardware) costs 0."""
    if price_per_gpu_hour_usd is None:
        return Cost(None, None)
    per_hour = price_per_gpu_hour_usd * gpu_count
    if output_tokens_per_s <= 0:
        return Cost(per_hour, None)
    per_token = per_hour / (output_tokens_per_s * SECONDS_PER_HOUR)
    return Cost(per_hour, per_token * TOKENS_PER_MILLION)
