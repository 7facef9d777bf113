"""Protection against expensive or abusive requests: body size and rate limit.

* Bodies over ``CAPPLAN_MAX_BODY_BYTES`` (1 MiB) are refused with 413 by Litestar itself
  (``request_max_body_size``), as problem+json like every error.
* The computing endpoints share a per-client budget of ``CAPPLAN_RATE_LIMIT_PER_MINUTE``
  requests a minute (0 = off); past it they answer 429 with ``Retry-After``. The client is
  the peer address (uvicorn rewrites it from ``X-Forwarded-For`` sent by trusted proxies,
  ``FORWARDED_ALLOW_IPS``). Budgets live in the process: each replica counts its own.
* Config size is bounded where configs are read: the domain refuses more than
  :data:`service.domain.hf_config.MAX_LAYERS` layers (a 400 naming the field).
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware
from litestar.types import Receive, Scope, Send

from service.settings import Settings

COMPUTE_ROUTES = frozenset({"/v1/plan", "/v1/max-batch", "/v1/latency", "/v1/inspect"})
#: More than any released model (Llama 3.1 405B has 126); a bound on per-layer work.


class RetryAfterRateLimit(RateLimitMiddleware):
    """Litestar's limiter, whose 429 also says how long to wait (``Retry-After``)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except TooManyRequestsException as exc:
            headers = dict(exc.headers or {})
            reset = headers.get(self.config.rate_limit_reset_header_key, "")
            wait = max(1, int(reset)) if reset.isdigit() else 60
            headers["Retry-After"] = str(wait)
            raise TooManyRequestsException(
                detail=(
                    f"rate limit of {self.max_requests} computing requests per minute "
                    f"reached; retry in {wait} s"
                ),
                headers=headers,
            ) from None


def _is_computing(request: Request[Any, Any, Any]) -> bool:
    return request.method == "POST" and request.scope.get("path_template") in COMPUTE_ROUTES


def rate_limit(settings: Settings) -> list[DefineMiddleware]:
    """The limiter of the computing endpoints, or nothing when the limit is 0."""
    if settings.rate_limit_per_minute <= 0:
        return []
    config = RateLimitConfig(
        rate_limit=("minute", settings.rate_limit_per_minute),
        check_throttle_handler=_is_computing,
        middleware_class=RetryAfterRateLimit,
    )
    return [config.middleware]
