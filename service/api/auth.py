"""The admin bearer token that guards catalog writes. Reads are open."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from service.api.deps import settings_from
from service.api.problems import Problem

ADMIN_SECURITY: list[dict[str, list[str]]] = [{"adminToken": []}]


def require_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """403 when no admin token is configured; 401 unless ``Authorization: Bearer <token>``."""
    expected = settings_from(connection.app.state).admin_token
    if not expected:
        raise Problem(403, "catalog writes are disabled: no CAPPLAN_ADMIN_TOKEN is configured")
    scheme, _sep, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        raise Problem(
            401,
            "a valid admin token is required: Authorization: Bearer <CAPPLAN_ADMIN_TOKEN>",
            headers={"WWW-Authenticate": 'Bearer realm="capplan"'},
        )
