"""POST /v1/inspect: exact parameters and KV cache per token, by catalog id or inline config."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import assert_problem, error_keys, reference_model

pytestmark = pytest.mark.anyio

LLAMA_8B = "meta-llama/Llama-3.1-8B"


def bf16_kv_bytes_per_token(config: dict[str, Any]) -> int:
    """K and V, every layer, every KV head, 2 bytes per element."""
    head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    return 2 * config["num_hidden_layers"] * config["num_key_value_heads"] * head_dim * 2


async def test_catalog_model_has_its_published_parameter_count(
    client: AsyncTestClient[Litestar],
) -> None:
    """Llama-3.1-8B by repo id: 8,030,261,248 parameters, as published."""
    response = await client.post("/v1/inspect", json={"model": LLAMA_8B})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == LLAMA_8B
    assert body["parameters"]["total"] == reference_model(LLAMA_8B)["total_params"]
    assert body["parameters"]["total"] == 8_030_261_248


async def test_kv_cache_per_token_is_two_bytes_per_cached_element(
    client: AsyncTestClient[Litestar],
) -> None:
    """Llama-3.1-8B caches 2 x 32 layers x 8 KV heads x 128 dims x 2 bytes = 131,072 B/token."""
    response = await client.post("/v1/inspect", json={"model": LLAMA_8B})
    assert response.status_code == 200, response.text
    config = reference_model(LLAMA_8B)["config"]
    assert bf16_kv_bytes_per_token(config) == 131_072
    assert response.json()["kv_cache"]["bytes_per_token"] == 131_072
    assert response.json()["kv_cache"]["dtype"] == "bf16"


async def test_fp8_kv_cache_halves_the_bytes_per_token(
    client: AsyncTestClient[Litestar],
) -> None:
    """An fp8 KV cache stores one byte per element: 65,536 B/token for Llama-3.1-8B."""
    response = await client.post("/v1/inspect", json={"model": LLAMA_8B, "kv_cache_dtype": "fp8"})
    assert response.status_code == 200, response.text
    assert response.json()["kv_cache"]["bytes_per_token"] == 131_072 // 2


@pytest.mark.parametrize(
    "repo_id",
    ["meta-llama/Llama-3.1-8B", "mistralai/Mixtral-8x7B-v0.1", "deepseek-ai/DeepSeek-V2-Lite"],
    ids=["dense-gqa", "moe", "mla"],
)
async def test_inline_config_has_its_published_parameter_count(
    client: AsyncTestClient[Litestar], repo_id: str
) -> None:
    """An inline hf_config (not looked up in the catalog) gives the published total."""
    reference = reference_model(repo_id)
    response = await client.post("/v1/inspect", json={"model": {"hf_config": reference["config"]}})
    assert response.status_code == 200, response.text
    assert response.json()["parameters"]["total"] == reference["total_params"]


async def test_unknown_model_is_404_problem(client: AsyncTestClient[Litestar]) -> None:
    """A repo id that is not in the catalog is a 404 problem naming it."""
    response = await client.post("/v1/inspect", json={"model": "nobody/no-such-model"})
    problem = assert_problem(response, 404)
    assert "nobody/no-such-model" in problem["detail"]


async def test_mamba_is_422_naming_the_feature(client: AsyncTestClient[Litestar]) -> None:
    """A state-space model is well-formed but unmodelled: 422 naming Mamba."""
    config = {"model_type": "mamba", "architectures": ["MambaForCausalLM"], "hidden_size": 768}
    response = await client.post("/v1/inspect", json={"model": {"hf_config": config}})
    problem = assert_problem(response, 422)
    assert "mamba" in problem["detail"].lower()


async def test_config_missing_a_field_is_400_naming_it(client: AsyncTestClient[Litestar]) -> None:
    """A llama config without num_hidden_layers is a 400 whose errors name that field."""
    config = reference_model(LLAMA_8B)["config"]
    del config["num_hidden_layers"]
    response = await client.post("/v1/inspect", json={"model": {"hf_config": config}})
    problem = assert_problem(response, 400)
    assert error_keys(problem) == {"model.hf_config.num_hidden_layers"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "model"),
        ({"model": LLAMA_8B, "kv_cache_dtype": "int3"}, "kv_cache_dtype"),
        ({"model": 42}, "model"),
        ({"model": {"config": {}}}, "model"),
    ],
    ids=["no-model", "unknown-dtype", "model-not-string-or-object", "inline-without-hf-config"],
)
async def test_malformed_body_is_400_naming_the_field(
    client: AsyncTestClient[Litestar], body: dict[str, Any], field: str
) -> None:
    """Schema violations are 400 problems whose errors name the offending field."""
    response = await client.post("/v1/inspect", json=body)
    problem = assert_problem(response, 400)
    assert field in error_keys(problem), problem


async def test_reads_need_no_token_even_without_one_configured(
    read_only_client: AsyncTestClient[Litestar],
) -> None:
    """Planning endpoints are reads: open with no Authorization and no token configured."""
    response = await read_only_client.post("/v1/inspect", json={"model": LLAMA_8B})
    assert response.status_code == 200, response.text
