"""``engine sglang``: the slash command answers with the engine it names, and says so."""

from __future__ import annotations

import json

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.slack.grammar import ParseError, Query, parse
from tests.slack.conftest import Signer
from tests.slack.test_commands import command

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("text", "engine"),
    [
        ("fit llama-3.1-8b on h100-sxm engine sglang", "sglang"),
        ("fit llama-3.1-8b engine SGLang on h100-sxm", "sglang"),
        ("plan llama-3.1-8b engine vllm==0.19.0 ctx 32k", "vllm==0.19.0"),
        ("latency qwen3-8b on h100-sxm engine trtllm batch 8", "trtllm"),
        ("fit llama-3.1-8b on h100-sxm", None),
    ],
    ids=["after-gpu", "before-gpu-any-case", "pinned", "latency", "absent"],
)
def test_engine_is_an_option(text: str, engine: str | None) -> None:
    """``engine X`` in any position sets the query's engine, lower-cased; absent: None."""
    query = parse(text)
    assert isinstance(query, Query)
    assert query.engine == engine
    assert query.model.startswith(("llama-3.1-8b", "qwen3-8b"))


@pytest.mark.parametrize(
    "text",
    ["fit llama on h100 engine", "fit llama on h100 engine vllm;rm", "fit llama engine 0.19"],
    ids=["missing", "odd-characters", "version-alone"],
)
def test_an_unreadable_engine_is_a_parse_error(text: str) -> None:
    """No value, or one that is not an engine name, is said back as a problem."""
    with pytest.raises(ParseError):
        parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "fit llama-3.1-8b on h100-sxm engine sglang",
        "latency llama-3.1-8b on h100-sxm batch 4 engine sglang",
        "plan llama-3.1-8b on h100-sxm x1 engine sglang",
    ],
    ids=["fit", "latency", "plan"],
)
async def test_the_reply_echoes_the_engine_it_used(
    client: AsyncTestClient[Litestar], sign: Signer, text: str
) -> None:
    """Every action answers with SGLang's newest profile and names it in the reply."""
    reply, _ = await command(client, sign, text)
    assert "sglang 0.5.3" in json.dumps(reply)


async def test_an_unknown_engine_lists_the_known_ones(
    client: AsyncTestClient[Litestar], sign: Signer
) -> None:
    """``engine tgi``: refused with the engines the catalog has, nothing computed."""
    reply, _ = await command(client, sign, "fit llama-3.1-8b on h100-sxm engine tgi")
    text = json.dumps(reply)
    assert "unknown engine 'tgi'" in text
    assert "sglang" in text
    assert "vllm==0.19.0" in text
