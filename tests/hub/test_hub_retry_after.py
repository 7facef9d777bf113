"""retry_after_seconds: how long a 429/503 asks the caller to wait."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.hub.hf_errors import retry_after_seconds

NOW = datetime(2025, 10, 21, 7, 28, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({}, None, id="none"),
        pytest.param({"Retry-After": "120"}, 120.0, id="delay-seconds"),
        pytest.param({"retry-after": " 3 "}, 3.0, id="lower-case-padded"),
        pytest.param({"Retry-After": "Tue, 21 Oct 2025 07:28:30 GMT"}, 30.0, id="http-date"),
        pytest.param({"Retry-After": "Tue, 21 Oct 2025 07:27:00 GMT"}, 0.0, id="date-in-past"),
        pytest.param({"Retry-After": "soon"}, None, id="garbage"),
        pytest.param({"RateLimit": '"api";r=0;t=55'}, 55.0, id="ratelimit-exhausted"),
        pytest.param(
            {"RateLimit": '"api";r=3;t=55', "Retry-After": "2"}, 2.0, id="ratelimit-not-exhausted"
        ),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    """Retry-After (seconds or HTTP-date) or an exhausted RateLimit header gives the wait."""
    assert retry_after_seconds(headers, now=NOW) == expected
