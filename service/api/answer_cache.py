"""Recent plan answers, encoded, by a digest of the question.

A plan is a pure function of the question, the resolved model, the GPUs (with their prices),
the engine profile and the calibration. The profile and calibration are read once per process
from ``CAPPLAN_CATALOG_DIR`` and the price file once per path, so within one application only
the question and the catalog vary. The key is the BLAKE2b digest of the question's canonical
JSON (msgspec, dict keys sorted); an answer is served only while the catalog objects it was
computed from are still the ones :mod:`service.api.catalog_cache` hands out (compared by
identity: a changed GPU or model is a new object), so nothing needs invalidating, and a hit
costs a digest and a lookup: no database read, no normalisation, no encoding.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import msgspec
from litestar.datastructures import State

#: Answers kept per process (a lean answer is ~13 KB encoded).
MAX_ANSWERS = 256

_ENCODER = msgspec.json.Encoder(order="deterministic")


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """An answer's JSON, and the catalog objects it was computed from."""

    inputs: tuple[object, ...]
    body: bytes


class AnswerCache:
    """A small LRU of question digests to encoded answers."""

    def __init__(self, size: int = MAX_ANSWERS) -> None:
        self.size = size
        self.hits = 0
        self._answers: OrderedDict[bytes, CachedAnswer] = OrderedDict()

    @staticmethod
    def key(question: msgspec.Struct) -> bytes:
        """The digest of ``question``'s canonical JSON."""
        return hashlib.blake2b(_ENCODER.encode(question), digest_size=16).digest()

    def get(self, key: bytes, inputs: tuple[object, ...]) -> bytes | None:
        """The answer to ``key`` if it was computed from exactly these ``inputs``."""
        cached = self._answers.get(key)
        if cached is None or len(cached.inputs) != len(inputs):
            return None
        if any(old is not new for old, new in zip(cached.inputs, inputs, strict=True)):
            return None
        self._answers.move_to_end(key)
        self.hits += 1
        return cached.body

    def put(self, key: bytes, inputs: tuple[object, ...], body: bytes) -> None:
        self._answers[key] = CachedAnswer(inputs, body)
        self._answers.move_to_end(key)
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)


def answer_cache(state: State) -> AnswerCache:
    """The application's cache (made on first use)."""
    cache = state.get("answer_cache")
    if not isinstance(cache, AnswerCache):
        cache = AnswerCache()
        state["answer_cache"] = cache
    return cache
