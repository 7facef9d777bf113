"""msgspec validation messages as an error's (message, key): one reader for the strict body
decoder (key ``body`` for the whole) and GET /v1/frontier.svg's query (key ``query``)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest

from service.api.problems import msgspec_error


class Workload(msgspec.Struct):
    input_tokens: int


class Question(msgspec.Struct):
    model: str
    workload: Workload | None = None
    gpus: list[int] = []


class Priced(msgspec.Struct):
    prices: dict[Annotated[str, msgspec.Meta(max_length=2)], int]


def refusal(value: Any, kind: Any = Question) -> str:
    """msgspec's own message for converting ``value`` to ``kind``."""
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert(value, kind, strict=True)
    return str(caught.value)


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ({"model": 8}, Question, ("Expected `str`, got `int`", "model")),
        (
            {"model": "m", "workload": {"input_tokens": "x"}},
            Question,
            ("Expected `int`, got `str`", "workload.input_tokens"),
        ),
        ({"model": "m", "gpus": [1, "x"]}, Question, ("Expected `int`, got `str`", "gpus[1]")),
        (["x"], list[int], ("Expected `int`, got `str`", "[0]")),
        ({}, Question, ("Object missing required field `model`", "body")),
        ("x", Question, ("Expected `object`, got `str`", "body")),
    ],
    ids=["field", "nested-field", "list-item", "top-level-item", "missing-field", "whole"],
)
def test_message_and_key_come_from_the_location(
    value: Any, kind: Any, expected: tuple[str, str]
) -> None:
    """The text before " - at `$…`" is the message, the path after it the key; no path: whole."""
    assert msgspec_error(refusal(value, kind), "body") == expected


def test_a_message_without_a_location_is_keyed_by_the_caller() -> None:
    """The key for the input as a whole is the caller's (the query's, for the SVG)."""
    assert msgspec_error("Object missing required field `gpu`", "query") == (
        "Object missing required field `gpu`",
        "query",
    )


def test_a_refused_key_is_keyed_by_its_object() -> None:
    """msgspec's "- at `key` in `$.prices`" is keyed by the object, the message saying a key."""
    assert msgspec_error(refusal({"prices": {"abc": 1}}, Priced), "body") == (
        "Expected `str` of length <= 2 (a key)",
        "prices",
    )
