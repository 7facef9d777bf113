"""Structured logs: one JSON object per line, carrying the request id of the current request.

``capplan serve`` installs :func:`logging_config` through uvicorn's ``log_config``, so the
server's own messages, the request log and the importer's messages share one format::

    {"ts": "2026-11-27T10:00:00.123Z", "level": "info", "logger": "capplan.request",
     "message": "POST /v1/plan 200", "request_id": "…", "method": "POST",
     "path": "/v1/plan", "status": 200, "duration_ms": 4.2}
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import msgspec

from service.observability import request_id

#: Attributes the request log passes through ``extra=``; copied into the JSON object.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms")
_encoder = msgspec.json.Encoder(enc_hook=str)


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON (``ts`` in UTC, ``exc_info`` as text)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.current.get(),
        }
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return _encoder.encode(entry).decode()


class RequestIdFilter(logging.Filter):
    """Give every record a ``request_id`` attribute, for the plain-text format."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id.current.get() or "-"
        return True


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def logging_config(level: str = "info", fmt: str = "json") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document: everything to stdout, in ``fmt``."""
    text = fmt == "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {
            "default": {"format": TEXT_FORMAT} if text else {"()": f"{__name__}.JsonFormatter"}
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "default",
                "filters": ["request_id"] if text else [],
            }
        },
        "loggers": {
            # uvicorn's own loggers propagate to the root handler; its access log is replaced
            # by capplan.request, which knows the request id and the route.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
        "root": {"handlers": ["stdout"], "level": level.upper()},
    }
