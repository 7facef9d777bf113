"""Strict JSON request bodies, as the OpenAPI documents them.

Litestar 2 converts a decoded body into the handler's struct with msgspec's *lax* rules and
ignores fields the struct does not define, so ``"verified": 0`` became ``false``, a
``text/plain`` body was parsed as JSON and ``"max_model_lenght"`` was silently dropped. This
``before_request`` hook (guards have already run, so 401/403 still come first) refuses, as
problem+json:

* a media type other than ``application/json`` (or ``+json``): 415;
* a body that is not UTF-8, not JSON, or nested deeper than :data:`MAX_DEPTH`: 400;
* a field the schema does not define, at any depth: 400 naming it (``errors[].key``);
* a value the strict schema refuses: 400 naming the field. Integral floats (``8.0``) still
  count as integers, as they do in JSON Schema. A bad value of an object keyed by id (msgspec
  says ``prices[...]``) is named by its key: ``prices.h100-sxm``.

The size limit comes first (Litestar's ``request_max_body_size``, 413). ``Infinity`` and
``NaN``, which Python writes into published ``config.json`` files, are read as numbers; the
decoded document is handed to Litestar so the body is parsed once more at most.
"""

from __future__ import annotations

import functools
import json
import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.utils.scope.state import ScopeState

from service.api.problems import Problem, msgspec_error
from service.planning.errors import quoted

#: Deepest nesting accepted: far beyond any schema here (an inline config.json nests ~4 levels).
MAX_DEPTH = 64
_NON_FINITE = (b"Infinity", b"NaN")


