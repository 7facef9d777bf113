"""Slack fixtures: a signing secret, a request signer, and the app on the test catalog."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from slack_sdk.signature import SignatureVerifier

from service.app import create_app
from service.settings import Settings
from tests.check.catalog import write_catalog

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
COMMANDS = "/integrations/slack/commands"
Signer = Callable[..., dict[str, str]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_catalog(tmp_path_factory.mktemp("slack-catalog"))


def form(text: str, command: str = "/capplan") -> bytes:
    """A slash-command form post as Slack sends it."""
    fields = {
        "token": "legacy-unused",
        "team_id": "T0001",
        "team_domain": "example",
        "channel_id": "C2147483705",
        "channel_name": "capacity",
        "user_id": "U2147483697",
        "user_name": "alice",
        "command": command,
        "text": text,
        "api_app_id": "A123456",
        "response_url": "https://hooks.slack.com/commands/1234/5678",
        "trigger_id": "13345224609.738",
    }
    return urlencode(fields).encode()


@pytest.fixture
def sign() -> Signer:
    """Headers Slack would send for ``body``: signed with ``secret`` at ``timestamp`` (now)."""

    def headers(
        body: bytes, *, secret: str = SECRET, timestamp: str | None = None
    ) -> dict[str, str]:
        stamp = timestamp or str(int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
        return {
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": stamp,
            "x-slack-signature": signature or "",
        }

    return headers


def app_settings(tmp_path: Path, catalog_dir: Path, secret: str | None = SECRET) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db",
        slack_signing_secret=secret,
        catalog_dir=catalog_dir,
    )


@pytest.fixture
async def client(tmp_path: Path, catalog_dir: Path) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app with a signing secret; its lifespan migrates and syncs the test catalog."""
    async with AsyncTestClient(app=create_app(app_settings(tmp_path, catalog_dir))) as test_client:
        yield test_client
