"""``mm_items_per_prompt`` (vLLM ``--limit-mm-per-prompt``) on the computing endpoints.

A multimodal model asked text-only (0) loads no vision tower and reserves no encoder cache;
another engine refuses the knob; a multimodal format capplan cannot count is a 422.
Expected differences are the tower's own count (capplan's Gemma 3 formula, exact against
the Hub total in ``catalog/reference/models_2025.json``) at 2 bytes, and the encoder-cache
arithmetic of :mod:`service.domain.engines.encoder_cache`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.catalog_files import default_engine_profile
from service.domain.engines.encoder_cache import encoder_forward_bytes
from service.domain.hf_config import architecture_from_config
from tests.api.conftest import REPO_ROOT, assert_problem, error_keys

pytestmark = pytest.mark.anyio


def _gemma3_4b() -> dict[str, Any]:
    path = REPO_ROOT / "catalog" / "reference" / "models_2025.json"
    models = json.loads(path.read_text(encoding="utf-8"))["models"]
    [entry] = [m for m in models if m["repo_id"] == "google/gemma-3-4b-it"]
    config: dict[str, Any] = entry["config"]
    return config


GEMMA3 = {"hf_config": _gemma3_4b()}
MAX_BATCH = {"model": GEMMA3, "gpu": "h100-sxm", "context_length": 8192}


async def _memory(client: AsyncTestClient[Litestar], **extra: Any) -> dict[str, int]:
    response = await client.post("/v1/max-batch", json={**MAX_BATCH, **extra})
    assert response.status_code == 200, response.text
    memory: dict[str, int] = response.json()["memory"]
    return memory


async def test_text_only_drops_the_tower_weights(client: AsyncTestClient[Litestar]) -> None:
    """0 items: the vision tower is not built, so its 16-bit weights leave the GPU."""
    tower = architecture_from_config(_gemma3_4b()).encoder_parameters
    default = await _memory(client)
    text = await _memory(client, mm_items_per_prompt=0)
    assert default["weights"] - text["weights"] == 2 * tower


def _reserved(language_model_peak: int, items: int) -> int:
    """The profile-run peak with ``items`` dummy images of Gemma 3 (256 rows x 2560 wide, 2 B
    each): the larger of the encoder forward and the language-model pass, plus the cache."""
    arch = architecture_from_config(_gemma3_4b())
    encoder = encoder_forward_bytes(arch, default_engine_profile(), items)
    return max(language_model_peak, encoder) + items * 256 * 2560 * 2


async def test_text_only_reserves_no_encoder_cache(client: AsyncTestClient[Litestar]) -> None:
    """Default on an H100 (8192 batched tokens, 1024 seqs): 8192 // 256 = 32 dummy images run
    through the tower and stay cached through the profile run; text-only neither."""
    default = await _memory(client)
    text = await _memory(client, mm_items_per_prompt=0)
    assert text["activation"] < default["activation"]
    assert default["activation"] == _reserved(text["activation"], 32)


async def test_one_image_per_prompt_caps_the_dummy_batch(
    client: AsyncTestClient[Litestar],
) -> None:
    """--max-num-seqs 4 with one image each: min(32, 4 · 1) = 4 items instead of 32."""
    many = await _memory(client, max_num_seqs=4)
    one = await _memory(client, max_num_seqs=4, mm_items_per_prompt=1)
    text = await _memory(client, max_num_seqs=4, mm_items_per_prompt=0)
    assert many["activation"] == _reserved(text["activation"], 32)
    assert one["activation"] == _reserved(text["activation"], 4)


@pytest.mark.parametrize("engine", ["sglang", "trtllm"])
async def test_other_engines_refuse_the_knob(
    client: AsyncTestClient[Litestar], engine: str
) -> None:
    """Only vLLM has --limit-mm-per-prompt: a 400 naming the field and the engine."""
    response = await client.post(
        "/v1/max-batch", json={**MAX_BATCH, "engine": engine, "mm_items_per_prompt": 0}
    )
    problem = assert_problem(response, 400)
    assert error_keys(problem) == {"mm_items_per_prompt"}
    assert engine in problem["detail"]


async def test_a_negative_count_is_a_400(client: AsyncTestClient[Litestar]) -> None:
    """Item counts are >= 0."""
    response = await client.post("/v1/max-batch", json={**MAX_BATCH, "mm_items_per_prompt": -1})
    assert_problem(response, 400)


async def test_the_frontier_takes_the_knob(client: AsyncTestClient[Litestar]) -> None:
    """Text-only frees the tower and the encoder cache: at least as large a batch ceiling."""
    body = {"model": GEMMA3, "gpu": "h100-sxm", "input_tokens": 1000, "output_tokens": 200}
    default = await client.post("/v1/frontier", json=body)
    text = await client.post("/v1/frontier", json={**body, "mm_items_per_prompt": 0})
    assert default.status_code == text.status_code == 200, text.text
    assert text.json()["max_batch"] >= default.json()["max_batch"]


async def test_phi4_multimodal_is_422_naming_its_encoders(
    client: AsyncTestClient[Litestar],
) -> None:
    """Phi-4-multimodal's towers are not counted: a 422 naming them, not a text-only guess."""
    config = {"model_type": "phi4mm", "architectures": ["Phi4MMForCausalLM"], "hidden_size": 3072}
    response = await client.post("/v1/inspect", json={"model": {"hf_config": config}})
    problem = assert_problem(response, 422)
    assert "Phi-4-multimodal" in problem["detail"]
