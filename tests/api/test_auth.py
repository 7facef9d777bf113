"""Catalog writes need ``Authorization: Bearer <CAPPLAN_ADMIN_TOKEN>``; reads are open."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import ADMIN_TOKEN, assert_problem, gpu_body, reference_model

pytestmark = pytest.mark.anyio

GPU_FIELDS = {k: v for k, v in gpu_body().items() if k != "id"}
LLAMA_1B_CONFIG = reference_model("meta-llama/Llama-3.2-1B")["config"]

# (method, path, body, the path whose GET must be unchanged afterwards)
WRITES: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("POST", "/v1/gpus", gpu_body(), "/v1/gpus/test-gpu"),
    ("PUT", "/v1/gpus/h100-sxm", GPU_FIELDS, "/v1/gpus/h100-sxm"),
    ("DELETE", "/v1/gpus/h100-sxm", None, "/v1/gpus/h100-sxm"),
    ("POST", "/v1/models", {"id": "acme/x", "config": LLAMA_1B_CONFIG}, "/v1/models/acme/x"),
    (
        "PUT",
        "/v1/models/meta-llama/Llama-3.1-8B",
        {"config": LLAMA_1B_CONFIG},
        "/v1/models/meta-llama/Llama-3.1-8B",
    ),
    ("DELETE", "/v1/models/meta-llama/Llama-3.1-8B", None, "/v1/models/meta-llama/Llama-3.1-8B"),
]
WRITE_IDS = ["post-gpu", "put-gpu", "delete-gpu", "post-model", "put-model", "delete-model"]


async def _snapshot(client: AsyncTestClient[Litestar], path: str) -> tuple[int, Any]:
    response = await client.get(path)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token"], ids=["missing", "wrong-token"]
)
@pytest.mark.parametrize(("method", "path", "body", "probe"), WRITES, ids=WRITE_IDS)
async def test_write_without_the_token_is_401_and_changes_nothing(
    client: AsyncTestClient[Litestar],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    probe: str,
    authorization: str | None,
) -> None:
    """No or a wrong bearer token: 401 problem with WWW-Authenticate: Bearer, no write."""
    before = await _snapshot(client, probe)
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.request(method, path, json=body, headers=headers)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert await _snapshot(client, probe) == before


@pytest.mark.parametrize(
    "authorization",
    [f"Basic {ADMIN_TOKEN}", "Bearer", f"Bearer {ADMIN_TOKEN}x", f"Token {ADMIN_TOKEN}"],
    ids=["basic-scheme", "empty-token", "token-prefix", "other-scheme"],
)
async def test_malformed_authorization_is_401(
    client: AsyncTestClient[Litestar], authorization: str
) -> None:
    """Only ``Bearer <exact token>`` authorizes; near misses are 401 with WWW-Authenticate."""
    response = await client.post(
        "/v1/gpus", json=gpu_body(), headers={"Authorization": authorization}
    )
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_the_configured_token_authorizes(client: AsyncTestClient[Litestar]) -> None:
    """``Authorization: Bearer <CAPPLAN_ADMIN_TOKEN>`` (scheme in any case) may write."""
    headers = {"Authorization": f"bearer {ADMIN_TOKEN}"}
    response = await client.post("/v1/gpus", json=gpu_body(), headers=headers)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(("method", "path", "body", "probe"), WRITES, ids=WRITE_IDS)
async def test_writes_are_403_when_no_token_is_configured(
    read_only_client: AsyncTestClient[Litestar],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    probe: str,
) -> None:
    """Without CAPPLAN_ADMIN_TOKEN every write is refused (403), whatever the request sends."""
    before = await _snapshot(read_only_client, probe)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    response = await read_only_client.request(method, path, json=body, headers=headers)
    problem = assert_problem(response, 403)
    assert "CAPPLAN_ADMIN_TOKEN" in problem["detail"]
    assert await _snapshot(read_only_client, probe) == before


async def test_authentication_comes_before_body_validation(
    client: AsyncTestClient[Litestar],
) -> None:
    """An anonymous write with a malformed body learns only that it needs the token (401)."""
    response = await client.post("/v1/gpus", json={"id": 42})
    assert_problem(response, 401)


@pytest.mark.parametrize(
    "path",
    ["/v1/gpus", "/v1/gpus/h100-sxm", "/v1/models", "/v1/models/meta-llama/Llama-3.1-8B"],
    ids=["list-gpus", "get-gpu", "list-models", "get-model"],
)
async def test_reads_are_open_without_a_configured_token(
    read_only_client: AsyncTestClient[Litestar], path: str
) -> None:
    """Catalog reads need no Authorization header even when writes are disabled."""
    response = await read_only_client.get(path)
    assert response.status_code == 200, response.text
