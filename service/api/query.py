"""Strict query strings: an unknown or repeated query parameter is a 400 naming it.

Litestar ignores a query parameter the handler does not declare and keeps the last of a
repeated one, so ``GET /v1/gpus?min_memory=80`` listed every GPU (the parameter is
``min_memory_bytes``) and ``vendor=nvidia&vendor=amd`` listed AMD's alone. Routes with query
parameters refuse both instead, as ``GET /v1/frontier.svg`` does: :func:`strict_query` is
their ``before_request`` hook (it runs before Litestar reads the parameters), and the
parameters it accepts are those the handler declares with ``QueryParameter`` (or
``Parameter``), so the two cannot drift.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from litestar import Request
from litestar.enums import ParamType
from litestar.exceptions import ValidationException
from litestar.params import ParameterKwarg

from service.planning.errors import quoted

if TYPE_CHECKING:
    from litestar.datastructures import MultiDict
    from litestar.handlers import HTTPRouteHandler


def bad_query(key: str, message: str) -> ValidationException:
    """A 400 naming query parameter ``key`` (quoted short: a key can be any length)."""
    key = quoted(key)
    return ValidationException(
        detail=f"invalid query parameter '{key}': {message}",
        extra=[{"message": message, "key": key, "source": "query"}],
    )


def check_query(query: MultiDict[str], allowed: Collection[str], route: str) -> None:
    """400 naming the first parameter of ``query`` that ``route`` does not take (in
    ``allowed``), else the first given more than once."""
    unknown = sorted(set(query) - set(allowed))
    if unknown:
        takes = f"takes {', '.join(sorted(allowed))}" if allowed else "takes no parameters"
        raise bad_query(unknown[0], f"unknown parameter; {route} {takes}")
    for key in query:
        if len(query.getall(key)) > 1:
            raise bad_query(key, "given more than once")


@functools.cache
def query_parameters(handler: HTTPRouteHandler) -> frozenset[str]:
    """The query parameters ``handler`` declares (``QueryParameter`` or ``Parameter``; not
    its dependencies, such as ``db_session``, which Litestar also reads as parameters)."""
    dependencies = handler.resolve_dependencies()
    names = set()
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        if not isinstance(kwarg, ParameterKwarg) or name in dependencies:
            continue
        if kwarg.param_type is ParamType.QUERY:
            names.add(kwarg.name or name)
    return frozenset(names)


async def strict_query(request: Request[Any, Any, Any]) -> None:
    """``before_request``: 400 for a query parameter the route does not declare, or one
    given more than once."""
    handler = request.route_handler
    route = f"{request.method} {request.scope.get('path_template') or quoted(request.url.path)}"
    check_query(request.query_params, query_parameters(handler), route)
