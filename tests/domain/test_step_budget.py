"""The tokens one scheduler step carries: the deployment's max_num_batched_tokens, else the
engine's default for the GPU."""

from __future__ import annotations

import pytest

from service.domain.engines.profile import EngineProfile
from service.domain.serving import step_token_budget
from tests.domain.reference import H100
from tests.domain.test_planner import VLLM_V0


@pytest.mark.parametrize(
    ("kind", "prompt_tokens", "requested", "budget"),
    [
        ("vllm-v1", 16_000, 16_384, 16_384),
        ("sglang", 16_000, 4_096, 4_096),
        ("trtllm", 1_000, 2_048, 2_048),
        ("vllm-v0", 16_000, 8_192, 16_000),
        ("vllm-v0", 1_000, 8_192, 8_192),
    ],
    ids=["vllm-v1", "sglang", "trtllm", "v0-whole-prompt", "v0-wider-than-prompt"],
)
def test_the_requested_budget_is_the_step(
    kind: str, prompt_tokens: int, requested: int, budget: int
) -> None:
    """A set budget is the step (vLLM V0 without chunked prefill still takes a whole prompt)."""
    profile = EngineProfile(**{**_fields(VLLM_V0), "kind": kind})
    assert step_token_budget(profile, prompt_tokens, H100, requested) == budget


def _fields(profile: EngineProfile) -> dict[str, object]:
    return {name: getattr(profile, name) for name in profile.__struct_fields__}
