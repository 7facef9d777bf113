"""Property-based contract tests: every operation, every default check (see schemathesis.toml).

The schema is loaded at import time from the app the tests then call in-process
(``schemathesis.pytest.from_fixture`` reads ``request.node._nodeid``, which pytest 9 removed).
Two checks of our own run next to schemathesis' defaults: errors are always problem+json, and a
schema-valid request never fails the documented validation (which keeps the 400s that
schemathesis.toml tolerates on free-form ``hf_config`` bodies from hiding schema drift).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import settings
from schemathesis.python import asgi

from service.app import create_app
from tests.contract.conftest import AUTH_HEADERS, contract_settings

DATA_DIR = Path(tempfile.mkdtemp(prefix="capplan-contract-"))
atexit.register(shutil.rmtree, DATA_DIR, ignore_errors=True)  # also after --collect-only
schema = schemathesis.openapi.from_asgi(
    "/schema/openapi.json", create_app(contract_settings(DATA_DIR))
)


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
    assert "Traceback" not in response.text, response.text
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
        # migrates and seeds again. Hypothesis replays scenarios and requires the same responses.
        asgi.shutdown_lifespans()
        for path in DATA_DIR.glob("contract.db*"):
            path.unlink()

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
