"""The error for a quantisation capplan does not model, and strict readers of config numbers."""

from __future__ import annotations

from service.domain.architecture import UnsupportedArchitecture


class UnsupportedQuantization(UnsupportedArchitecture):
    """A ``quantization_config`` capplan does not model; ``method`` names it (the API
    answers 422 naming the method, never a silent 16-bit guess)."""

    def __init__(self, method: str, detail: str) -> None:
        super().__init__(f"quantization_config.quant_method={method}", detail)
        self.method = method


def config_int(value: object) -> int | None:
    """An integer config value (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def positive_int(value: object, method: str, field: str) -> int:
    """A positive integer, else :class:`UnsupportedQuantization` naming ``field``."""
    number = config_int(value)
    if number is None or number <= 0:
        raise UnsupportedQuantization(method, f"{field} must hold positive integers")
    return number
