"""Which version a write replaces: ``version`` in the body or ``If-Match``, never a guess.

A PUT without either used to overwrite whatever was there (last writer wins). Now it is
428 Precondition Required (RFC 6585); a mismatch is 409, as before. ``If-Match`` takes the
row's version as an entity tag (``"3"`` or ``W/"3"``), the ``version`` a GET returns.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from service.api.problems import Problem


def has_precondition(request: Request[Any, Any, Any], body_version: int | None) -> bool:
    """Whether the client said which version it replaces (else an unknown id is 404 first)."""
    return body_version is not None or "if-match" in request.headers


def expected_version(request: Request[Any, Any, Any], body_version: int | None) -> int:
    """The version the client read: the body's ``version``, else ``If-Match``, else 428."""
    if_match = request.headers.get("if-match")
    if body_version is not None:
        return body_version
    if if_match is None:
        raise Problem(
            428,
            'state the version you read: "version" in the body or an If-Match header '
            "(the version of GET as an entity tag); without it a write could overwrite "
            "someone else's",
        )
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not (tag.isascii() and tag.isdigit() and 0 < len(tag) <= 10):
        raise Problem(400, f'If-Match must be a version as an entity tag, e.g. "3": {if_match!r}')
    return int(tag)
