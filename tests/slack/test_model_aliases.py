"""Slack answers an alias a catalog model lists as that model, and says so."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.check.catalog import write_catalog
from tests.slack.conftest import Signer
from tests.slack.test_commands import command, notes

pytestmark = pytest.mark.anyio

LLAMA_8B = "meta-llama/Llama-3.1-8B"


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Slack test catalog with ``my-team/llm-small`` as an alias of Llama-3.1-8B."""
    catalog = write_catalog(tmp_path_factory.mktemp("aliased-catalog"))
    path = catalog / "models" / "meta-llama--Llama-3.1-8B.yaml"
    seed = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**seed, "aliases": ["my-team/llm-small"]}), encoding="utf-8")
    return catalog


async def test_alias_is_answered_as_its_model_out_loud(
    client: AsyncTestClient[Litestar], sign: Signer
) -> None:
    """``latency my-team/llm-small on h100-sxm`` answers for Llama-3.1-8B and names both."""
    reply, _ = await command(client, sign, "latency my-team/llm-small on h100-sxm")
    assert f"`my-team/llm-small` → `{LLAMA_8B}` (an alias the catalog lists)" in notes(reply)
