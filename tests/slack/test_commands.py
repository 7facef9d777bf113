"""Signed slash commands against the app: answers, help, questions back, all within 3 s."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.slack.conftest import COMMANDS, Signer, form

pytestmark = pytest.mark.anyio


async def command(
    client: AsyncTestClient[Litestar], sign: Signer, text: str
) -> tuple[dict[str, Any], float]:
    """POST a signed command; the JSON reply and the seconds it took."""
    body = form(text)
    started = time.perf_counter()
    response = await client.post(COMMANDS, content=body, headers=sign(body))
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    reply: dict[str, Any] = response.json()
    return reply, elapsed


def verdict(reply: dict[str, Any]) -> str:
    text: str = reply["blocks"][0]["text"]["text"]
    return text


async def test_issue_example_answers_in_channel_within_slacks_limit(
    client: AsyncTestClient[Litestar], sign: Signer
) -> None:
    """70B, 16 x 32k on two H100s: no setup holds it (bf16), said first, in under 3 s."""
    reply, elapsed = await command(client, sign, "plan llama-3.1-70b on h100 x2 ctx 32k batch 16")
    assert elapsed < 3.0
    assert reply["response_type"] == "in_channel"
    assert verdict(reply).startswith(
        ":x: *Nothing serves meta-llama/Llama-3.1-70B* (32,256 in / 512 out, 16 at once, "
        "on h100-nvl, h100-pcie, h100-sxm, up to 2 GPUs)"
    )


async def test_plan_answers_with_a_table_of_setups(
    client: AsyncTestClient[Litestar], sign: Signer
) -> None:
    """With up to eight H100s there are setups: verdict, table, memory, API link."""
    reply, _ = await command(client, sign, "plan llama-3.1-70b on h100 x8 ctx 32k batch 16")
    assert verdict(reply).startswith(":white_check_mark: *")
    table = next(
        b["text"]["text"] for b in reply["blocks"] if "```" in b.get("text", {}).get("text", "")
    )
    assert "h100-" in table
    assert "http://testserver.local/schema" in reply["blocks"][-1]["elements"][0]["text"]


async def test_fit_of_a_model_too_big(client: AsyncTestClient[Litestar], sign: Signer) -> None:
    """70B in bf16 on one L4 does not fit, and the reply says so first."""
    reply, _ = await command(client, sign, "fit Llama 3.1 70B on l4 ctx 8k")
    assert verdict(reply).startswith(":x: *Does not fit*: meta-llama/Llama-3.1-70B on 1x NVIDIA L4")


async def test_latency_reply(client: AsyncTestClient[Litestar], sign: Signer) -> None:
    """Latency leads with TTFT and TPOT."""
    reply, _ = await command(client, sign, "latency llama-3.1-8b on h100-sxm batch 8 tpot 50ms")
    assert verdict(reply).startswith(":white_check_mark: *TTFT")


async def test_unknown_command_gets_ephemeral_help(
    client: AsyncTestClient[Litestar], sign: Signer
) -> None:
    """An action we do not have gets the help text, for the caller only."""
    reply, _ = await command(client, sign, "deploy llama to prod")
    assert reply["response_type"] == "ephemeral"
    assert verdict(reply).startswith("I don't know `deploy`")


async def test_ambiguous_model_asks_which(client: AsyncTestClient[Litestar], sign: Signer) -> None:
    """``qwen`` names several catalog models; the reply lists them."""
    reply, _ = await command(client, sign, "fit qwen on l4")
    assert reply["response_type"] == "ephemeral"
    assert "could be several models" in reply["text"]
    assert "`Qwen/Qwen2-7B`" in reply["text"]


async def test_unknown_model_offers_close_names(
    client: AsyncTestClient[Litestar], sign: Signer
) -> None:
    """A model not in the catalog gets "did you mean", not a guess."""
    reply, _ = await command(client, sign, "fit mistral-7b-v0.2 on l4")
    assert reply["text"].startswith(
        "No model in the catalog matches `mistral-7b-v0.2`. Did you mean"
    )
    assert "`mistralai/Mistral-7B-v0.1`" in reply["text"]


async def test_fit_without_a_gpu_asks_for_one(
    client: AsyncTestClient[Litestar], sign: Signer
) -> None:
    """``fit`` needs to know the GPU."""
    reply, _ = await command(client, sign, "fit llama-3.1-8b")
    assert reply["response_type"] == "ephemeral"
    assert "needs a GPU" in reply["text"]


async def test_ambiguous_gpu_for_fit_asks_which(
    client: AsyncTestClient[Litestar], sign: Signer
) -> None:
    """``h100`` is three GPUs; a single-GPU question asks which."""
    reply, _ = await command(client, sign, "fit llama-3.1-8b on h100")
    assert "could be several GPUs" in reply["text"]


async def test_unreadable_option_explains_and_shows_help(
    client: AsyncTestClient[Litestar], sign: Signer
) -> None:
    """A bad option gets the reason and the help, ephemerally."""
    reply, _ = await command(client, sign, "fit llama-3.1-8b on l4 ctx lots")
    assert reply["response_type"] == "ephemeral"
    assert "'lots' is not a token count" in reply["text"]


def notes(reply: dict[str, Any]) -> str:
    """The context line under the verdict (what was read differently, defaults used)."""
    block = reply["blocks"][1]
    assert block["type"] == "context"
    text: str = block["elements"][0]["text"]
    return text


async def test_fit_without_ctx_uses_8k_and_says_so(
    client: AsyncTestClient[Litestar], sign: Signer
) -> None:
    """``fit llama-3.1-8b on l4`` checks 8,192 tokens, not the model's 131k, and says it."""
    reply, _ = await command(client, sign, "fit llama-3.1-8b on l4")
    assert "8,192 tokens" in verdict(reply)
    assert "no `ctx` given" in notes(reply)


async def test_loose_names_are_corrected_out_loud(
    client: AsyncTestClient[Litestar], sign: Signer
) -> None:
    """``llama 3.1 8b`` is read as the catalog id, and the reply says so."""
    reply, _ = await command(client, sign, "latency llama 3.1 8b on h100-sxm")
    assert "`llama 3.1 8b` → `meta-llama/Llama-3.1-8B`" in notes(reply)


async def test_instruct_variant_is_answered_as_its_base(
    client: AsyncTestClient[Litestar], sign: Signer
) -> None:
    """An Instruct name is answered for its base model, and the reply says which."""
    reply, _ = await command(client, sign, "latency Meta-Llama-3.1-8B-Instruct on h100-sxm")
    assert "`meta-llama/Llama-3.1-8B`" in notes(reply)
