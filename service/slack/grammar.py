"""The slash command's text grammar, read forgivingly into a :class:`Query` (pure).

``plan llama-3.1-70b on h100 x2 ctx 32k batch 16 engine sglang``: an action, the model's
name (any number of words), then options in any order. Token counts take ``k``/``m`` suffixes in
binary units (``32k`` = 32,768, as in "a 128k context"); times take ``ms`` or ``s``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

import msgspec

Action = Literal["plan", "fit", "latency"]

ACTIONS: dict[str, Action] = {
    "plan": "plan", "fit": "fit", "fits": "fit", "max-batch": "fit", "capacity": "fit",
    "latency": "latency", "lat": "latency", "speed": "latency",
}  # fmt: skip
HELP_WORDS = frozenset({"", "help", "?", "-h", "--help", "usage"})
WEIGHT_WORDS = {"fp8": "fp8", "int8": "int8", "int4": "int4", "awq": "int4", "gptq": "int4",
                "mxfp4": "mxfp4", "bf16": "bf16", "fp16": "fp16", "fp32": "fp32"}  # fmt: skip
KV_WORDS = {"fp8": "fp8", "bf16": "bf16", "fp16": "fp16", "auto": "auto"}

MAX_TOKENS = 10_000_000
MAX_BATCH = 65_536
MAX_GPUS = 64


class Query(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed command; ``None`` means "use the default" (see :mod:`service.slack.answer`)."""

    action: Action
    model: str
    gpu: str | None = None
    gpu_count: int | None = None
    context: int | None = None
    batch: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    ttft_ms: float | None = None
    tpot_ms: float | None = None
    burst: bool = False
    weight_dtype: str | None = None
    kv_cache_dtype: str | None = None
    engine: str | None = None


class Help(msgspec.Struct, frozen=True, kw_only=True):
    """Show the help; ``unknown`` is the word that was not understood, if any."""

    unknown: str | None = None


class ParseError(ValueError):
    """The action was understood but an option was not; the message says which."""


_TOKENS = re.compile(r"(?P<number>\d+(?:\.\d+)?)(?P<unit>[km]?)", re.IGNORECASE)
_TIME = re.compile(r"(?P<number>\d+(?:\.\d+)?)(?P<unit>ms|s)?", re.IGNORECASE)
_COUNT_BEFORE = re.compile(r"(?P<count>\d+)\s*[x×](?P<rest>.*)", re.IGNORECASE)
_COUNT_AFTER = re.compile(r"(?P<rest>.+?)[x×](?P<count>\d{1,2})", re.IGNORECASE)
_COUNT_ALONE = re.compile(r"[x×](?P<count>\d+)", re.IGNORECASE)


def _bounded(value: int, limit: int, what: str) -> int:
    if not 1 <= value <= limit:
        raise ParseError(f"{what} must be between 1 and {limit:,}, got {value:,}")
    return value


def parse_tokens(text: str, limit: int = MAX_TOKENS) -> int:
    """``8192``, ``8,192``, ``32k`` (32,768), ``1.5k``, ``1m``."""
    match = _TOKENS.fullmatch(text.replace(",", "").replace("_", ""))
    if match is None:
        raise ParseError(f"'{text}' is not a token count (try 8192 or 32k)")
    scale = {"": 1, "k": 1024, "m": 1024**2}[match["unit"].lower()]
    return _bounded(int(float(match["number"]) * scale), limit, "a token count")


def parse_milliseconds(text: str) -> float:
    """``500``, ``500ms``, ``2s``."""
    match = _TIME.fullmatch(text)
    if match is None:
        raise ParseError(f"'{text}' is not a time (try 500ms or 2s)")
    value = float(match["number"]) * (1000 if (match["unit"] or "").lower() == "s" else 1)
    if not 0 < value <= 3_600_000:
        raise ParseError(f"a time must be above 0 and at most an hour, got {text}")
    return value


def _gpu_and_count(word: str) -> tuple[str | None, int | None]:
    """``h100``, ``2xh100``, ``h100x2``, ``2x``, ``x2``: (gpu, count), either may be absent."""
    if alone := _COUNT_ALONE.fullmatch(word):
        return None, int(alone["count"])
    if before := _COUNT_BEFORE.fullmatch(word):
        return before["rest"] or None, int(before["count"])
    if after := _COUNT_AFTER.fullmatch(word):
        return after["rest"], int(after["count"])
    return word, None


def _choice(table: dict[str, str]) -> Callable[[str], str]:
    def read(word: str) -> str:
        if word.lower() not in table:
            raise ParseError(f"'{word}' is not one of {', '.join(table)}")
        return table[word.lower()]

    return read


