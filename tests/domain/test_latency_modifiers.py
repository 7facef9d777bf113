"""Workload modifiers: prefix-cache hits shorten prefill, speculative decoding shortens TPOT."""

from __future__ import annotations

import pytest

from service.domain.batching import at_concurrency
from service.domain.latency import Efficiency, Serving
from service.domain.modifiers import (
    InvalidModifier,
    Modifiers,
    accepted_tokens_per_step,
    apply,
    check,
)
from service.domain.step_time import StepCosts, step_costs
from tests.domain.reference import H100, arch, params

SHEET = Efficiency(prefill_mfu=0.5, decode_mbu=0.75, step_overhead_ms=0.5)
MODEL = "llama3-8b"
SERVING = Serving(gpu=H100)


def costs(modifiers: Modifiers, isl: int = 4000, osl: int = 300) -> StepCosts:
    plain = step_costs(arch(MODEL), params(MODEL), SERVING, input_tokens=isl, output_tokens=osl)
    return apply(plain, modifiers, arch(MODEL), params(MODEL), SERVING)


@pytest.mark.parametrize(
    ("draft", "alpha", "expected"),
    [(4, 0.0, 1.0), (4, 1.0, 5.0), (4, 0.8, (1 - 0.8**5) / 0.2), (1, 0.5, 1.5)],
    ids=["nothing-accepted", "all-accepted", "k4-a0.8", "k1-a0.5"],
)
def test_tokens_kept_per_step(draft: int, alpha: float, expected: float) -> None:
    """E = (1 − α^(k+1)) / (1 − α) (Leviathan et al. 2023): 3.3616 at k = 4, α = 0.8."""
    assert accepted_tokens_per_step(draft, alpha) == pytest.approx(expected)


def test_a_cached_half_prompt_computes_half_the_matmuls() -> None:
    """With half the prompt cached, the prompt's matmul work halves (it is linear in tokens)
    while its attention keeps more than a quarter (the rest attends to the cached half)."""
    plain, cached = costs(Modifiers()), costs(Modifiers(prefix_cache_hit_rate=0.5))
    assert cached.input_tokens == 2000
    assert cached.prompt.matmul_s == pytest.approx(plain.prompt.matmul_s / 2, rel=1e-9)
    assert cached.prompt.attention_s > plain.prompt.attention_s / 4


@pytest.mark.parametrize("hit_rate", [0.25, 0.5, 0.9], ids=["quarter", "half", "most"])
def test_prefix_hits_shorten_the_time_to_first_token(hit_rate: float) -> None:
    """One user: a cached prefix is not recomputed, so TTFT falls; TPOT does not."""
    plain = at_concurrency(
        costs(Modifiers()), SHEET, chunk_tokens=8192, max_batch=64, concurrency=1
    )
    hit = at_concurrency(
        costs(Modifiers(prefix_cache_hit_rate=hit_rate)),
        SHEET,
        chunk_tokens=8192,
        max_batch=64,
        concurrency=1,
    )
    assert hit.ttft_ms < plain.ttft_ms
    assert hit.tpot_ms == pytest.approx(plain.tpot_ms, rel=0.05)


def test_speculation_divides_the_step_by_the_tokens_kept() -> None:
    """Memory-bound decode at one user: verifying 5 tokens costs about one step, so TPOT
    falls by close to E = 3.36 (k = 4, α = 0.8)."""
    plain = at_concurrency(
        costs(Modifiers()), SHEET, chunk_tokens=8192, max_batch=64, concurrency=1
    )
    spec = at_concurrency(
        costs(Modifiers(draft_tokens=4, acceptance_rate=0.8)),
        SHEET,
        chunk_tokens=8192,
        max_batch=64,
        concurrency=1,
    )
    ratio = plain.tpot_ms / spec.tpot_ms
    assert 0.8 * accepted_tokens_per_step(4, 0.8) < ratio <= accepted_tokens_per_step(4, 0.8)


@pytest.mark.parametrize(
    ("modifiers", "field"),
    [
        (Modifiers(prefix_cache_hit_rate=1.0), "prefix_cache_hit_rate"),
        (Modifiers(prefix_cache_hit_rate=-0.1), "prefix_cache_hit_rate"),
        (Modifiers(draft_tokens=4, acceptance_rate=1.5), "acceptance_rate"),
        (Modifiers(draft_tokens=0, acceptance_rate=0.7), "draft_tokens"),
        (Modifiers(draft_tokens=40, acceptance_rate=0.7), "draft_tokens"),
    ],
    ids=["hit-rate-one", "hit-rate-negative", "acceptance-above-one", "no-draft", "huge-draft"],
)
def test_out_of_range_modifiers_name_their_field(modifiers: Modifiers, field: str) -> None:
    """A modifier out of range raises InvalidModifier naming it."""
    with pytest.raises(InvalidModifier) as raised:
        check(modifiers)
    assert raised.value.field == field
