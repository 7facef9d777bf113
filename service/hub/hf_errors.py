"""Translate ``huggingface_hub`` and ``httpx2`` exceptions into :mod:`service.hub.errors`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx2
from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
    SafetensorsParsingError,
)

# The ``huggingface_hub.utils`` facade is lazy, so mypy sees no exports there.
from huggingface_hub.utils._http import parse_ratelimit_headers

from service.hub.errors import (
    GatedRepo,
    HubError,
    RepoNotFound,
    RevisionNotFound,
    TransientHubError,
)

_TRANSIENT_STATUS = frozenset({408, 425, 429})


@contextmanager
def hub_errors(subject: str, revision: str | None = None) -> Iterator[None]:
    """Re-raise what the Hub library throws as a :class:`HubError` about ``subject``."""
    try:
        yield
    except HubError:
        raise
    except GatedRepoError as exc:  # a RepositoryNotFoundError subclass: it must come first
        raise GatedRepo(subject) from exc
    except RepositoryNotFoundError as exc:
        raise RepoNotFound(subject) from exc
    except RevisionNotFoundError as exc:
        raise RevisionNotFound(subject, revision) from exc
    except DisabledRepoError as exc:
        raise HubError(f"{subject}: access to this repository is disabled on the Hub") from exc
    except HfHubHTTPError as exc:
        raise from_response(subject, exc) from exc
    except httpx2.TimeoutException as exc:
        raise TransientHubError(f"{subject}: the Hub did not answer in time") from exc
    except httpx2.TransportError as exc:
        raise TransientHubError(f"{subject}: cannot reach the Hub ({exc})") from exc
    except OfflineModeIsEnabled as exc:
        raise HubError("HF_HUB_OFFLINE is set: unset it to reach the Hub") from exc
    except HFValidationError as exc:
        raise RepoNotFound(subject, f"not a valid repository id ({exc})") from exc
    except SafetensorsParsingError as exc:
        raise HubError(f"{subject}: unreadable safetensors header ({exc})") from exc


def from_response(subject: str, exc: HfHubHTTPError) -> HubError:
    """The error for an HTTP status the Hub gave no specific error code for."""
    status = exc.response.status_code
    if status in _TRANSIENT_STATUS or status >= 500:
        retry_after = retry_after_seconds(exc.response.headers)
        hint = f", retry in {retry_after:g}s" if retry_after is not None else ""
        return TransientHubError(f"{subject}: the Hub answered {status}{hint}", retry_after)
    if status == 401:
        return HubError(f"{subject}: the Hub rejected HF_TOKEN (401): check the token")
    detail = f": {exc.server_message}" if exc.server_message else ""
    return HubError(f"{subject}: the Hub answered {status}{detail}")


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait from an exhausted ``RateLimit`` header, else from ``Retry-After``.

    ``Retry-After`` may be delay-seconds or an HTTP-date (RFC 9110 §10.2.3); anything
    unparseable gives None.
    """
    ratelimit = parse_ratelimit_headers(headers)
    if ratelimit is not None and ratelimit.remaining == 0:
        return float(ratelimit.reset_in_seconds)
    value = next((v.strip() for k, v in headers.items() if k.lower() == "retry-after"), "")
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
