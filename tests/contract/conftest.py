"""Settings of the app under contract: writes on with a known token, the real seed catalog.

schemathesis' ASGI client runs the app's lifespan itself. It shuts the lifespan down after each
test and starts it again on the next request; ``test_schemathesis.py`` puts a fresh copy of a
database migrated and seeded with ``catalog/`` in place at each start, so ids such as
``h100-sxm`` exist and no test sees another's writes.
"""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path
from typing import Any

from service.app import create_app
from service.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "contract-admin-token"
AUTH_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def contract_settings(data_dir: Path, **changes: Any) -> Settings:
    """Writes enabled with a known token, the shipped catalog, no rate limit, no debug pages."""
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{data_dir / 'contract.db'}",
        "admin_token": ADMIN_TOKEN,
        "catalog_dir": REPO_ROOT / "catalog",
        "rate_limit_per_minute": 0,
        "importer_enabled": False,
        "debug": False,
    }
    return Settings(**{**values, **changes})


@functools.cache
def _openapi_json() -> str:
    with tempfile.TemporaryDirectory() as data_dir:  # the app is built, never started
        return json.dumps(create_app(contract_settings(Path(data_dir))).openapi_schema.to_schema())


def app_openapi() -> dict[str, Any]:
    """The app's OpenAPI document as JSON data, from one app built per session (the document
    does not depend on the database; each call returns a fresh copy)."""
    document: dict[str, Any] = json.loads(_openapi_json())
    return document
