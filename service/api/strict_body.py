"""Strict JSON request bodies, as the OpenAPI documents them.

Litestar 2 converts a decoded body into the handler's struct with msgspec's *lax* rules, so
``"verified": 0`` became ``false`` and ``"memory_bytes": "8"`` became ``8``: requests the
schema calls invalid were accepted. This ``before_request`` hook decodes the raw body strictly
into the same type first (guards have already run, so 401/403 still come first) and answers a
mismatch with the same 400 problem Litestar's own validation gives. Integral floats (``8.0``)
still count as integers, as they do in JSON Schema.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

_AT = " - at `$"


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    """400 unless the body decodes into the handler's ``data`` type without coercion."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return
    try:
        document = msgspec.json.decode(await request.body())
    except msgspec.DecodeError as exc:
        raise ValidationException(
            detail="the request body is not valid JSON",
            extra=[{"message": str(exc), "key": "data", "source": "body"}],
        ) from exc
    try:
        msgspec.convert(_integral_floats_as_ints(document), data.annotation, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationException(
            detail=f"Validation failed for {request.method} {request.url.path}",
            extra=[_error(str(exc))],
        ) from exc


def _integral_floats_as_ints(value: Any) -> Any:
    """``8.0`` as ``8``: JSON Schema's ``integer`` is any number without a fractional part."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral_floats_as_ints(item) for item in value]
    return value


def _error(message: str) -> dict[str, str]:
    """msgspec's ``Expected `int` - at `$.workload.input_tokens``` as Litestar's error item."""
    text, sep, path = message.rpartition(_AT)
    if not sep:
        return {"message": message, "key": "data", "source": "body"}
    key = path.rstrip("`").lstrip(".") or "data"
    return {"message": text, "key": key, "source": "body"}
