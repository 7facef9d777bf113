"""``vllm serve --limit-mm-per-prompt``: read as the ``mm_items_per_prompt`` engine knob."""

from __future__ import annotations

import pytest

from service.gate.engine_flags import mm_items
from service.gate.target import InputError
from service.gate.vllm_args import parse_vllm_serve


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('{"image": 2, "audio": 0}', 2),
        ('{"image": 0, "video": 0}', 0),
        ('{"image": 0}', None),
        ('{"image": 1, "video": 3}', 3),
        ('{"image": {"count": 4, "width": 512, "height": 512}}', 4),
        ("image=16,video=2", 16),
        ("image=0,video=0", 0),
    ],
    ids=[
        "json",
        "json-text-only",
        "image-only-zero-is-the-default",
        "json-largest-modality",
        "json-count-object",
        "legacy",
        "legacy-text-only",
    ],
)
def test_the_largest_modality_limit_is_the_item_count(value: str, expected: int | None) -> None:
    """JSON or the older key=value form; image and video both 0 is text-only, image 0 alone
    leaves the video path (and the tower) to vLLM's default."""
    assert mm_items(value) == expected


def test_the_flag_becomes_the_engine_knob() -> None:
    """The knob travels with the command's engine options to the API's field."""
    argv = ["vllm", "serve", "org/m", "--limit-mm-per-prompt", '{"image": 0, "video": 0}']
    assert parse_vllm_serve(argv).options == {"mm_items_per_prompt": 0}


@pytest.mark.parametrize(
    "value",
    ['{"image": -1}', '{"image": 1.5}', "[1, 2]", "image", "{}"],
    ids=["negative", "fraction", "list", "no-count", "empty"],
)
def test_an_unreadable_limit_is_an_error_naming_the_flag(value: str) -> None:
    """vLLM would refuse it too: the gate stops with the flag named."""
    argv = ["vllm", "serve", "org/m", f"--limit-mm-per-prompt={value}"]
    with pytest.raises(InputError) as raised:
        parse_vllm_serve(argv)
    assert "--limit-mm-per-prompt" in str(raised.value)
