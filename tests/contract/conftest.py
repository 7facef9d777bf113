"""Settings of the app under contract: writes on with a known token, the real seed catalog.

schemathesis' ASGI client runs the app's lifespan itself (migrate a fresh SQLite database, then
sync ``catalog/``), so ids such as ``h100-sxm`` exist. It shuts the lifespan down after each test
and starts it again on the next request, which re-runs the idempotent migration and sync on the
same database file.
"""

from __future__ import annotations

from pathlib import Path

from service.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "contract-admin-token"
AUTH_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def contract_settings(data_dir: Path) -> Settings:
    """Writes enabled with a known token, the shipped catalog, no rate limit, no debug pages."""
    return Settings(
        database_url=f"sqlite+aiosqlite:///{data_dir / 'contract.db'}",
        admin_token=ADMIN_TOKEN,
        catalog_dir=REPO_ROOT / "catalog",
        rate_limit_per_minute=0,
        importer_enabled=False,
        debug=False,
    )
