"""Importing over real HTTP stores the checkpoint's exact bytes by dtype from its headers."""

from __future__ import annotations

import math

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.catalog_files import default_calibration, default_engine_profile
from service.contract.schemas import LatencyRequest, MaxBatchRequest
from service.db.model_repository import ModelRepository
from service.hub.client import HfHubClient
from service.importer.model_import import import_model
from service.planning.answers import answer_latency, answer_max_batch
from service.planning.resolve import normalise, resolve_model
from tests.domain.reference import H100
from tests.fakehub import FakeHubServer
from tests.importer.models import LLAMA_1B_TOTAL, REPO, SHA_1, llama_1b_config, llama_tensors

pytestmark = pytest.mark.anyio

Sessions = async_sessionmaker[AsyncSession]


async def imported_bytes(sessionmaker: Sessions, hub_url: str, repo: str) -> dict[str, int] | None:
    client = HfHubClient(hub_url, token=None, timeout_s=5.0)
    async with sessionmaker.begin() as session:
        await import_model(client, ModelRepository(session), repo)
    async with sessionmaker() as session:
        row = await ModelRepository(session).require(repo)
    return row.checkpoint_bytes_by_dtype


async def test_bf16_checkpoint_is_two_bytes_per_parameter(
    sessionmaker: Sessions, llama: FakeHubServer
) -> None:
    """Llama-3.2-1B in bf16: 2 × 1,235,814,400 published parameters, all BF16."""
    stored = await imported_bytes(sessionmaker, llama.url, REPO)

    assert stored == {"BF16": 2 * LLAMA_1B_TOTAL}


async def test_mixed_dtypes_and_a_skipped_mtp_layer(
    sessionmaker: Sessions, fake_hub: FakeHubServer
) -> None:
    """fp8 weights with fp32 block scales are summed per dtype; a layer past
    num_hidden_layers (an MTP module) is not counted."""
    config = {**llama_1b_config(), "num_hidden_layers": 1}
    tensors = llama_tensors(config)
    q_proj = "model.layers.0.self_attn.q_proj"
    tensors[f"{q_proj}.weight"] = ("F8_E4M3", [2048, 2048])
    tensors[f"{q_proj}.weight_scale_inv"] = ("F32", [16, 16])
    tensors["model.layers.1.eh_proj.weight"] = ("BF16", [2048, 4096])
    fake_hub.hub.add_model("org/fp8-mtp", config, sha=SHA_1, safetensors=tensors, shards=2)

    stored = await imported_bytes(sessionmaker, fake_hub.url, "org/fp8-mtp")

    bf16_elements = sum(
        math.prod(shape)
        for name, (_, shape) in llama_tensors(config).items()
        if name != f"{q_proj}.weight"
    )
    assert stored == {"BF16": 2 * bf16_elements, "F8_E4M3": 2048 * 2048, "F32": 16 * 16 * 4}


async def test_planning_sizes_weights_from_the_stored_checkpoint(
    sessionmaker: Sessions, llama: FakeHubServer
) -> None:
    """An imported model's answers say their weight figure came from the checkpoint."""
    await imported_bytes(sessionmaker, llama.url, REPO)
    async with sessionmaker() as session:
        model = await resolve_model(session, REPO)
    request = MaxBatchRequest(model=REPO, gpu=H100.id, context_length=4096)

    answer = answer_max_batch(
        model.architecture, model.parameters, H100, request, default_engine_profile()
    )

    assert (model.architecture.checkpoint_bytes, answer.weights_source) == (
        2 * LLAMA_1B_TOTAL,
        "checkpoint",
    )


async def test_inline_configs_size_weights_from_the_config() -> None:
    """Without safetensors headers the weight figure comes from the config's shapes."""
    request = MaxBatchRequest(model=REPO, gpu=H100.id, context_length=4096)
    model = normalise(llama_1b_config(), "inline")

    answer = answer_max_batch(
        model.architecture, model.parameters, H100, request, default_engine_profile()
    )

    assert answer.weights_source == "config"


async def test_latency_answers_name_the_weights_source_too(
    sessionmaker: Sessions, llama: FakeHubServer
) -> None:
    """/v1/latency's answer also says its weights came from the checkpoint."""
    await imported_bytes(sessionmaker, llama.url, REPO)
    async with sessionmaker() as session:
        model = await resolve_model(session, REPO)
    request = LatencyRequest(
        model=REPO, gpu=H100.id, batch_size=1, input_tokens=512, output_tokens=64
    )

    answer = answer_latency(
        model.architecture,
        model.parameters,
        H100,
        request,
        default_engine_profile(),
        default_calibration(),
    )

    assert answer.weights_source == "checkpoint"
