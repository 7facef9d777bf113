"""``capplan catalog sync``: validate the seed catalog and write it into the database."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from service.db.catalog_sync import SyncReport, sync_catalog
from service.db.seed_loader import SeedCatalog, SeedError, load_catalog
from service.db.session import create_engine, create_sessionmaker, migrate_to_head
from service.settings import Settings, SettingsError

EXIT_INVALID_SEED = 2


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``catalog`` and its ``sync`` sub-command."""
    catalog = subparsers.add_parser("catalog", help="manage the GPU and model catalog")
    commands = catalog.add_subparsers(dest="catalog_command", required=True, metavar="COMMAND")
    sync = commands.add_parser(
        "sync",
        help="load catalog/gpus.yaml and catalog/models/*.yaml into the database",
        description=(
            "Validate every seed file, migrate the database to the newest schema, then insert "
            "or update seed rows in one transaction. Rows edited by an operator or imported "
            "from the Hub are left alone. Exits 2, writing nothing, if any seed is invalid."
        ),
    )
    sync.add_argument("--catalog-dir", type=Path, help="seed directory (CAPPLAN_CATALOG_DIR)")
    sync.add_argument("--database-url", help="SQLAlchemy async URL (DATABASE_URL)")
    sync.set_defaults(func=run_sync)


def run_sync(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"catalog sync: {exc}", file=sys.stderr)
        return 1
    catalog_dir: Path = args.catalog_dir or settings.catalog_dir
    database_url: str = args.database_url or settings.database_url
    try:
        catalog = load_catalog(catalog_dir)
    except SeedError as exc:
        print(f"catalog sync: invalid seed catalog in {catalog_dir}:\n{exc}", file=sys.stderr)
        return EXIT_INVALID_SEED
    try:
        report = asyncio.run(_sync(database_url, catalog))
    except (SQLAlchemyError, OSError) as exc:
        print(f"catalog sync: database error: {exc}", file=sys.stderr)
        return 1
    print(report)
    return 0


async def _sync(database_url: str, catalog: SeedCatalog) -> SyncReport:
    engine = create_engine(database_url)
    try:
        await migrate_to_head(engine)
        return await sync_catalog(create_sessionmaker(engine), catalog)
    finally:
        await engine.dispose()
