"""Block Kit replies to the slash command (pure: data in, JSON-ready dicts out).

Every reply leads with the verdict, carries a plain ``text`` fallback (notifications,
screen readers) and ends with a link back to the API. Answers go ``in_channel``; help,
questions back and errors are ``ephemeral`` (only the caller sees them).
"""

from __future__ import annotations

import math
from typing import Any

from service.contract.schemas import (
    LatencyResponse,
    MaxBatchResponse,
    PlannedConfiguration,
    PlanResponse,
    SloIn,
)
from service.domain.capacity import MemoryBudget
from service.gate.text import gb, tokens

Block = dict[str, Any]
TABLE_ROWS = 5
NOTHING_FITS_HINT = (
    "Try more GPUs (`x8`), fp8 weights or KV cache (`fp8`, `kv fp8`), or a shorter `ctx`."
)


def message(text: str, blocks: list[Block], *, public: bool) -> dict[str, Any]:
    return {
        "response_type": "in_channel" if public else "ephemeral",
        "text": text,
        "blocks": blocks,
    }


def section(markdown: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": markdown[:3000]}}


def fields(pairs: list[tuple[str, str]]) -> Block:
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in pairs[:10]],
    }


def context(markdown: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": markdown}]}


def api_link(base_url: str, endpoint: str) -> Block:
    base = base_url.rstrip("/")
    return context(f"<{base}/schema|capplan API> · same question: `POST {base}{endpoint}`")


def memory_fields(memory: MemoryBudget, setup: str) -> list[Block]:
    """Per-GPU memory of one named setup (a label, then the figures)."""
    return [context(f"Memory per GPU of {setup}:"), _memory(memory)]


def _memory(memory: MemoryBudget) -> Block:
    return fields(
        [
            ("Weights", gb(memory.weights)),
            ("KV cache", gb(memory.kv_cache)),
            ("Activations", gb(memory.activation)),
            ("Runtime", gb(memory.non_torch + memory.cudagraph)),
            ("Usable / total", f"{gb(memory.usable)} / {gb(memory.total)}"),
        ]
    )


def help_message(
    command: str, *, unknown: str | None = None, problem: str | None = None
) -> dict[str, Any]:
    """The grammar, with why it is shown (an unknown action or an unreadable option)."""
    lead = []
    if unknown is not None:
        lead.append(f"I don't know `{unknown}`. Here is what I can do:")
    if problem is not None:
        lead.append(f":warning: {problem}")
    usage = "\n".join(
        [
            f"• `{command} plan llama-3.1-70b on h100 x2 ctx 32k batch 16`: cheapest setups",
            f"• `{command} fit llama-3.1-8b on l4 ctx 8k batch 32`: does vLLM start, how many",
            f"• `{command} latency qwen3-8b on h100-sxm batch 8 in 2k out 512`: TTFT, TPOT",
            "Options, any order: `on <gpu>`, `x2` (GPUs), `ctx`, `batch`, `in`, `out`, "
            "`ttft 500ms`, `tpot 50ms`, `burst` (judge TTFT with all prompts at once), "
            "`kv fp8`, `fp8`/`int4` (weights), "
            "`engine sglang` (or `vllm==0.19.0`, `trtllm`; default: the newest vLLM). "
            "`32k` is 32,768 tokens. Names are matched loosely.",
        ]
    )
    text = "\n".join([*lead, usage])
    return message(text, [section(text)], public=False)


def choose_message(
    kind: str, query: str, candidates: tuple[str, ...], *, ambiguous: bool
) -> dict[str, Any]:
    """A name that matched several catalog entries, or none (with close names, if any)."""
    listed = ", ".join(f"`{c}`" for c in candidates[:8])
    if ambiguous:
        text = f"`{query}` could be several {kind}s: {listed}. Which one?"
    elif candidates:
        text = f"No {kind} in the catalog matches `{query}`. Did you mean {listed}?"
    else:
        text = f"No {kind} in the catalog matches `{query}`."
    return message(text, [section(text)], public=False)


def error_message(text: str) -> dict[str, Any]:
    return message(text, [section(f":warning: {text}")], public=False)


#: What each ``objective`` ranks by, in words.
OBJECTIVES = {
    "cost": "cheapest per million output tokens at this workload ($/Mtok)",
    "latency": "fastest (TTFT, then TPOT)",
    "throughput": "most output tokens per second",
}


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


#: Under the table when a row recommends disaggregated serving.
DISAGGREGATED_LEGEND = (
    "`2p+1d`: disaggregated serving, recommended where separate prefill and decode pools meet "
    "the SLO on fewer GPUs than serving both together (or meet an SLO it misses): 2 prefill + "
    "1 decode instances of TP x PP GPUs; batch is per decode instance, and every figure of the "
    "row is the pools'."
)


def _table(response: PlanResponse) -> str:
    """One row per setup, in the arrangement it recommends (``serving``): GPUs in all (n) =
    TP x PP x replicas (rep), or x (prefill + decode) instances (``2p+1d``) when disaggregated;
    TP marked ``e`` with expert parallelism and ``ed`` with attention data parallelism too;
    batch per replica (per decode instance); $/h for all n GPUs and $/Mtok, the cost of a
    million output tokens at the workload."""
    header = (
        f"{'GPU':<12}{'n':>3}{'TP':>5}{'PP':>3}{'rep':>8}  {'w/kv':<10}{'batch':>6}"
        f"{'TTFT ms':>9}{'TPOT ms':>9}{'$/h':>8}{'$/Mtok':>8}"
    )
    rows = [header]
    for c in response.configurations[:TABLE_ROWS]:
        dtypes = f"{c.weight_dtype}/{c.kv_cache_dtype}"
        tp = f"{c.tensor_parallel}{'e' if c.expert_parallel else ''}"
        tp += "d" if c.attention_data_parallel else ""
        served = c.served()
        pools = c.disaggregated if c.serving == "disaggregated" else None
        copies = (
            f"{pools.prefill_instances}p+{pools.decode_instances}d" if pools else str(c.replicas)
        )
        batch = math.ceil(pools.decode_batch) if pools else c.batch_per_replica
        rows.append(
            f"{c.gpu[:12]:<12}{served.gpu_count:>3}{tp:>5}{c.pipeline_parallel:>3}"
            f"{copies:>8}  {dtypes:<10}{batch:>6}{served.ttft_ms:>9,.0f}"
            f"{served.tpot_ms:>9,.1f}{_money(served.cost_per_hour):>8}"
            f"{_money(served.cost_per_million_output_tokens):>8}"
        )
    return "```\n" + "\n".join(rows) + "\n```"


def setup_label(gpu: str, count: int, tp: int, pp: int, replicas: int, dtypes: str) -> str:
    """``2x h100-sxm (TP2 PP1, 1 replica), bf16/fp8``."""
    plural = "" if replicas == 1 else "s"
    return f"{count}x {gpu} (TP{tp} PP{pp}, {replicas} replica{plural}), {dtypes}"


def recommended_label(c: PlannedConfiguration) -> str:
    """:func:`setup_label` of the arrangement ``c`` recommends; disaggregated:
    ``3x h100-sxm disaggregated (2 prefill + 1 decode instances of TP1 PP1; 4 GPUs
    aggregated), bf16/bf16``."""
    dtypes = f"{c.weight_dtype}/{c.kv_cache_dtype}"
    pools = c.disaggregated
    if c.serving != "disaggregated" or pools is None:
        return setup_label(
            c.gpu, c.gpu_count, c.tensor_parallel, c.pipeline_parallel, c.replicas, dtypes
        )
    return (
        f"{pools.gpu_count}x {c.gpu} disaggregated ({pools.prefill_instances} prefill + "
        f"{pools.decode_instances} decode instances of TP{c.tensor_parallel} "
        f"PP{c.pipeline_parallel}; {c.gpu_count} GPUs aggregated), {dtypes}"
    )


def plan_message(asked: str, response: PlanResponse, base_url: str) -> dict[str, Any]:
    """Verdict, the top configurations as a table, the best one's memory, the API link."""
    found = response.configurations
    meeting = sum(c.served().meets_slo for c in found)
    if found:
        best = found[0]
        label = recommended_label(best)
        ranked = OBJECTIVES.get(response.objective, response.objective)
        verdict = (
            f":white_check_mark: *{len(found)} setups serve {response.model}* ({asked}); "
            f"best, {ranked}: {label}"
        )
        if meeting < len(found):
            verdict += f". {meeting} meet the SLO"
        shown = response.configurations[:TABLE_ROWS]
        legend = (
            [context(DISAGGREGATED_LEGEND)]
            if any(c.serving == "disaggregated" for c in shown)
            else []
        )
        blocks = [
            section(verdict),
            section(_table(response)),
            *legend,
            *memory_fields(best.memory, f"the best setup, {label}"),
        ]
    else:
        reasons = sorted({r.reason for r in response.rejected})[:3]
        verdict = f":x: *Nothing serves {response.model}* ({asked})"
        blocks = [
            section(verdict),
            section("\n".join(f"• {r}" for r in reasons) or "• no GPU to try"),
            context(NOTHING_FITS_HINT),
        ]
    blocks.append(api_link(base_url, "/v1/plan"))
    return message(verdict, blocks, public=True)


def fit_message(
    asked: str, fit: MaxBatchResponse, batch: int | None, base_url: str, setup: str = ""
) -> dict[str, Any]:
    """Does vLLM start (one sequence fits), how many at once, and whether ``batch`` fit."""
    if fit.max_batch >= 1:
        verdict = f":white_check_mark: *Fits*: {asked}: up to {fit.max_batch} sequences at once"
        if batch is not None:
            mark = ":white_check_mark:" if fit.max_batch >= batch else ":warning:"
            verdict += f"; {mark} batch {batch} {'fits' if fit.max_batch >= batch else 'does not'}"
    else:
        verdict = f":x: *Does not fit*: {asked}: {'; '.join(fit.reasons)}"
    longest = f"{tokens(fit.max_context_for_batch_1)} tokens"
    blocks = [
        section(verdict),
        *memory_fields(fit.memory, setup or asked),
        context(f"Longest context for one sequence: {longest} · {fit.weight_dtype} weights, "
                f"{fit.kv_cache_dtype} KV cache · {fit.engine} {fit.engine_version}".rstrip()),
        api_link(base_url, "/v1/max-batch"),
    ]  # fmt: skip
    return message(verdict, blocks, public=True)


def latency_message(
    asked: str, latency: LatencyResponse, slo: SloIn | None, base_url: str
) -> dict[str, Any]:
    """TTFT and TPOT first (against the SLO when one was given; the burst TTFT when it asks
    for burst), then the breakdown."""
    burst = slo is not None and slo.burst
    ttft = ("Burst TTFT", latency.burst_ttft_ms) if burst else ("TTFT", latency.ttft_ms)
    checks = [(*ttft, slo.ttft_ms if slo else None),
              ("TPOT", latency.tpot_ms, slo.tpot_ms if slo else None)]  # fmt: skip
    met = all(limit is None or value <= limit for _, value, limit in checks)
    mark = ":white_check_mark:" if met else ":x:"
    parts = [
        f"{name} {value:,.1f} ms" + (f" (SLO {limit:,.0f})" if limit is not None else "")
        for name, value, limit in checks
    ]
    verdict = f"{mark if slo else ':stopwatch:'} *{' · '.join(parts)}*: {asked}"
    blocks = [
        section(verdict),
        fields(
            [
                ("End to end", f"{latency.e2e_ms:,.0f} ms"),
                ("Output throughput", f"{latency.output_tokens_per_s:,.0f} tokens/s"),
                ("Prefill bound by", latency.prefill_bound),
                ("Decode bound by", latency.decode_bound),
            ]
        ),
        api_link(base_url, "/v1/latency"),
    ]
    return message(verdict, blocks, public=True)


def with_notes(reply: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """``reply`` with what was read differently from what was typed, said right under the
    verdict (``lama -> meta-llama/Llama-3.1-8B``; the default context used)."""
    if not notes:
        return reply
    said = " · ".join(notes)
    blocks = [*reply["blocks"][:1], context(said), *reply["blocks"][1:]]
    return {**reply, "text": f"{reply['text']} ({said})", "blocks": blocks}
