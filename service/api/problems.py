"""RFC 9457 problem details: one struct, one set of handlers, documented on every route."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example

from service.planning.errors import (
    CatalogUnavailable,
    EngineSettingNotAccepted,
    InvalidField,
    InvalidModelConfig,
    NotInCatalog,
    PlanningError,
    UnknownEngineName,
    UnsupportedModel,
    quoted,
)

if TYPE_CHECKING:
    from service.planning.answers import LayoutProblem

PROBLEM_JSON = "application/problem+json"
ABOUT_BLANK = "about:blank"
logger = logging.getLogger("capplan.api")


class ProblemDetails(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An error response (RFC 9457). ``errors`` names the offending fields of a bad body."""

    type: Annotated[
        str, msgspec.Meta(description="about:blank: the status code says it all (RFC 9457)")
    ]  # always sent; ``about:blank``: the status code says it all (RFC 9457 §4.2.1)
    status: Annotated[int, msgspec.Meta(description="The HTTP status code")]
    title: Annotated[str, msgspec.Meta(description="The status code's phrase")]
    detail: Annotated[str, msgspec.Meta(description="What went wrong, for a person")] | None = None
    errors: (
        Annotated[
            list[dict[str, Any]],
            msgspec.Meta(description="The offending fields of a bad body: message, key, source"),
        ]
        | None
    ) = None
    # Unknown model or GPU (404): the nearest catalog ids, to retry with.
    suggestions: (
        Annotated[
            list[str],
            msgspec.Meta(
                description=(
                    "For an unknown model or GPU (404): the nearest catalog ids to retry with"
                )
            ),
        ]
        | None
    ) = None


class Problem(HTTPException):
    """An HTTP error with a human ``detail``; rendered as problem+json."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=headers, extra=errors)


def layout_problem_400(problem: LayoutProblem) -> Problem:
    """:func:`~service.planning.answers.layout_problem`'s refusal as a 400 naming its field."""
    error = {"message": problem.message, "key": problem.field, "source": "body"}
    return Problem(400, problem.message, errors=[error])


def problem(description: str, status: int, **example: Any) -> ResponseSpec:
    """A documented problem+json response; its example has ``status`` and ``example``'s
    fields (``detail`` defaults to ``description``)."""
    value = {"type": ABOUT_BLANK, "status": status, "title": HTTPStatus(status).phrase}
    value |= {"detail": description} | example
    return ResponseSpec(
        data_container=ProblemDetails,
        media_type=PROBLEM_JSON,
        description=description,
        generate_examples=False,
        examples=[Example(summary=description, value=value)],
    )


_BAD_FIELD = {"message": "Expected `int` >= 1", "key": "context_length", "source": "body"}
UNAVAILABLE = problem(
    "The database is unreachable; retry after Retry-After seconds",
    503,
    detail="the GPU catalog is unavailable (h100-sxm)",
)
READ_PROBLEMS = {
    400: problem(
        "Malformed request",
        400,
        detail="Validation failed for POST /v1/max-batch",
        errors=[_BAD_FIELD],
    ),
    404: problem(
        "Not in the catalog",
        404,
        detail="GPU 'h100' is not in the catalog; did you mean h100-nvl, h100-sxm, h100-pcie?; "
        "GET /v1/gpus lists them",
        suggestions=["h100-nvl", "h100-sxm", "h100-pcie"],
    ),
    503: UNAVAILABLE,
}
_UNMODELLED = "The model uses an architecture feature capplan does not model"
COMPUTE_PROBLEMS = {
    **READ_PROBLEMS,
    413: problem("Request body too large", 413),
    422: problem(_UNMODELLED, 422),
    429: problem("Rate limit exceeded; retry after Retry-After seconds", 429),
}
WRITE_PROBLEMS = {
    **READ_PROBLEMS,
    401: problem("Missing or invalid admin bearer token", 401),
    403: problem("Writes are disabled: no admin token is configured", 403),
    409: problem("The row changed since it was read (stale version) or already exists", 409),
    413: problem("Request body too large", 413),
    422: problem(_UNMODELLED, 422),
}
REPLACE_PROBLEMS = {
    **WRITE_PROBLEMS,
    428: problem("Neither a version in the body nor an If-Match header says what is replaced", 428),
}