_ENGINE = re.compile(r"[a-z][a-z0-9_.-]*(==v?[0-9][0-9a-z.]*)?")


def _engine(word: str) -> str:
    """``vllm``, ``sglang==0.4.6``, ``trtllm``: the API's ``engine`` value, lower-cased (the
    catalog says whether it knows it)."""
    key = word.lower()
    if len(key) > 64 or _ENGINE.fullmatch(key) is None:
        raise ParseError(f"'{word}' is not an engine (try vllm, sglang, trtllm or vllm==0.19.0)")
    return key


def _count(word: str) -> int:
    if not word.isdigit():
        raise ParseError(f"'{word}' is not a whole number")
    return _bounded(int(word), MAX_GPUS, "the GPU count")


#: option word -> (Query field, how to read the word after it)
OPTIONS: dict[str, tuple[str, Callable[[str], object]]] = {
    "tp": ("gpu_count", _count),
    "ctx": ("context", parse_tokens),
    "context": ("context", parse_tokens),
    "batch": ("batch", lambda word: parse_tokens(word, MAX_BATCH)),
    "bs": ("batch", lambda word: parse_tokens(word, MAX_BATCH)),
    "concurrency": ("batch", lambda word: parse_tokens(word, MAX_BATCH)),
    "in": ("input_tokens", parse_tokens),
    "input": ("input_tokens", parse_tokens),
    "out": ("output_tokens", parse_tokens),
    "output": ("output_tokens", parse_tokens),
    "ttft": ("ttft_ms", parse_milliseconds),
    "tpot": ("tpot_ms", parse_milliseconds),
    "kv": ("kv_cache_dtype", _choice(KV_WORDS)),
    "weights": ("weight_dtype", _choice(WEIGHT_WORDS)),
    "engine": ("engine", _engine),
}
GPU_WORDS = frozenset({"on", "gpu"})
#: flag word -> Query field set true: ``burst`` judges the TTFT target against the burst TTFT
FLAGS: dict[str, str] = {"burst": "burst"}


def _ends_model(word: str) -> bool:
    key = word.lower()
    return (
        key in OPTIONS
        or key in GPU_WORDS
        or key in FLAGS
        or key in WEIGHT_WORDS
        or bool(_COUNT_ALONE.fullmatch(key))
    )


def _read_options(words: list[str]) -> dict[str, object]:
    """Options in any order: ``on 2x h100``, ``x2``, ``4 gpus``, ``ctx 32k``, ``fp8`` ..."""
    values: dict[str, object] = {}
    index = 0

    def following(option: str) -> str:
        if index >= len(words):
            raise ParseError(f"'{option}' needs a value")
        return words[index]

    while index < len(words):
        word, key = words[index], words[index].lower()
        index += 1
        if key in OPTIONS:
            field, read = OPTIONS[key]
            values[field] = read(following(word))
            index += 1
        elif key in GPU_WORDS:
            target = following(word)
            index += 1
            gpu, count = (None, int(target)) if target.isdigit() else _gpu_and_count(target)
            if gpu is None and index < len(words) and not _ends_model(words[index]):
                gpu = words[index]  # "on 2x h100", "on 4 gpus"
                index += 1
            if gpu is not None and gpu.lower() not in ("gpu", "gpus"):
                values["gpu"] = gpu
            if count is not None:
                values["gpu_count"] = _bounded(count, MAX_GPUS, "the GPU count")
        elif key in FLAGS:
            values[FLAGS[key]] = True
        elif key in WEIGHT_WORDS:
            values["weight_dtype"] = WEIGHT_WORDS[key]
        elif key.isdigit() and index < len(words) and words[index].lower() in ("gpu", "gpus"):
            values["gpu_count"] = _count(key)  # "4 gpus"
            index += 1
        elif (split := _gpu_and_count(key))[0] is None and split[1] is not None:
            values["gpu_count"] = _bounded(split[1], MAX_GPUS, "the GPU count")  # "x2", "2x"
        else:
            raise ParseError(f"I don't understand '{word}'")
    return values


def parse(text: str) -> Query | Help:
    """Read a command; unknown actions give :class:`Help`, bad options raise :class:`ParseError`."""
    words = text.replace("×", "x").split()
    if not words or words[0].lower() in HELP_WORDS:
        return Help()
    action = ACTIONS.get(words[0].lower())
    if action is None:
        return Help(unknown=words[0])
    rest = words[1:]
    split = next((i for i, word in enumerate(rest) if _ends_model(word)), len(rest))
    if split == 0:
        raise ParseError(f"'{words[0]}' needs a model name, e.g. `{words[0]} llama-3.1-8b`")
    values = _read_options(rest[split:])
    return msgspec.convert({"action": action, "model": " ".join(rest[:split]), **values}, Query)
