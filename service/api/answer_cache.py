"""Recent plan answers, by a digest of everything they are computed from.

A plan is a pure function of the resolved model, the GPUs (with their prices), the question,
the engine profile and the calibration. Asking the same again (dashboards, CI gates, retries)
costs a digest instead of a search: the key is the BLAKE2b digest of all of them encoded,
so a changed GPU, price or profile is a different key and nothing needs invalidating.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import msgspec
from litestar.datastructures import State

#: Answers kept per process (a lean answer is ~10 KB).
MAX_ANSWERS = 256


class AnswerCache:
    """A small LRU of encoded inputs' digests to answers."""

    def __init__(self, size: int = MAX_ANSWERS) -> None:
        self.size = size
        self._answers: OrderedDict[bytes, Any] = OrderedDict()

    @staticmethod
    def key(*inputs: Any) -> bytes | None:
        """The digest of ``inputs``, or None when they cannot be encoded (then: no caching)."""
        try:
            encoded = msgspec.msgpack.encode(inputs)
        except (TypeError, ValueError):
            return None
        return hashlib.blake2b(encoded, digest_size=32).digest()

    def get(self, key: bytes | None) -> Any:
        if key is None or key not in self._answers:
            return None
        self._answers.move_to_end(key)
        return self._answers[key]

    def put(self, key: bytes | None, answer: Any) -> None:
        if key is None:
            return
        self._answers[key] = answer
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
