"""What a Hub repository id and a revision may look like (checked before anything is queued)."""

from __future__ import annotations

import re

#: ``namespace/name`` in ASCII letters, digits, ``_``, ``.`` and ``-`` (what the Hub accepts),
#: dots single and inside a segment (no ``..``); ``\Z`` because ``$`` also matches before "\n".
REPO_ID_PATTERN = (
    r"^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\Z"
)
REPO_ID_MAX_LENGTH = 200
#: A branch, tag (``refs/pr/1`` too) or commit sha: components joined by single ``/`` or ``.``
#: (no ``..``, no empty or dot-leading component, as git refs require).
REVISION_PATTERN = r"^[A-Za-z0-9_-]+(?:[./][A-Za-z0-9_-]+)*\Z"
REVISION_MAX_LENGTH = 64


def invalid_reference(repo_id: str, revision: str | None) -> str | None:
    """Why ``repo_id``/``revision`` cannot name a Hub model, or None if they can."""
    if len(repo_id) > REPO_ID_MAX_LENGTH or not re.fullmatch(REPO_ID_PATTERN, repo_id):
        return (
            f"{repo_id!r} is not a Hub repository id: expected namespace/name, e.g. Qwen/Qwen3-8B"
        )
    if revision is not None and (
        len(revision) > REVISION_MAX_LENGTH or not re.fullmatch(REVISION_PATTERN, revision)
    ):
        return f"{revision!r} is not a branch, tag or commit sha"
    return None
