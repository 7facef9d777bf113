"""Alembic environment: async engines, the service's metadata, batch mode on SQLite.

The database URL comes, in order, from a connection handed over by the service
(``config.attributes["connection"]``, see :func:`service.db.session.run_alembic`), the
``sqlalchemy.url`` option, or the service settings (``DATABASE_URL``).
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, pool

from service.db.models import Base
from service.db.session import create_engine
from service.db.types import UtcDateTime
from service.settings import Settings

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write service column types as plain SQLAlchemy types, so revisions stay frozen."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        render_item=render_item,
        **kwargs,
    )


def database_url() -> str:
    options = config.get_section(config.config_ini_section, {})
    return options.get("sqlalchemy.url") or Settings.from_env().database_url


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``) without connecting."""
    url = database_url()
    configure(url=url, literal_binds=True, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


#: SQLite cannot reflect expression indexes, so autogenerate cannot compare this one there
#: (PostgreSQL compares it); both libraries warn about that, which is expected.
_UNCOMPARABLE_ON_SQLITE = "uq_import_jobs_active_repo"


def do_run_migrations(connection: Connection) -> None:
    configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with warnings.catch_warnings(), context.begin_transaction():
        if connection.dialect.name == "sqlite":
            warnings.filterwarnings(
                "ignore", f".*expression-based index '?{_UNCOMPARABLE_ON_SQLITE}"
            )
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
elif (shared := config.attributes.get("connection")) is not None:
    do_run_migrations(shared)
else:
    asyncio.run(run_async_migrations())
