"""Typed Hub failures, each with a message a user can act on.

``permanent`` tells the importer whether retrying can help: a missing repository stays
missing, a rate limit or a 503 passes.
"""

from __future__ import annotations

from typing import ClassVar


class HubError(Exception):
    """A Hub request failed; ``str(error)`` says what to do about it."""

    permanent: ClassVar[bool] = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RepoNotFound(HubError):
    """No such repository, or a private one this token cannot see."""

    def __init__(self, repo_id: str, detail: str = "") -> None:
        reason = detail or "repository not found (check the id; private repos need HF_TOKEN)"
        super().__init__(f"{repo_id}: {reason}")
        self.repo_id = repo_id


class GatedRepo(HubError):
    """The repository is gated and this token has not been granted access."""

    def __init__(self, repo_id: str) -> None:
        super().__init__(
            f"{repo_id}: gated: set HF_TOKEN with access (accept the terms on the model page)"
        )
        self.repo_id = repo_id


class RevisionNotFound(HubError):
    """The repository exists but has no such branch, tag or commit."""

    def __init__(self, repo_id: str, revision: str | None) -> None:
        super().__init__(f"{repo_id}: revision {revision or 'main'!r} not found")
        self.repo_id = repo_id
        self.revision = revision


class ConfigNotFound(HubError):
    """The commit has no ``config.json``, so there is no architecture to read."""

    def __init__(self, repo_id: str, sha: str) -> None:
        super().__init__(f"{repo_id}@{sha[:12]}: no config.json in the repository")
        self.repo_id = repo_id
        self.sha = sha


class MalformedConfig(HubError):
    """``config.json`` is not valid JSON, or not a JSON object."""

    def __init__(self, repo_id: str, detail: str) -> None:
        super().__init__(f"{repo_id}: config.json is unreadable: {detail}")
        self.repo_id = repo_id


class TransientHubError(HubError):
    """A timeout, connection failure, 429 or 5xx; retry after ``retry_after_s`` if given."""

    permanent: ClassVar[bool] = False

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