def _response(
    status: int,
    detail: str | None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    suggestions: list[str] | None = None,
) -> Response[ProblemDetails]:
    phrase = HTTPStatus(status).phrase
    body = ProblemDetails(
        type=ABOUT_BLANK,
        status=status,
        title=phrase,
        detail=None if detail == phrase else detail,
        errors=errors,
        suggestions=suggestions or None,
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
_MISSING_PARAMETER = re.compile(r"^Missing required (query|header|cookie|path) parameter '([^']+)'")
_VALIDATION_FAILED = re.compile(r"(Validation failed for \S+ )(.*)", re.DOTALL)
#: Longest request target a detail quotes, each long part already cut (:func:`short_target`).
QUOTED_TARGET_CHARS = 1000


def short_target(target: str) -> str:
    """A request target (``/v1/gpus?vendor=...``) fit to quote: each path segment and each
    query key and value cut to 200 characters with its length (:func:`quoted`), and the whole
    to :data:`QUOTED_TARGET_CHARS`, so a detail never echoes a 60 kB query."""
    path, mark, query = target.partition("?")
    parts = "/".join(map(quoted, path.split("/")))
    if mark:
        pairs = ("=".join(map(quoted, pair.split("=", 1))) for pair in query.split("&"))
        parts += mark + "&".join(pairs)
    if len(parts) <= QUOTED_TARGET_CHARS:
        return parts
    return f"{parts[:QUOTED_TARGET_CHARS]}… ({len(target):,} characters)"


def _short_detail(detail: str) -> str:
    """Litestar's "Validation failed for GET <path and query>" quoting the target short."""
    found = _VALIDATION_FAILED.fullmatch(detail)
    return found.group(1) + short_target(found.group(2)) if found else detail


_AT = " - at `$"
_AT_KEY = " - at `key` in `$"


def msgspec_error(message: str, whole: str) -> tuple[str, str]:
    """msgspec's ``Expected `int` - at `$.workload.input_tokens``` as (message, key):
    ``("Expected `int`", "workload.input_tokens")``; a refused key of an object (``... - at
    `key` in `$.prices```) is keyed by the object, its message saying it was a key. A message
    without a location (the input as a whole, such as a missing top-level field) is returned
    as is, keyed ``whole``."""
    text, at, path = message.rpartition(_AT_KEY)
    if at:
        return f"{text} (a key)", path.rstrip("`").lstrip(".") or whole
    text, at, path = message.rpartition(_AT)
    if not at:
        return message, whole
    return text, path.rstrip("`").lstrip(".") or whole


def _named(error: dict[str, Any]) -> dict[str, Any]:
    """A top-level body error with its key naming the field: Litestar keys these ``data``
    (its parameter's name) and reports an empty body as the KeyError ``'data'``; the strict
    decoder (:mod:`service.api.strict_body`) keys them ``body``."""
    if error.get("source") != "body" or error.get("key") not in ("data", "body"):
        return error
    message = str(error.get("message", ""))
    if message == "'data'":
        return {**error, "message": "the request body is empty: send a JSON object", "key": "body"}
    missing = _MISSING_FIELD.search(message)
    return {**error, "key": missing.group(1) if missing else "body"}


def _missing_parameter(detail: str) -> dict[str, Any] | None:
    """Litestar's "Missing required query parameter 'model' for path ..." (a 400 without an
    error list) as an error naming the parameter."""
    found = _MISSING_PARAMETER.match(detail)
    if found is None:
        return None
    return {
        "message": "missing required parameter",
        "key": found.group(2),
        "source": found.group(1),
    }


def problem_from_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ProblemDetails]:
    """Any ``HTTPException`` (ours, routing 404/405, validation 400) as problem+json."""
    errors = None
    if isinstance(exc, ValidationException | Problem) and isinstance(exc.extra, list):
        errors = [_named(dict(item)) for item in exc.extra if isinstance(item, dict)]
    elif isinstance(exc, ValidationException) and (missing := _missing_parameter(exc.detail)):
        errors = [missing]
    headers = dict(exc.headers) if exc.headers else None
    return _response(exc.status_code, _short_detail(exc.detail), errors, headers)


def problem_from_unhandled(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[ProblemDetails]:
    """A bug: logged with its trace, answered with a 500 that leaks nothing."""
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _response(500, "internal error; see the service log")


RETRY_AFTER_S = 5
"""Seconds a client should wait before retrying a 503."""


def problem_from_planning(
    _: Request[Any, Any, Any], exc: PlanningError
) -> Response[ProblemDetails]:
    """A planning refusal in HTTP terms: unknown ids 404, bad configs 400, unmodelled
    architectures 422, an unreadable catalog 503."""
    errors = None
    headers = None
    status = 400
    suggestions = None
    if isinstance(exc, NotInCatalog):
        status, suggestions = 404, exc.suggestions
        if exc.field is not None:
            errors = [{"message": exc.reason, "key": exc.field, "source": exc.source}]
    elif isinstance(exc, UnsupportedModel):
        status = 422
    elif isinstance(exc, CatalogUnavailable):
        status, headers = 503, {"Retry-After": str(RETRY_AFTER_S)}
    elif isinstance(exc, InvalidModelConfig) and exc.field is not None:
        errors = [{"message": exc.reason, "key": exc.field, "source": "body"}]
    elif isinstance(exc, UnknownEngineName | EngineSettingNotAccepted):
        errors = [{"message": exc.detail, "key": exc.field, "source": "body"}]
    elif isinstance(exc, InvalidField):
        errors = [{"message": exc.reason, "key": exc.field, "source": "body"}]
    return _response(status, exc.detail, errors, headers, suggestions)


@contextmanager
def unknown_ids_named(field: str, source: str = "body") -> Iterator[None]:
    """An unknown model or GPU id met inside is a 404 whose ``errors`` name ``field`` (where
    the id sits in the request: ``constraints.gpus[1]``, ``prices.l4``)."""
    try:
        yield
    except NotInCatalog as exc:
        exc.locate(field, source)
        raise


EXCEPTION_HANDLERS = {
    HTTPException: problem_from_http,
    PlanningError: problem_from_planning,
    Exception: problem_from_unhandled,
}
