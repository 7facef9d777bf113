"""Refused imports, counted per model family and missing feature, for the sweep report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from service.hub.client import HfHubClient
from service.hub.models import HubModelInfo
from service.importer.errors import ImportFailed
from service.importer.refusals import refusals_by_family
from service.importer.sweep import sweep
from service.importer.values import catalog_values
from service.importer.worker import ImportWorker
from tests.fakehub import FakeHubServer
from tests.importer.conftest import Clock, Sessions
from tests.importer.models import MAMBA_CONFIG, SHA_1, llama_1b_config

ZAMBA2 = {**llama_1b_config(), "model_type": "zamba2"}
NEW_FAMILY = {**llama_1b_config(), "model_type": "brand_new", "num_experts": 64}


def _refusal(config: dict[str, Any]) -> str:
    info = HubModelInfo(
        repo_id="org/x",
        sha=SHA_1,
        gated=False,
        created_at=None,
        safetensors_parameters=None,
        safetensors_total=None,
        pipeline_tag="text-generation",
        library_name="transformers",
    )
    with pytest.raises(ImportFailed) as raised:
        catalog_values(info, config, None)
    return str(raised.value)


def test_refusals_are_grouped_by_family_and_feature() -> None:
    """Two Mamba repos and one unknown family: two groups, the feature named in each."""
    errors = [_refusal(MAMBA_CONFIG), _refusal(MAMBA_CONFIG), _refusal(NEW_FAMILY)]
    grouped = refusals_by_family(errors)
    assert grouped[("mamba", "state-space (Mamba) layers")] == 2
    assert grouped[("brand_new", "model_type 'brand_new'")] == 1


def test_other_failures_are_not_refusals() -> None:
    """Network errors and malformed configs are failures, not architecture refusals."""
    assert refusals_by_family(["org/x: Hub timed out", None, "config.json is unreadable"]) == {}


@pytest.mark.anyio
async def test_sweep_reports_refusals_since_the_last_run(
    fake_hub: FakeHubServer, sessionmaker: Sessions, worker: ImportWorker, clock: Clock
) -> None:
    """A Zamba2 repo queued by one sweep and refused by the worker shows in the next report."""
    fake_hub.hub.add_model("org/zamba2", ZAMBA2, created_at=datetime(2025, 6, 1, tzinfo=UTC))
    client = HfHubClient(fake_hub.url, token=None, timeout_s=5.0)
    await sweep(sessionmaker, client, ("org",), limit=50, max_attempts=1, clock=clock)
    await worker.drain()

    report = await sweep(sessionmaker, client, ("org",), limit=50, max_attempts=1, clock=clock)

    assert report.refused == {("zamba2", "hybrid Mamba/attention layers"): 1}
    assert "refused 1 import(s) of model_type 'zamba2'" in str(report)
