"""Names against catalog ids: letter case alone resolves; overlong names are never compared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import pytest

from service.planning.names import (
    LONGEST_NAME,
    alias_target,
    base_of_variant,
    match_gpu,
    match_model,
    same_id,
    suggest_gpus,
    suggest_models,
)

MODELS = ["meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-70B", "Qwen/Qwen3-8B"]
MEGABYTE_NAME = "A" * 2**20


@pytest.mark.parametrize(
    ("query", "ids", "expected"),
    [
        pytest.param("meta-llama/llama-3.1-8b", MODELS, MODELS[0], id="model-lower"),
        pytest.param("META-LLAMA/LLAMA-3.1-70B", MODELS, MODELS[1], id="model-upper"),
        pytest.param("H100-SXM", ["h100-sxm", "h100-pcie"], "h100-sxm", id="gpu"),
        pytest.param("meta-llama/llama3.1-8b", MODELS, None, id="not-just-case"),
        pytest.param("org/m", ["org/M", "Org/m"], None, id="two-spellings"),
    ],
)
def test_same_id_is_the_one_id_spelled_in_other_case(
    query: str, ids: list[str], expected: str | None
) -> None:
    """Hugging Face ids are case-insensitive: one id equal but for case resolves; none or
    several do not."""
    assert same_id(query, ids) == expected


class Untouchable:
    """A catalog (ids, or aliases) that fails the test when read at all."""

    def _touched(self, *_: object) -> NoReturn:
        pytest.fail("an overlong name was compared with the catalog")

    __getitem__ = __len__ = __iter__ = __contains__ = __bool__ = _touched


CATALOG: Any = Untouchable()
NAME_FUNCTIONS: dict[str, tuple[Callable[[str], Any], Any]] = {
    "suggest_models": (lambda name: suggest_models(name, CATALOG, aliases=CATALOG), []),
    "suggest_gpus": (lambda name: suggest_gpus(name, CATALOG), []),
    "match_model": (lambda name: match_model(name, CATALOG).value, None),
    "match_gpu": (lambda name: match_gpu(name, CATALOG).value, None),
    "same_id": (lambda name: same_id(name, CATALOG), None),
    "alias_target": (lambda name: alias_target(name, CATALOG), None),
    "base_of_variant": (lambda name: base_of_variant(name, CATALOG), None),
}


@pytest.mark.parametrize("function", list(NAME_FUNCTIONS), ids=list(NAME_FUNCTIONS))
def test_an_overlong_name_is_never_compared_with_the_catalog(function: str) -> None:
    """A megabyte name matches nothing and gets no suggestions without reading one catalog
    entry (difflib took seconds over it, on the event loop)."""
    call, nothing = NAME_FUNCTIONS[function]
    assert call(MEGABYTE_NAME) == nothing


def test_a_name_as_long_as_the_longest_id_is_still_matched() -> None:
    """The bound is the longest id there may be: a name of that length is compared."""
    longest = "org/" + "m" * (LONGEST_NAME - 4)
    assert suggest_models(longest.upper(), [longest, *MODELS]) == [longest]
