"""The request id: the caller's ``X-Request-ID`` when it is safe to echo, else a new one."""

from __future__ import annotations

import contextvars
import re
import uuid

HEADER = "x-request-id"
MAX_LENGTH = 128
_SAFE = re.compile(rf"[A-Za-z0-9._~:+/=-]{{1,{MAX_LENGTH}}}")

#: The id of the request being served in this task; None outside requests (the worker).
current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(header: bytes | None) -> str:
    """The incoming id if it is 1-128 safe characters (letters, digits, ``._~:+/=-``)."""
    if header is not None:
        value = header.decode("latin-1")
        if _SAFE.fullmatch(value):
            return value
    return new_request_id()
