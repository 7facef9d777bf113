"""Property-based contract tests: every operation, every default check (see schemathesis.toml).

The schema is the committed ``openapi.yaml`` (``test_openapi.py`` keeps it equal to the app's), so
collecting this module builds no app and touches no database; the app is built on the first
request a test sends and called in-process (``schemathesis.pytest.from_fixture`` would defer the
loading instead, but it reads ``request.node._nodeid``, which pytest 9 removed). Each lifespan
start gets a fresh copy of a database migrated and seeded once (``DeferredApp``).

Two checks of our own run next to schemathesis' defaults: errors are always problem+json, and a
schema-valid request never fails the documented validation (which keeps the 400s that
schemathesis.toml tolerates on free-form ``hf_config`` bodies from hiding schema drift).
"""

from __future__ import annotations

import asyncio
import atexit
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import settings
from litestar import Litestar
from schemathesis.python import asgi

from service.app import create_app
from tests.contract.conftest import AUTH_HEADERS, REPO_ROOT, contract_settings
from tests.databases import build_database
from tests.heartbeats import record_heartbeat

pytestmark = pytest.mark.slow

DATA_DIR = Path(tempfile.mkdtemp(prefix="capplan-contract-"))
atexit.register(shutil.rmtree, DATA_DIR, ignore_errors=True)  # also after --collect-only


class DeferredApp:
    """The app under contract, built on its first ASGI call rather than at collection.

    Every lifespan start first replaces the app's database with a copy of one migrated and
    seeded with ``catalog/`` (built on first use): what the lifespan's own migrate and sync would
    write, without paying for them in every test.
    """

    def __init__(self) -> None:
        self._app: Litestar | None = None
        self._template = DATA_DIR / "template.db"

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if self._app is None:
            self._app = create_app(contract_settings(DATA_DIR, sync_catalog_on_start=False))
        if scope["type"] == "lifespan":
            await self._fresh_database()
        await self._app(scope, receive, send)  # type: ignore[arg-type]

    async def _fresh_database(self) -> None:
        if not await asyncio.to_thread(self._template.exists):
            await build_database(f"sqlite+aiosqlite:///{self._template}", REPO_ROOT / "catalog")
        await asyncio.to_thread(_replace_database, self._template, DATA_DIR / "contract.db")
        # The app runs no import worker: one on another replica is alive (POST /v1/imports 202).
        await record_heartbeat(f"sqlite+aiosqlite:///{DATA_DIR / 'contract.db'}")


def _replace_database(template: Path, database: Path) -> None:
    """``database`` (and its WAL files) replaced by a copy of ``template``."""
    for path in database.parent.glob(f"{database.name}*"):
        path.unlink()
    shutil.copyfile(template, database)


schema = schemathesis.openapi.from_path(REPO_ROOT / "openapi.yaml")
schema.app = DeferredApp()


def errors_are_problem_json(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """Every 4xx/5xx is RFC 9457: problem+json whose ``status`` matches and with a title."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/problem+json"), content_type
    body = response.json()
    assert body["status"] == response.status_code, body
    assert body["title"], body
    assert "Traceback (most recent call last)" not in response.text, response.text
    return None


def valid_data_passes_validation(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """A schema-valid request is never refused by request validation (only by semantics)."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code != 400:
        return None
    detail = str(response.json().get("detail", ""))
    assert not detail.startswith("Validation failed"), (
        f"schema-valid request refused by validation, the OpenAPI is looser than the code: "
        f"{response.text}"
    )
    return None


OUR_CHECKS = [errors_are_problem_json, valid_data_passes_validation]


@schema.parametrize()
def test_operation_conforms_to_its_schema(case: schemathesis.Case) -> None:
    """Generated requests get documented statuses, media types and bodies, never a 5xx."""
    case.call_and_validate(headers=AUTH_HEADERS, additional_checks=OUR_CHECKS)


class AuthenticatedStateMachine(schema.as_state_machine()):  # type: ignore[misc]
    """Chains of calls linked through the schema (create, read, replace, delete), as admin."""

    def setup(self) -> None:
        # Each scenario starts from a fresh database: the next call restarts the lifespan, which
        # copies the seeded template in. Hypothesis replays scenarios and requires the same
        # responses.
        asgi.shutdown_lifespans()

    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
        return {"headers": AUTH_HEADERS}

    def validate_response(
        self,
        response: schemathesis.Response,
        case: schemathesis.Case,
        additional_checks: list[schemathesis.CheckFunction] | None = None,
        **kwargs: Any,
    ) -> None:
        checks = [*OUR_CHECKS, *(additional_checks or [])]
        super().validate_response(response, case, additional_checks=checks, **kwargs)


TestStatefulSequences = AuthenticatedStateMachine.TestCase
TestStatefulSequences.settings = settings(
    max_examples=20, stateful_step_count=6, deadline=None, derandomize=True, database=None
)
