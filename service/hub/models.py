"""What capplan keeps from the Hub's answers: plain frozen structs, no library types."""

from __future__ import annotations

from datetime import datetime

import msgspec


class HubModelInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One model repository at one commit.

    ``safetensors_parameters`` maps a storage dtype (``"BF16"``, ``"U8"``...) to its element
    count as the Hub computed it; None when the Hub did not report it.
    """

    repo_id: str
    sha: str
    gated: bool
    created_at: datetime | None
    safetensors_parameters: dict[str, int] | None
    safetensors_total: int | None
    pipeline_tag: str | None
    library_name: str | None


class HubListing(msgspec.Struct, frozen=True, kw_only=True):
    """A repository seen while listing an author's newest models."""

    repo_id: str
    created_at: datetime
    sha: str | None


class HubTensor(msgspec.Struct, frozen=True, kw_only=True):
    """One tensor as a safetensors header lists it: name, storage dtype and shape."""

    name: str
    dtype: str
    shape: tuple[int, ...]
