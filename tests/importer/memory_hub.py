"""An in-memory HubClient: no HTTP at all, for tests of the import orchestration."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

from service.hub.errors import RepoNotFound
from service.hub.models import HubListing, HubModelInfo, HubTensor


class MemoryHub:
    """Repositories held in dicts; ``calls`` records every method called, in order."""

    def __init__(self) -> None:
        self.infos: dict[str, HubModelInfo] = {}
        self.configs: dict[str, bytes] = {}
        self.counts: dict[str, dict[str, int] | None] = {}
        self.tensors: dict[str, list[HubTensor] | None] = {}
        self.calls: list[str] = []

    def add(
        self,
        repo_id: str,
        config: dict[str, Any],
        sha: str,
        counts: dict[str, int] | None = None,
        *,
        counts_in_info: bool = True,
    ) -> None:
        """Serve ``config`` at ``sha``; ``counts`` in model_info or only via the fallback."""
        self.infos[repo_id] = HubModelInfo(
            repo_id=repo_id,
            sha=sha,
            gated=False,
            created_at=None,
            safetensors_parameters=counts if counts_in_info else None,
            safetensors_total=sum(counts.values()) if counts and counts_in_info else None,
            pipeline_tag="text-generation",
            library_name="transformers",
        )
        self.configs[repo_id] = json.dumps(config).encode()
        self.counts[repo_id] = counts

    def model_info(self, repo_id: str, revision: str | None) -> HubModelInfo:
        self.calls.append("model_info")
        if repo_id not in self.infos:
            raise RepoNotFound(repo_id)
        return self.infos[repo_id]

    def download_config(self, repo_id: str, sha: str) -> bytes:
        self.calls.append("download_config")
        return self.configs[repo_id]

    def safetensors_parameter_counts(self, repo_id: str, sha: str) -> dict[str, int] | None:
        self.calls.append("safetensors_parameter_counts")
        return self.counts[repo_id]

    def safetensors_tensors(self, repo_id: str, sha: str) -> list[HubTensor] | None:
        self.calls.append("safetensors_tensors")
        return self.tensors.get(repo_id)

    def list_new_models(self, author: str, since: datetime | None, limit: int) -> list[HubListing]:
        self.calls.append("list_new_models")
        return []


class BlockingHub(MemoryHub):
    """model_info blocks until ``release`` is set, like a Hub that hangs."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def model_info(self, repo_id: str, revision: str | None) -> HubModelInfo:
        self.entered.set()
        self.release.wait(10)
        return super().model_info(repo_id, revision)
