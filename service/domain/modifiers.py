"""Workload modifiers: prefix-cache hits and speculative decoding, applied to a step's costs.

**Prefix cache.** A share ``h`` of each prompt is already in the KV cache (vLLM automatic
prefix caching, SGLang RadixAttention): only the last ``S − hS`` tokens are computed, and
they still attend to the whole prompt, so the prompt's attention is the causal sum from
``hS + 1`` to ``S``::

    F_prompt = F_prefill(S) − F_prefill(hS)       (matmuls linear, attention Σ_{i>hS} i)

The KV cache still holds all ``S`` tokens per sequence (shared blocks are not credited).

**Speculative decoding** (Leviathan et al. 2023, "Fast Inference from Transformers via
Speculative Decoding", eq. 1): a draft of ``k`` tokens is verified in one target step of
``k + 1`` tokens per sequence; with per-token acceptance rate ``α`` the step keeps on
average ``E = (1 − α^(k+1)) / (1 − α)`` tokens (``k + 1`` at ``α = 1``), so
``TPOT = (t_step(k + 1 tokens per sequence) + t_draft) / E``, where ``t_draft`` is the
proposer's ``k`` forward passes (a draft model or the checkpoint's MTP layer; nothing for
``ngram`` prompt lookup): :mod:`service.domain.modifiers_draft`, which also states the
proposer's memory.
"""

from __future__ import annotations

import msgspec

from service.domain.architecture import Architecture
from service.domain.latency import PhaseTerms, Serving, prefill_terms
from service.domain.modifiers_draft import (
    DraftMemory,
    DraftModel,
    DraftProblem,
    SpeculativeMethod,
    check_draft,
    draft_costs,
    draft_memory,
    fold,
)
from service.domain.parameters import ParameterCount
from service.domain.step_time import StepCosts

MAX_DRAFT_TOKENS = 16


class Modifiers(msgspec.Struct, frozen=True, kw_only=True):
    """Optional workload modifiers (module doc); the defaults change nothing."""

    prefix_cache_hit_rate: float = 0.0
    draft_tokens: int = 0
    acceptance_rate: float = 0.0
    method: SpeculativeMethod = SpeculativeMethod.NGRAM
    draft: DraftModel | None = None

    @property
    def speculative(self) -> bool:
        """Whether speculative decoding is on (a draft length and an acceptance rate)."""
        return self.draft_tokens > 0 and self.acceptance_rate > 0


class InvalidModifier(ValueError):
    """A modifier out of range; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def check(modifiers: Modifiers) -> None:
    """Raise :class:`InvalidModifier` for a hit rate outside [0, 1), an acceptance rate
    outside [0, 1], or a draft length outside 1 … 16 when speculative decoding is asked."""
    if not 0 <= modifiers.prefix_cache_hit_rate < 1:
        raise InvalidModifier("prefix_cache_hit_rate", "must be >= 0 and < 1")
    if not 0 <= modifiers.acceptance_rate <= 1:
        raise InvalidModifier("acceptance_rate", "must be between 0 and 1")
    if modifiers.acceptance_rate > 0 and not 1 <= modifiers.draft_tokens <= MAX_DRAFT_TOKENS:
        raise InvalidModifier("draft_tokens", f"must be 1 to {MAX_DRAFT_TOKENS}")
    if not 0 <= modifiers.draft_tokens <= MAX_DRAFT_TOKENS:
        raise InvalidModifier("draft_tokens", f"must be 0 to {MAX_DRAFT_TOKENS}")


def accepted_tokens_per_step(draft_tokens: int, acceptance_rate: float) -> float:
    """``E = (1 − α^(k+1)) / (1 − α)``: tokens a verification step keeps on average."""
    if acceptance_rate >= 1:
        return float(draft_tokens + 1)
    return (1 - acceptance_rate ** (draft_tokens + 1)) / (1 - acceptance_rate)


def _minus(whole: PhaseTerms, cached: PhaseTerms) -> PhaseTerms:
    return msgspec.structs.replace(
        whole,
        matmul_s=whole.matmul_s - cached.matmul_s,
        kv_s=whole.kv_s - cached.kv_s,
        routing_s=whole.routing_s - cached.routing_s,
        attention_s=whole.attention_s - cached.attention_s,
        communication_s=whole.communication_s - cached.communication_s,
    )


def apply(
    costs: StepCosts,
    modifiers: Modifiers,
    arch: Architecture,
    params: ParameterCount,
    serving: Serving,
) -> StepCosts:
    """``costs`` with the cached prefix left out of the prompt and speculative steps (the
    proposer's passes folded in); :class:`InvalidModifier` when the proposer cannot run."""
    check(modifiers)
    if modifiers.speculative:
        try:
            check_draft(arch, modifiers.method, modifiers.draft)
        except DraftProblem as exc:
            raise InvalidModifier(exc.field, str(exc).partition(": ")[2]) from exc
    out = costs
    cached = int(modifiers.prefix_cache_hit_rate * costs.input_tokens)
    if cached > 0:
        prefix = prefill_terms(arch, params, serving, prompts=1, tokens=cached)
        out = msgspec.structs.replace(
            out, prompt=_minus(costs.prompt, prefix), input_tokens=costs.input_tokens - cached
        )
    if modifiers.speculative:
        out = msgspec.structs.replace(
            out,
            verify_tokens=modifiers.draft_tokens + 1,
            tokens_per_step=accepted_tokens_per_step(
                modifiers.draft_tokens, modifiers.acceptance_rate
            ),
        )
        proposer = draft_costs(
            arch,
            serving,
            modifiers.method,
            modifiers.draft,
            input_tokens=out.input_tokens,
            context=costs.input_tokens + costs.output_tokens // 2,
        )
        if proposer is not None:
            out = fold(out, proposer, modifiers.draft_tokens)
    return out


def proposer_memory(
    modifiers: Modifiers,
    arch: Architecture,
    params: ParameterCount,
    serving: Serving,
    *,
    mtp_shares_lm_head: bool,
) -> DraftMemory:
    """The speculative proposer's weights and KV per token on one GPU (none without one);
    ``mtp_shares_lm_head`` is the engine profile's (an MTP head copy stays without it)."""
    if not modifiers.speculative:
        return DraftMemory(weight_bytes=0, kv_bytes_per_token=0)
    return draft_memory(
        arch,
        params,
        serving,
        modifiers.method,
        modifiers.draft,
        mtp_shares_lm_head=mtp_shares_lm_head,
    )
