"""Write the OpenAPI examples: each example request and what capplan answers to it.

    uv run --locked python scripts/openapi_examples.py

Runs the app in-process on a fresh SQLite database seeded from ``catalog/``, sends each
request below and stores ``<name>.json`` as {"request": ..., "response": ...} under
``service/api/openapi_examples/`` (read by ``service/api/examples.py``). The responses are
capplan's own answers, never written by hand; rerun after the arithmetic changes.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from litestar.testing import TestClient

from service.app import create_app
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "service" / "api" / "openapi_examples"
TOKEN = "example-token"  # noqa: S105 - a throwaway token for the in-process app
LLAMA_8B = "meta-llama/Llama-3.1-8B"


def _gpu_body() -> dict[str, Any]:
    """The catalog's L4 entry as an operator would add it under an id of their own."""
    gpus = yaml.safe_load((ROOT / "catalog" / "gpus.yaml").read_text(encoding="utf-8"))["gpus"]
    l4 = next(gpu for gpu in gpus if gpu["id"] == "l4")
    keep = {"name", "vendor", "memory_bytes", "memory_basis", "memory_bandwidth_bytes_per_s"}
    keep |= {"dense_tflops_bf16", "dense_tflops_fp16", "dense_tflops_fp8", "interconnect"}
    keep |= {"interconnect_bandwidth_bytes_per_s", "max_gpus_per_node", "sources"}
    return {"id": "l4-lab", **{key: value for key, value in l4.items() if key in keep}}


def _model_config() -> dict[str, Any]:
    path = ROOT / "catalog" / "models" / "meta-llama--Llama-3.2-1B.yaml"
    config: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))["config"]
    return config


MAX_BATCH = {"model": LLAMA_8B, "gpu": "h100-sxm", "context_length": 8192}
LATENCY = {
    "model": LLAMA_8B,
    "gpu": "h100-sxm",
    "batch_size": 16,
    "input_tokens": 2048,
    "output_tokens": 256,
}
PLAN = {
    "model": "meta-llama/Llama-3.1-70B",
    "workload": {"input_tokens": 2048, "output_tokens": 256, "concurrency": 32},
    "slo": {"ttft_ms": 2000, "tpot_ms": 50},
    "constraints": {"gpus": ["h100-sxm", "a100-sxm-80gb"], "max_gpus": 8},
    "limit": 2,
}
FRONTIER = {
    "model": LLAMA_8B,
    "gpu": "l4",
    "input_tokens": 1024,
    "output_tokens": 256,
    "slo_tpot_ms": 60,
}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp}/examples.db",
            catalog_dir=ROOT / "catalog",
            admin_token=TOKEN,
        )
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with TestClient(create_app(settings)) as client:
            gpu, model = _gpu_body(), {"id": "my-org/llama-3.2-1b-ft", "config": _model_config()}
            calls: list[tuple[str, str, str, Any]] = [
                ("health", "GET", "/health", None),
                ("ready", "GET", "/ready", None),
                ("inspect", "POST", "/v1/inspect", {"model": LLAMA_8B}),
                ("max_batch", "POST", "/v1/max-batch", MAX_BATCH),
                ("latency", "POST", "/v1/latency", LATENCY),
                ("plan", "POST", "/v1/plan", PLAN),
                ("frontier", "POST", "/v1/frontier", FRONTIER),
                ("engines", "GET", "/v1/engines", None),
                ("gpu_list", "GET", "/v1/gpus?vendor=amd&limit=2", None),
                ("gpu_create", "POST", "/v1/gpus", gpu),
                ("gpu_get", "GET", "/v1/gpus/h100-sxm", None),
                ("gpu_replace", "PUT", "/v1/gpus/l4-lab", {**gpu, "id": None, "version": 1}),
                ("model_list", "GET", "/v1/models?model_type=gpt_oss", None),
                ("model_create", "POST", "/v1/models", model),
                ("model_get", "GET", "/v1/models/meta-llama/Llama-3.2-1B", None),
                (
                    "model_replace",
                    "PUT",
                    "/v1/models/my-org/llama-3.2-1b-ft",
                    {"config": model["config"], "notes": "fine-tuned in-house", "version": 1},
                ),
                ("import_create", "POST", "/v1/imports", {"repo_id": "Qwen/Qwen3-4B"}),
            ]
            for name, method, path, raw in calls:
                sent = {k: v for k, v in raw.items() if v is not None} if raw else None
                response = client.request(method, path, json=sent, headers=auth)
                if response.status_code >= 300:
                    raise SystemExit(f"{name}: {response.status_code} {response.text}")
                _write(name, sent, response.json())
            job = json.loads((OUT / "import_create.json").read_text())["response"]
            _write("import_get", None, client.get(f"/v1/imports/{job['id']}").json())
            _write("import_list", None, client.get("/v1/imports?limit=1").json())
            svg = client.get("/v1/frontier.svg", params={**FRONTIER, "gpu": "l4"})
            if svg.status_code != 200:
                raise SystemExit(f"frontier.svg: {svg.status_code} {svg.text}")
            (OUT / "frontier.svg").write_text(svg.text, encoding="utf-8")


def _write(name: str, request: Any, response: Any) -> None:
    document = {"request": request, "response": response}
    (OUT / f"{name}.json").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
