"""Hugging Face Hub access: the :class:`~service.hub.client.HubClient` seam and its helpers."""
