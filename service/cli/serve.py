"""``capplan serve`` runs the API under uvicorn; ``capplan openapi`` writes its schema."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the REST API (migrates the database and loads the seed catalog at start-up)",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="default: CAPPLAN_LOG_LEVEL, else info",
    )
    serve.set_defaults(func=run_serve)

    openapi = subparsers.add_parser("openapi", help="write the OpenAPI document of the app")
    openapi.add_argument("--output", type=Path, help="file to write (default: stdout)")
    openapi.set_defaults(func=run_openapi)


def run_serve(args: argparse.Namespace) -> int:
    """uvicorn, one worker, JSON logs; on SIGTERM in-flight requests get ``shutdown_timeout_s``.

    After the requests, the lifespan stops the importer, which hands its job back.
    """
    import uvicorn

    from service.observability.logs import logging_config
    from service.settings import Settings

    settings = Settings.from_env()
    level = args.log_level or settings.log_level
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_config=logging_config(level, settings.log_format),
        log_level=level,
        access_log=False,  # capplan.request logs each request, with its id
        proxy_headers=True,
        timeout_graceful_shutdown=settings.shutdown_timeout_s,
    )
    return 0


def openapi_document() -> str:
    """The app's OpenAPI schema as YAML (what ``openapi.yaml`` holds)."""
    from service.app import create_app
    from service.settings import Settings

    settings = Settings(migrate_on_start=False, sync_catalog_on_start=False)
    schema = create_app(settings).openapi_schema.to_schema()
    return yaml.safe_dump(schema, sort_keys=False, allow_unicode=True, width=100)


def run_openapi(args: argparse.Namespace) -> int:
    document = openapi_document()
    if args.output is None:
        sys.stdout.write(document)
    else:
        args.output.write_text(document, encoding="utf-8")
    return 0
