"""Typed reads from a raw ``config.json`` mapping, with the field named in every error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.domain.architecture import InvalidConfig

_MISSING = object()

#: Largest size a config field may state. No released model comes near: the longest context
#: (Llama 4 Scout, 10,485,760 tokens) and the largest vocabularies (~262k) are far below it,
#: and 2^53-sized fields overflowed the parameter counts the catalog stores.
MAX_CONFIG_INT = 2**24


def read_int(
    config: Mapping[str, Any],
    *keys: str,
    default: int | None = None,
    minimum: int = 1,
    maximum: int = MAX_CONFIG_INT,
) -> int:
    """The first present, non-null key among ``keys`` as an int in ``[minimum, maximum]``."""
    for key in keys:
        value = config.get(key, _MISSING)
        if value is _MISSING or value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidConfig(key, f"expected an integer, got {type(value).__name__}")
        if isinstance(value, float) and not value.is_integer():
            raise InvalidConfig(key, f"expected an integer, got {value}")
        number = int(value)
        if number < minimum:
            raise InvalidConfig(key, f"must be >= {minimum}, got {number}")
        if number > maximum:
            raise InvalidConfig(key, f"must be <= {maximum}, got {number}")
        return number
    if default is None:
        raise InvalidConfig(keys[0], "required field is missing")
    return default


def read_optional_int(config: Mapping[str, Any], *keys: str, minimum: int = 1) -> int | None:
    """Like :func:`read_int` but None when every key is absent or null."""
    if all(config.get(key) is None for key in keys):
        return None
    return read_int(config, *keys, minimum=minimum)


def read_bool(config: Mapping[str, Any], key: str, *, default: bool) -> bool:
    """A boolean flag; null means the family default."""
    value = config.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidConfig(key, f"expected true/false, got {value!r}")
    return value


def read_str(config: Mapping[str, Any], key: str, *, default: str) -> str:
    value = config.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidConfig(key, f"expected a string, got {type(value).__name__}")
    return value


def read_int_list(config: Mapping[str, Any], key: str) -> tuple[int, ...]:
    value = config.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(item, int) and not isinstance(item, bool) for item in value
    ):
        raise InvalidConfig(key, "expected a list of integers")
    return tuple(value)


def read_str_list(config: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidConfig(key, "expected a list of strings")
    return tuple(value)
