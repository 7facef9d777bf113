"""OpenAPI examples: real requests and capplan's own answers to them.

``openapi_examples/<name>.json`` holds ``{"request": ..., "response": ...}`` as written by
``scripts/openapi_examples.py`` (which runs the app on the shipped catalog); nothing here is
written by hand. Routes attach them with :func:`body` (``operation_class``, the request) and
:func:`answer` (``responses``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example, Operation, RequestBody

_PACKAGE = "service.api.openapi_examples"


@cache
def example(name: str) -> dict[str, Any]:
    """``{"request": ..., "response": ...}`` of the example ``name``."""
    document: dict[str, Any] = json.loads(files(_PACKAGE).joinpath(f"{name}.json").read_text())
    return document


def body(name: str, summary: str) -> type[Operation]:
    """An ``operation_class`` that documents the JSON request body with the example's
    request (on the media type, so the body's schema stays a plain ``$ref``)."""
    value = example(name)["request"]

    @dataclass
    class _WithRequestExample(Operation):
        def __post_init__(self) -> None:
            if isinstance(self.request_body, RequestBody):
                for media in self.request_body.content.values():
                    media.examples = {name: Example(summary=summary, value=value)}

    return _WithRequestExample


def answer(
    container: type[Any], name: str, summary: str, status: int = 200
) -> dict[int, ResponseSpec]:
    """The success response of ``container`` documented with the example's response."""
    spec = ResponseSpec(
        data_container=container,
        description=summary,
        generate_examples=False,
        examples=[Example(summary=summary, value=example(name)["response"])],
    )
    return {status: spec}


def svg(name: str, summary: str) -> dict[int, ResponseSpec]:
    """An ``image/svg+xml`` success response with the example chart."""
    text = files(_PACKAGE).joinpath(f"{name}.svg").read_text()
    spec = ResponseSpec(
        data_container=str,
        media_type="image/svg+xml",
        description=summary,
        generate_examples=False,
        examples=[Example(summary=summary, value=text)],
    )
    return {200: spec}
