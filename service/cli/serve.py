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
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=run_serve)

    openapi = subparsers.add_parser("openapi", help="write the OpenAPI document of the app")
    openapi.add_argument("--output", type=Path, help="file to write (default: stdout)")
    openapi.set_defaults(func=run_openapi)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        proxy_headers=True,
        timeout_graceful_shutdown=20,
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
