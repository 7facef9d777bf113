"""``capplan hub import`` and ``capplan hub sweep``: the Hub importer for cron users.

Both migrate the database first and read the Hub settings (``HF_ENDPOINT``, ``HF_TOKEN``,
``CAPPLAN_HUB_TIMEOUT_S``) from the environment, like the service.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import msgspec
from sqlalchemy.exc import SQLAlchemyError

from service.db.models import JobStatus
from service.db.session import create_engine, create_sessionmaker, migrate_to_head
from service.importer.client_factory import hub_client_from_settings
from service.importer.config import WorkerConfig
from service.importer.ids import invalid_reference
from service.importer.queue import JobQueue
from service.importer.sweep import SweepReport, sweep
from service.importer.worker import ImportWorker
from service.settings import Settings, SettingsError

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``hub`` with its ``import`` and ``sweep`` sub-commands."""
    hub = subparsers.add_parser("hub", help="import models from the Hugging Face Hub")
    commands = hub.add_subparsers(dest="hub_command", required=True, metavar="COMMAND")
    one = commands.add_parser(
        "import",
        help="queue an import of one model (or, with --wait, run it now)",
        description=(
            "Queue an import job for REPO, which a service worker then runs. With --wait, run "
            "it in this process, retrying transient Hub failures, and print the result. Exits "
            "0 on success, 1 if the import failed, 2 on bad input."
        ),
    )
    one.add_argument("repo_id", metavar="REPO", help="Hub repository id, e.g. Qwen/Qwen3-8B")
    one.add_argument("--revision", help="branch, tag or commit sha (default: main)")
    one.add_argument("--wait", action="store_true", help="run the import now and print it")
    one.add_argument("--database-url", help="SQLAlchemy async URL (DATABASE_URL)")
    one.set_defaults(func=run_import)
    many = commands.add_parser(
        "sweep",
        help="queue imports of new text-generation models from the sweep authors",
        description=(
            "List each author's text-generation models created since the last sweep and queue "
            "imports for them; print what was queued. Exits 1 if any author's listing failed."
        ),
    )
    many.add_argument(
        "--author",
        action="append",
        dest="authors",
        help="Hub author to sweep (repeatable; default: CAPPLAN_SWEEP_AUTHORS)",
    )
    many.add_argument("--database-url", help="SQLAlchemy async URL (DATABASE_URL)")
    many.set_defaults(func=run_sweep)


def run_import(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if settings is None:
        return EXIT_BAD_INPUT
    if problem := invalid_reference(args.repo_id, args.revision):
        print(f"hub import: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return asyncio.run(_import(settings, args.repo_id, args.revision, wait=args.wait))
    except (SQLAlchemyError, OSError) as exc:
        print(f"hub import: database error: {exc}", file=sys.stderr)
        return EXIT_FAILED


def run_sweep(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if settings is None:
        return EXIT_BAD_INPUT
    authors = tuple(args.authors or settings.sweep_authors)
    try:
        report = asyncio.run(_sweep(settings, authors))
    except (SQLAlchemyError, OSError) as exc:
        print(f"hub sweep: database error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(report)
    return EXIT_FAILED if report.errors else 0


def _settings(args: argparse.Namespace) -> Settings | None:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"hub: invalid setting: {exc}", file=sys.stderr)
        return None
    if args.database_url:
        settings = msgspec.structs.replace(settings, database_url=args.database_url)
    return settings


async def _import(settings: Settings, repo_id: str, revision: str | None, *, wait: bool) -> int:
    engine = create_engine(settings.database_url)
    try:
        await migrate_to_head(engine)
        sessions = create_sessionmaker(engine)
        async with sessions.begin() as session:
            job, created = await JobQueue(session).enqueue(
                repo_id, revision, max_attempts=settings.importer_max_attempts
            )
        if not wait:
            state = "queued" if created else f"already {job.status}"
            print(f"import job {job.id} for {repo_id}: {state}")
            return 0
        worker = ImportWorker(
            sessions, hub_client_from_settings(settings), WorkerConfig.from_settings(settings)
        )
        job, result = await worker.run_job(job.id)
    finally:
        await engine.dispose()
    if job.status != JobStatus.SUCCEEDED:
        print(f"hub import: {repo_id} failed: {job.error}", file=sys.stderr)
        return EXIT_FAILED
    print(result if result is not None else f"{repo_id}: imported by another worker (job {job.id})")
    if result is not None and result.notes:
        print(result.notes)
    return 0


async def _sweep(settings: Settings, authors: tuple[str, ...]) -> SweepReport:
    engine = create_engine(settings.database_url)
    try:
        await migrate_to_head(engine)
        return await sweep(
            create_sessionmaker(engine),
            hub_client_from_settings(settings),
            authors,
            limit=settings.sweep_limit,
            max_attempts=settings.importer_max_attempts,
        )
    finally:
        await engine.dispose()
