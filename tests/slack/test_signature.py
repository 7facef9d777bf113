"""Only requests Slack signed, recently, with our secret get through; never a 500."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.slack.signature import is_signed_by_slack
from tests.slack.conftest import COMMANDS, SECRET, Signer, app_settings, form

pytestmark = pytest.mark.anyio

BODY = form("help")


def now() -> str:
    return str(int(time.time()))


def test_valid_signature_is_accepted(sign: Signer) -> None:
    """A body signed with the secret a moment ago verifies."""
    headers = sign(BODY)
    assert is_signed_by_slack(
        SECRET, headers["x-slack-request-timestamp"], headers["x-slack-signature"], BODY
    )


@pytest.mark.parametrize(
    ("secret", "age_s", "body"),
    [
        pytest.param(SECRET, 0, BODY + b"&text=plan", id="tampered-body"),
        pytest.param(SECRET, 301, BODY, id="stale-timestamp"),
        pytest.param(SECRET, -301, BODY, id="future-timestamp"),
        pytest.param("another-secret", 0, BODY, id="wrong-secret"),
        pytest.param(None, 0, BODY, id="no-secret-configured"),
        pytest.param("   ", 0, BODY, id="blank-secret-configured"),
    ],
)
def test_bad_signature_is_refused(
    sign: Signer, secret: str | None, age_s: int, body: bytes
) -> None:
    """Tampering, replay beyond five minutes and the wrong secret are all refused."""
    headers = sign(BODY, timestamp=str(int(time.time()) - age_s))
    assert not is_signed_by_slack(
        secret, headers["x-slack-request-timestamp"], headers["x-slack-signature"], body
    )


@pytest.mark.parametrize(
    ("timestamp", "signature", "body"),
    [
        pytest.param("yesterday", "v0=00", BODY, id="non-numeric-timestamp"),
        pytest.param("¹²³", "v0=00", BODY, id="unicode-digit-timestamp"),
        pytest.param("", "v0=00", BODY, id="empty-timestamp"),
        pytest.param(None, None, BODY, id="missing-headers"),
        pytest.param("now", "v0=é", BODY, id="non-ascii-signature"),
        pytest.param("now", "v0=00", b"text=\xff\xfe", id="non-utf8-body"),
    ],
)
def test_malformed_input_is_refused_without_raising(
    timestamp: str | None, signature: str | None, body: bytes
) -> None:
    """Input ``slack_sdk`` would raise on is refused up front."""
    stamp = now() if timestamp == "now" else timestamp
    assert not is_signed_by_slack(SECRET, stamp, signature, body)


async def test_signed_request_gets_200(client: AsyncTestClient[Litestar], sign: Signer) -> None:
    """The endpoint answers a properly signed command."""
    response = await client.post(COMMANDS, content=BODY, headers=sign(BODY))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(
            {"x-slack-request-timestamp": "abc", "x-slack-signature": "v0=1"}, id="text-ts"
        ),
        pytest.param(
            {"x-slack-request-timestamp": "1", "x-slack-signature": "v0=1"}, id="stale-ts"
        ),
        pytest.param({}, id="no-headers"),
    ],
)
async def test_unsigned_request_gets_401_problem(
    client: AsyncTestClient[Litestar], headers: dict[str, str]
) -> None:
    """Bad or missing signatures are 401 problem+json, never 500."""
    response = await client.post(COMMANDS, content=BODY, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_tampered_body_gets_401(client: AsyncTestClient[Litestar], sign: Signer) -> None:
    """A signature over another body does not authorise this one."""
    response = await client.post(COMMANDS, content=form("plan llama"), headers=sign(BODY))
    assert response.status_code == 401


async def test_without_a_configured_secret_everything_is_refused(
    tmp_path: Path, catalog_dir: Path, sign: Signer
) -> None:
    """No SLACK_SIGNING_SECRET: even a well-formed signed request gets 401."""
    app = create_app(app_settings(tmp_path, catalog_dir, secret=None))
    async with AsyncTestClient(app=app) as client:
        response = await client.post(COMMANDS, content=BODY, headers=sign(BODY))
    assert response.status_code == 401


async def test_endpoint_is_not_in_the_openapi_document(client: AsyncTestClient[Litestar]) -> None:
    """The Slack route stays out of the public API contract."""
    schema = (await client.get("/schema/openapi.json")).json()
    assert not any(path.startswith("/integrations") for path in schema["paths"])
