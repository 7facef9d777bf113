"""Loose matching of what people type against catalog ids (pure), shared by every adapter.

``llama-3.1-70b``, ``Llama 3.1 70B`` and ``meta-llama/llama3.1-70b`` all name
``meta-llama/Llama-3.1-70B``: case, dots, dashes, spaces and the org prefix are ignored.
A name that matches several entries is ambiguous and answered with the candidates.

A name longer than :data:`LONGEST_NAME` matches nothing and gets no suggestions, without being
compared with a single entry: no catalog id is that long, and difflib's matcher takes seconds
over a megabyte (it indexes every character of the name), on the event loop.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence

import msgspec

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")

#: Longest name compared with the catalog: the longest id a model may have (a Hugging Face
#: repo id is at most 96 characters for owner and name; the API caps model ids at 200).
LONGEST_NAME = 200


def _comparable(query: str) -> bool:
    """Whether ``query`` is short enough to be compared with catalog names at all."""
    return len(query) <= LONGEST_NAME


class Match(msgspec.Struct, frozen=True, kw_only=True):
    """``value`` when exactly one entry matched; else several that did (``ambiguous``), or
    close names to suggest when none did."""

    value: str | None
    candidates: tuple[str, ...] = ()
    ambiguous: bool = False


def squash(text: str) -> str:
    """Lower case, letters and digits only: ``Llama-3.1 70B`` -> ``llama3170b``."""
    return _NOT_ALNUM.sub("", text.lower())


def words(text: str) -> list[str]:
    return [word for word in _NOT_ALNUM.split(text.lower()) if word]


def model_key(repo_id: str) -> str:
    """A repo id without its org, squashed: ``meta-llama/Llama-3.1-70B`` -> ``llama3170b``."""
    return squash(repo_id.rsplit("/", 1)[-1])


def same_id(query: str, ids: Iterable[str]) -> str | None:
    """The one id of ``ids`` that ``query`` spells in other letter case (Hugging Face ids are
    case-insensitive: ``meta-llama/llama-3.1-8b``, ``H100-SXM``); None when no id or several
    ids differ from it only in case."""
    if not _comparable(query):
        return None
    folded = query.casefold()
    hits = [entry for entry in ids if entry.casefold() == folded]
    return hits[0] if len(hits) == 1 else None


def _first_unique(
    query: str, ids: Sequence[str], keys: Callable[[str], Iterable[str]]
) -> Match | None:
    """Exact key, then prefix, then all-words-contained: the first tier with any hit decides."""
    key, parts = squash(query), words(query)
    tiers: list[Callable[[str], bool]] = [
        lambda k: k == key,
        lambda k: k.startswith(key),
        lambda k: all(part in k for part in parts),
    ]
    for test in tiers:
        hits = [entry for entry in ids if any(test(k) for k in keys(entry))]
        if len(hits) == 1:
            return Match(value=hits[0])
        if hits:
            ranked = tuple(sorted(hits, key=lambda hit: (len(hit), hit)))
            return Match(value=None, candidates=ranked, ambiguous=True)
    return None


def _close(query: str, ids: Sequence[str], key: Callable[[str], str]) -> Match:
    by_key = {key(entry): entry for entry in ids}
    close = difflib.get_close_matches(squash(query), list(by_key), n=3, cutoff=0.5)
    return Match(value=None, candidates=tuple(by_key[k] for k in close))


def match_model(query: str, repo_ids: Sequence[str]) -> Match:
    """A catalog model for ``query``; the org prefix may be given or left out."""
    if not _comparable(query):
        return Match(value=None)
    exact = [r for r in repo_ids if r.lower() == query.strip().lower()]
    if len(exact) == 1:
        return Match(value=exact[0])
    org_query = "/" in query

    def keys(repo_id: str) -> list[str]:
        return [squash(repo_id) if org_query else model_key(repo_id)]

    return _first_unique(query, repo_ids, keys) or _close(query, repo_ids, model_key)


def match_gpu(query: str, gpus: Sequence[tuple[str, str]]) -> Match:
    """A catalog GPU id for ``query``, matched against ids and display names."""
    if not _comparable(query):
        return Match(value=None)
    names = dict(gpus)

    def keys(gpu_id: str) -> list[str]:
        return [squash(gpu_id), squash(names[gpu_id]), squash(names[gpu_id].replace("NVIDIA", ""))]

    return _first_unique(query, list(names), keys) or _close(query, list(names), squash)


#: Words that mark a fine-tuned variant sharing its base model's architecture (config.json):
#: ``Llama-3.1-8B-Instruct``, ``Llama-2-7b-chat-hf``, ``gemma-2-9b-it``.
VARIANT_WORDS = frozenset({"instruct", "chat", "it"})
_SPLIT = re.compile(r"[-_ ]+")


def base_of_variant(query: str, repo_ids: Sequence[str]) -> str | None:
    """The one catalog model that ``query`` is an Instruct/chat variant of, if exactly one.

    The variant words are dropped (and a ``Meta-`` prefix: ``Meta-Llama-3.1-8B-Instruct`` is
    ``meta-llama/Llama-3.1-8B``); what is left must equal a catalog id once case, dots,
    dashes and the org are ignored. Only the architecture is shared: weights may differ.
    """
    if not _comparable(query):
        return None
    name = query.strip().rsplit("/", 1)[-1]
    parts = [part for part in _SPLIT.split(name) if part]
    kept = [part for part in parts if part.lower() not in VARIANT_WORDS]
    if len(kept) == len(parts):
        return None
    if kept and kept[0].lower() == "meta":
        kept = kept[1:]
    base = squash("".join(kept))
    hits = [repo_id for repo_id in repo_ids if model_key(repo_id) == base]
    return hits[0] if len(hits) == 1 else None


def same_name(query: str, candidate: str) -> bool:
    """Do the two differ only in case, punctuation or a missing org prefix?"""
    return model_key(query) == model_key(candidate) or squash(query) == squash(candidate)


def alias_target(query: str, aliases: Mapping[str, str]) -> str | None:
    """The catalog model an alias names (``aliases``: alias -> repo id, from the catalog
    files' ``aliases``), matched like ids: case, punctuation and the org prefix ignored.
    None when no alias matches, or aliases of different models do."""
    if not _comparable(query):
        return None
    hits = {repo_id for alias, repo_id in aliases.items() if same_name(query, alias)}
    return hits.pop() if len(hits) == 1 else None


def suggest_models(
    query: str, repo_ids: Sequence[str], limit: int = 3, aliases: Mapping[str, str] | None = None
) -> list[str]:
    """Catalog models to offer for an unknown ``query``: the model an alias names, its base,
    a match, or close names."""
    if not _comparable(query):
        return []
    target = alias_target(query, aliases or {})
    if target is not None:
        return [target]
    base = base_of_variant(query, repo_ids)
    if base is not None:
        return [base]
    found = match_model(query, repo_ids)
    return [found.value] if found.value else list(found.candidates[:limit])


def suggest_gpus(query: str, gpus: Sequence[tuple[str, str]], limit: int = 8) -> list[str]:
    """Catalog GPUs to offer for an unknown ``query`` (every variant of a family)."""
    if not _comparable(query):
        return []
    found = match_gpu(query, gpus)
    return [found.value] if found.value else list(found.candidates[:limit])
