"""A fake Hugging Face Hub served over loopback HTTP, for tests of Hub clients.

    with run_fake_hub() as (url, hub):
        hub.add_model("org/model", {"model_type": "llama"}, safetensors={...})
        HfHubClient(url, token=None, timeout_s=5).model_info("org/model", None)

or the ``fake_hub`` fixture from :mod:`tests.fakehub.fixtures`.
"""

from tests.fakehub.blobs import SafetensorsBlob, parameter_counts, safetensors_header
from tests.fakehub.registry import FakeHub, FakeModel, RecordedRequest
from tests.fakehub.server import FakeHubServer, run_fake_hub

__all__ = [
    "FakeHub",
    "FakeHubServer",
    "FakeModel",
    "RecordedRequest",
    "SafetensorsBlob",
    "parameter_counts",
    "run_fake_hub",
    "safetensors_header",
]