class _TooDeep(Exception):
    pass


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    """400/415 unless the body is JSON that decodes into the handler's ``data`` type as is."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return
    body = await request.body()
    if not body:
        return  # Litestar answers a missing body itself (400)
    _check_media_type(request.headers.get("content-type", ""))
    document = _decode(body)
    try:
        document_as_schema = _integral_floats_as_ints(document, 0)
    except _TooDeep:
        raise _invalid(f"the request body is nested deeper than {MAX_DEPTH} levels") from None
    try:
        msgspec.convert(document_as_schema, data.annotation, strict=True)
    except msgspec.ValidationError as exc:
        message, key = msgspec_error(str(exc), "body")
        key = _dict_key(key, document_as_schema, data.annotation)
        raise ValidationException(
            detail=f"Validation failed for {request.method} {request.url.path}",
            extra=[{"message": message, "key": key, "source": "body"}],
        ) from exc
    # An empty key is a field name too: compare with None, never on truthiness.
    if (unknown := _unknown_field(document, _type_info(data.annotation), "")) is not None:
        raise ValidationException(
            detail=f"unknown field '{unknown}': this request has no such field",
            extra=[{"message": "unknown field", "key": unknown, "source": "body"}],
        )
    ScopeState.from_scope(request.scope).json = document


def _check_media_type(content_type: str) -> None:
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise Problem(
            415, f"send the body as application/json (got {media_type or 'no Content-Type'})"
        )


def _decode(body: bytes) -> Any:
    """The JSON document; ``Infinity``/``NaN`` allowed, any other deviation a 400."""
    try:
        return msgspec.json.decode(body)
    except UnicodeDecodeError as exc:
        raise _invalid(f"the request body is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except RecursionError:
        raise _invalid(f"the request body is nested deeper than {MAX_DEPTH} levels") from None
    except msgspec.DecodeError as exc:
        if not any(constant in body for constant in _NON_FINITE):
            raise _invalid("the request body is not valid JSON", str(exc)) from exc
    try:
        return json.loads(body.decode("utf-8"))
    except RecursionError:
        raise _invalid(f"the request body is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        raise _invalid("the request body is not valid JSON", str(exc)) from exc


def _invalid(detail: str, message: str | None = None) -> ValidationException:
    return ValidationException(
        detail=detail, extra=[{"message": message or detail, "key": "body", "source": "body"}]
    )


def _integral_floats_as_ints(value: Any, depth: int) -> Any:
    """``8.0`` as ``8`` (JSON Schema's ``integer``); :class:`_TooDeep` past :data:`MAX_DEPTH`."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            raise _TooDeep
        if isinstance(value, dict):
            return {key: _integral_floats_as_ints(item, depth + 1) for key, item in value.items()}
        return [_integral_floats_as_ints(item, depth + 1) for item in value]
    return value


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _dict_key(key: str, document: Any, annotation: Any) -> str:
    """``key`` with msgspec's ``[...]`` (a bad value of a dict, whose key it does not say)
    replaced by that key: the first entry whose value the dict's value type refuses, as
    msgspec checks them in order. ``prices[...]`` -> ``prices.h100-sxm``."""
    head, found, tail = key.partition("[...]")
    if not found:
        return key
    value, kind = document, annotation
    for name, index in _STEP.findall(head):
        kind = _arm(kind, value)
        if name and isinstance(value, dict) and _is_struct(kind) and name in value:
            fields = {field.encode_name: field.type for field in msgspec.structs.fields(kind)}
            value, kind = value[name], fields.get(name)
        elif index and isinstance(value, list) and int(index) < len(value):
            value, kind = value[int(index)], _only_arg(kind, list)
        else:
            return key
    value_type = _only_arg(_arm(kind, value), dict)
    if not isinstance(value, dict) or value_type is None:
        return key
    for entry, item in value.items():
        try:
            msgspec.convert(item, value_type, strict=True)
        except msgspec.ValidationError:
            named = quoted(str(entry))
            return f"{head}.{named}{tail}" if head else f"{named}{tail}"
    return key


def _arm(annotation: Any, value: Any) -> Any:
    """``annotation`` without ``Annotated``; of a union, the arm a value like ``value`` takes
    (an object: a struct or dict; an array: a list)."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) not in (Union, types.UnionType):
        return annotation
    for arm in (_arm(each, value) for each in get_args(annotation)):
        if isinstance(value, dict) and (_is_struct(arm) or get_origin(arm) is dict):
            return arm
        if isinstance(value, list) and get_origin(arm) is list:
            return arm
    return None


def _is_struct(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)


def _only_arg(annotation: Any, origin: type) -> Any:
    """The item type of ``list[X]`` or the value type of ``dict[K, X]``; None for another."""
    return get_args(annotation)[-1] if get_origin(annotation) is origin else None


@functools.cache
def _type_info(annotation: Any) -> msgspec.inspect.Type:
    return msgspec.inspect.type_info(annotation)


def _unwrap(kind: msgspec.inspect.Type) -> msgspec.inspect.Type:
    while isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    return kind


def _unknown_field(value: Any, kind: msgspec.inspect.Type, path: str) -> str | None:
    """The path of the first object member ``kind`` does not define, or None."""
    kind = _unwrap(kind)
    if isinstance(kind, msgspec.inspect.StructType) and isinstance(value, dict):
        fields = {field.encode_name: field.type for field in kind.fields}
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in fields:
                return where
            if (found := _unknown_field(item, fields[key], where)) is not None:
                return found
    elif isinstance(kind, msgspec.inspect.UnionType) and isinstance(value, dict):
        for arm in map(_unwrap, kind.types):
            if isinstance(arm, msgspec.inspect.StructType | msgspec.inspect.DictType):
                return _unknown_field(value, arm, path)
    elif isinstance(kind, msgspec.inspect.UnionType) and isinstance(value, list):
        for arm in map(_unwrap, kind.types):
            if isinstance(arm, msgspec.inspect.ListType):
                return _unknown_field(value, arm, path)
    elif isinstance(kind, msgspec.inspect.ListType) and isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _unknown_field(item, kind.item_type, f"{path}[{index}]")) is not None:
                return found
    elif isinstance(kind, msgspec.inspect.DictType) and isinstance(value, dict):
        for key, item in value.items():
            if (found := _unknown_field(item, kind.value_type, f"{path}.{key}")) is not None:
                return found
    return None
