"""Protection against expensive or abusive requests: body size, search space, cost budget.

* Bodies over ``CAPPLAN_MAX_BODY_BYTES`` (1 MiB) are refused with 413 by Litestar itself
  (``request_max_body_size``), as problem+json like every error.
* A plan's search space (GPUs x weight dtypes x KV dtypes x ``max_gpus``, its *cells*) is
  checked before any work: past ``CAPPLAN_PLAN_MAX_SEARCH_CELLS`` it is 422 naming the limit.
  Config size is bounded where configs are read (at most
  :data:`service.domain.hf_config.MAX_LAYERS` layers, fields <= 2^24: a 400 naming the field).
* The computing endpoints share a per-client budget of ``CAPPLAN_RATE_LIMIT_PER_MINUTE``
  units a minute (0 = off), refilled continuously (a token bucket). A request spends what it
  costs: 1 unit, a plan one more per :data:`PLAN_CELLS_PER_UNIT` cells. Past the budget: 429
  with ``Retry-After``. The client is the peer address (uvicorn rewrites it from
  ``X-Forwarded-For`` sent by trusted proxies, ``FORWARDED_ALLOW_IPS``). Budgets live in the
  process: each replica counts its own.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from litestar import Request

from service.api.problems import Problem
from service.settings import Settings

#: Search cells per budget unit: 512 is about one ordinary plan over the whole catalog
#: (31 GPUs x max_gpus 16 x one weight and one KV dtype = 496 cells).
PLAN_CELLS_PER_UNIT = 512
#: Clients remembered at once; the least recently seen are forgotten first (a full bucket).
MAX_CLIENTS = 100_000
PLAN_LIMITS = (
    "Bounded before any work: cells = GPUs (named, else the catalog) x weight_dtypes x "
    "kv_cache_dtypes x max_gpus may be at most CAPPLAN_PLAN_MAX_SEARCH_CELLS (default 16384), "
    "else 422 naming the limit. Costs 1 + cells/512 units of the per-client rate limit "
    "(CAPPLAN_RATE_LIMIT_PER_MINUTE units a minute). Computed in a worker pool: past "
    "CAPPLAN_COMPUTE_DEADLINE_S, or with every worker busy, 503 with Retry-After."
)


def plan_cells(
    gpus: int, weight_dtypes: int, kv_dtypes: int, max_gpus: int, variants: int = 1
) -> int:
    """The size of a plan's search space, an upper bound on the layouts it evaluates;
    ``variants``: layouts tried per TP x PP (an MoE model's expert-parallel and attention-DP
    ones, :func:`service.planning.question.plan_variants`)."""
    return gpus * weight_dtypes * kv_dtypes * max_gpus * variants


def check_plan_cells(cells: int, settings: Settings) -> None:
    """422 naming the limit when the search space is larger than the service computes."""
    limit = settings.plan_max_search_cells
    if cells > limit:
        raise Problem(
            422,
            f"the search space has {cells} cells (GPUs x weight_dtypes x kv_cache_dtypes x "
            f"max_gpus, x 3 for an MoE model's expert-parallel layouts), more than the limit "
            f"of {limit} (CAPPLAN_PLAN_MAX_SEARCH_CELLS): name fewer constraints.gpus or "
            "dtypes, or lower constraints.max_gpus",
        )


def plan_cost(cells: int) -> float:
    """Budget units a plan spends: 1, plus one per :data:`PLAN_CELLS_PER_UNIT` cells."""
    return 1 + cells / PLAN_CELLS_PER_UNIT


class CostBudget:
    """Per-client token buckets of ``per_minute`` units, refilled at ``per_minute / 60`` a
    second; a cost above the whole budget is charged as the whole budget."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def charge(self, client: str, cost: float) -> float:
        """Spend ``cost`` units; 0 when granted, else the seconds until it would be."""
        if self.per_minute <= 0:
            return 0.0
        cost = min(cost, float(self.per_minute))
        rate_per_s = self.per_minute / 60
        now = self._clock()
        tokens, then = self._buckets.pop(client, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - then) * rate_per_s)
        wait_s = 0.0
        if tokens >= cost:
            tokens -= cost
        else:
            wait_s = (cost - tokens) / rate_per_s
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
        return wait_s


def charge(request: Request[Any, Any, Any], cost: float = 1.0) -> None:
    """Spend the request's cost from its client's budget, or 429 with ``Retry-After``."""
    budget: CostBudget = request.app.state.cost_budget
    client = request.client.host if request.client else "unknown"
    wait_s = budget.charge(client, cost)
    if wait_s > 0:
        retry = max(1, math.ceil(wait_s))
        raise Problem(
            429,
            f"rate limit of {budget.per_minute} computing units per minute reached (this "
            f"request costs {cost:.3g}); retry in {retry} s",
            headers={
                "Retry-After": str(retry),
                "RateLimit-Limit": str(budget.per_minute),
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(retry),
            },
        )


def cost_budget(settings: Settings) -> CostBudget:
    return CostBudget(settings.rate_limit_per_minute)
