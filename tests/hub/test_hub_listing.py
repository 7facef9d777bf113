"""HfHubClient.list_new_models: an author's newest text-generation models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.hub.client import HfHubClient, HubListing
from tests.fakehub import FakeHubServer
from tests.hub.conftest import LLAMA_CONFIG

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def _add(fake_hub: FakeHubServer, count: int, author: str = "org") -> None:
    for i in range(count):
        fake_hub.hub.add_model(f"{author}/m{i}", LLAMA_CONFIG, created_at=T0 + timedelta(days=i))


def _ids(listings: list[HubListing]) -> list[str]:
    return [listing.repo_id for listing in listings]


def test_newest_first(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """Models come back in descending creation order."""
    _add(fake_hub, 3)

    assert _ids(client.list_new_models("org", None, 10)) == ["org/m2", "org/m1", "org/m0"]


def test_stops_at_the_watermark(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """Models created at or before ``since`` are left out."""
    _add(fake_hub, 4)

    assert _ids(client.list_new_models("org", T0 + timedelta(days=1), 10)) == ["org/m3", "org/m2"]


def test_respects_the_limit(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """At most ``limit`` models are returned, the newest ones."""
    _add(fake_hub, 5)

    assert _ids(client.list_new_models("org", None, 2)) == ["org/m4", "org/m3"]


def test_carries_sha_and_creation_time(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """Each listing has the commit sha and creation time."""
    model = fake_hub.hub.add_model("org/m", LLAMA_CONFIG, created_at=T0)

    [listing] = client.list_new_models("org", None, 10)

    assert (listing.sha, listing.created_at) == (model.sha, T0)


def test_asks_for_text_generation_by_author(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """Other authors and other pipeline tags are filtered out by the query."""
    _add(fake_hub, 1)
    _add(fake_hub, 1, author="other")
    fake_hub.hub.add_model("org/embedder", LLAMA_CONFIG, pipeline_tag="feature-extraction")

    assert _ids(client.list_new_models("org", None, 10)) == ["org/m0"]
    query = fake_hub.hub.requests[0].query
    assert (query["author"], query["pipeline_tag"], query["sort"]) == (
        ["org"],
        ["text-generation"],
        ["createdAt"],
    )


def test_follows_link_pagination(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """Pages are followed through the Link header."""
    fake_hub.hub.page_size = 2
    _add(fake_hub, 5)

    assert len(client.list_new_models("org", None, 10)) == 5
    assert len(fake_hub.hub.requests_to("/api/models")) == 3


def test_stops_paging_at_the_watermark(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """No further page is requested once the watermark is reached."""
    fake_hub.hub.page_size = 2
    _add(fake_hub, 6)

    client.list_new_models("org", T0 + timedelta(days=3), 10)

    assert len(fake_hub.hub.requests_to("/api/models")) == 2


def test_zero_limit_makes_no_request(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """limit=0 returns nothing without asking the Hub."""
    assert client.list_new_models("org", None, 0) == []
    assert fake_hub.hub.requests == []


def test_naive_watermark_is_rejected(client: HfHubClient) -> None:
    """A watermark without a timezone cannot be compared with the Hub's UTC times."""
    with pytest.raises(ValueError, match="timezone-aware"):
        client.list_new_models("org", datetime(2025, 1, 1), 10)  # noqa: DTZ001
