"""The I/O seam between capplan and the Hugging Face Hub.

Callers depend on :class:`HubClient` only; :class:`~service.hub.hf.HfHubClient` is the real
implementation and tests pass in-memory fakes. The methods block: call them through
``anyio.to_thread.run_sync``. Every failure is a :class:`~service.hub.errors.HubError`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from service.hub.errors import (
    ConfigNotFound,
    GatedRepo,
    HubError,
    MalformedConfig,
    RepoNotFound,
    RevisionNotFound,
    TransientHubError,
)
from service.hub.hf import HfHubClient
from service.hub.models import HubListing, HubModelInfo, HubTensor

__all__ = [
    "ConfigNotFound",
    "GatedRepo",
    "HfHubClient",
    "HubClient",
    "HubError",
    "HubListing",
    "HubModelInfo",
    "HubTensor",
    "MalformedConfig",
    "RepoNotFound",
    "RevisionNotFound",
    "TransientHubError",
]


class HubClient(Protocol):
    """Read-only access to model repositories."""

    def model_info(self, repo_id: str, revision: str | None) -> HubModelInfo:
        """The repository at ``revision`` (default branch when None), its commit sha resolved."""
        ...

    def download_config(self, repo_id: str, sha: str) -> bytes:
        """The raw ``config.json`` at commit ``sha``, checked to be a JSON object."""
        ...

    def safetensors_parameter_counts(self, repo_id: str, sha: str) -> dict[str, int] | None:
        """Element counts per storage dtype at ``sha``; None when there are no safetensors."""
        ...

    def safetensors_tensors(self, repo_id: str, sha: str) -> list[HubTensor] | None:
        """Each tensor's name, dtype and shape from the safetensors headers at ``sha``; None
        when there are no safetensors."""
        ...

    def list_new_models(self, author: str, since: datetime | None, limit: int) -> list[HubListing]:
        """``author``'s text-generation models created after ``since``, newest first."""
        ...


if TYPE_CHECKING:  # mypy proves the real client implements the seam
    _real: HubClient = HfHubClient("https://huggingface.co", None, 10.0)
