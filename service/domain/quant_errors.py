"""The error for a quantisation capplan does not model, and strict readers of config numbers."""

from __future__ import annotations

import reprlib

from service.domain.architecture import InvalidConfig, UnsupportedArchitecture


class UnsupportedQuantization(UnsupportedArchitecture):
    """A ``quantization_config`` capplan does not model; ``method`` names it (the API
    answers 422 naming the method, never a silent 16-bit guess)."""

    def __init__(self, method: str, detail: str) -> None:
        super().__init__(f"quantization_config.quant_method={method}", detail)
        self.method = method


def config_int(value: object) -> int | None:
    """An integer config value (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def block_shape(value: object, field: str) -> tuple[int, int]:
    """A 2-D scale block ``[rows, cols]`` of positive integers, else :class:`InvalidConfig`
    naming ``field`` (malformed input, a 400: vLLM refuses any other shape too)."""
    if isinstance(value, list | tuple) and len(value) == 2:
        rows, cols = (config_int(number) for number in value)
        if rows is not None and cols is not None and rows > 0 and cols > 0:
            return rows, cols
    raise InvalidConfig(field, f"expected [rows, cols], two positive integers, got {_short(value)}")


def _short(value: object) -> str:
    """``value`` quoted, shortened when long (a hostile config may hold a huge list)."""
    return reprlib.repr(value)
