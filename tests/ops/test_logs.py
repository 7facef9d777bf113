"""Logs are one JSON object per line with the request's id, method, path, status and time."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.observability.logs import JsonFormatter, logging_config
from tests.db.conftest import CatalogWriter
from tests.ops.conftest import ops_settings

REQUEST_KEYS = {
    "ts",
    "level",
    "logger",
    "message",
    "request_id",
    "method",
    "path",
    "status",
    "duration_ms",
}


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the ``capplan`` loggers write, through the JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("capplan")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.anyio
async def test_each_request_logs_one_json_line(
    tmp_path: Path, write_catalog: CatalogWriter, json_lines: io.StringIO
) -> None:
    """A request logs ts, level, logger, message, request_id, method, path, status, duration_ms."""
    app = create_app(ops_settings(f"sqlite+aiosqlite:///{tmp_path}/t.db", write_catalog()))
    async with AsyncTestClient(app=app) as client:
        json_lines.truncate(0)
        json_lines.seek(0)
        await client.get("/v1/gpus/l4", headers={"X-Request-ID": "log-me"})

    [line] = [r for r in records(json_lines) if r["logger"] == "capplan.request"]
    assert set(line) == REQUEST_KEYS
    assert (line["request_id"], line["method"], line["path"], line["status"]) == (
        "log-me",
        "GET",
        "/v1/gpus/l4",
        200,
    )
    assert line["level"] == "info"
    assert line["duration_ms"] > 0


def test_records_outside_requests_have_a_null_request_id() -> None:
    """A worker's message is JSON too, with request_id null and an exception as text."""
    try:
        raise ValueError("boom")
    except ValueError as exc:
        record = logging.LogRecord(
            "capplan.importer",
            logging.ERROR,
            __file__,
            1,
            "job %s",
            ("j1",),
            (type(exc), exc, exc.__traceback__),
        )
    line = json.loads(JsonFormatter().format(record))
    assert (line["message"], line["request_id"], line["level"]) == ("job j1", None, "error")
    assert "ValueError: boom" in line["exc_info"]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put back the handlers, levels and propagation that dictConfig changes."""
    names = ["", "uvicorn", "uvicorn.error", "uvicorn.access"]
    saved = {name: logging.getLogger(name) for name in names}
    state = {name: (lg.handlers[:], lg.level, lg.propagate) for name, lg in saved.items()}
    yield
    for name, logger in saved.items():
        for handler in logger.handlers:
            if handler not in state[name][0]:
                handler.close()
        logger.handlers[:], level, logger.propagate = state[name]
        logger.setLevel(level)


@pytest.mark.parametrize("fmt", ["json", "text"])
@pytest.mark.usefixtures("restore_logging")
def test_logging_config_is_a_valid_dict_config(fmt: str) -> None:
    """The config `capplan serve` hands uvicorn is accepted by logging.config.dictConfig."""
    logging.config.dictConfig(logging_config("warning", fmt))
    root = logging.getLogger()
    assert root.level == logging.WARNING
    assert len(root.handlers) == 1
