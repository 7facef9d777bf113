"""The one place that builds the real Hub client from settings; tests pass their own factory."""

from __future__ import annotations

from collections.abc import Callable

from service.hub.client import HfHubClient, HubClient
from service.settings import Settings

HubClientFactory = Callable[[Settings], HubClient]


def hub_client_from_settings(settings: Settings) -> HubClient:
    """``HfHubClient`` on ``HF_ENDPOINT`` with ``HF_TOKEN`` and ``CAPPLAN_HUB_TIMEOUT_S``."""
    return HfHubClient(settings.hf_endpoint, settings.hf_token, settings.hub_timeout_s)
