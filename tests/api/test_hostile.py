"""Hostile input: nothing a client sends is a 5xx; bad bodies are 400/415 naming the problem.

One app on SQLite serves the whole module (body checks do not depend on the backend), so
hypothesis can send many bodies cheaply.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from service.app import create_app
from tests.api.conftest import ADMIN, assert_problem, error_keys, gpu_body, settings_for

SLACK_SECRET = "hostile-suite-secret"
LLAMA_8B = "meta-llama/Llama-3.1-8B"

#: (method, path, a valid body): every route that reads a JSON body.
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/v1/inspect", {"model": LLAMA_8B}),
    ("POST", "/v1/max-batch", {"model": LLAMA_8B, "gpu": "h100-sxm", "context_length": 4096}),
    (
        "POST",
        "/v1/latency",
        {
            "model": LLAMA_8B,
            "gpu": "h100-sxm",
            "batch_size": 1,
            "input_tokens": 128,
            "output_tokens": 128,
        },
    ),
    (
        "POST",
        "/v1/plan",
        {
            "model": LLAMA_8B,
            "workload": {"input_tokens": 128, "output_tokens": 128},
            "constraints": {"gpus": ["h100-sxm"], "max_gpus": 1},
        },
    ),
    ("POST", "/v1/gpus", gpu_body("hostile-gpu")),
    ("POST", "/v1/models", {"id": "hostile/model", "config": {"model_type": "llama"}}),
    ("POST", "/v1/imports", {"repo_id": "hostile/model"}),
]
ROUTE_IDS = [path.rsplit("/", 1)[1] for _, path, _ in ROUTES]

Client = TestClient[Litestar]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """One app for the module: writes on, Slack signing on, SQLite, its own import worker (on a
    closed loopback Hub port), so a valid import is queued (202) for as long as the module runs."""
    database = Path(tmp_path_factory.mktemp("hostile")) / "capplan.db"
    app = create_app(
        settings_for(
            f"sqlite+aiosqlite:///{database}",
            slack_signing_secret=SLACK_SECRET,
            importer_enabled=True,
            hf_endpoint="http://127.0.0.1:9",
        )
    )
    with TestClient(app=app) as test_client:
        yield test_client


def send(client: Client, method: str, path: str, body: bytes, **headers: str) -> Any:
    return client.request(
        method,
        path,
        content=body,
        headers={"Content-Type": "application/json", **ADMIN, **headers},
    )


FAST = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FAST
@given(
    route=st.sampled_from(ROUTES),
    depth=st.integers(min_value=65, max_value=100_000),
    opener=st.sampled_from([b"[", b'{"a":']),
)
def test_deeply_nested_json_is_400(
    client: Client, route: tuple[str, str, dict[str, Any]], depth: int, opener: bytes
) -> None:
    """JSON nested deeper than the limit is a 400 problem, however deep."""
    closer = b"]" if opener == b"[" else b"}"
    method, path, _ = route
    body = b'{"model": ' + opener * depth + b"1" + closer * depth + b"}"

    problem = assert_problem(send(client, method, path, body), 400)

    assert "deep" in problem["detail"]


@FAST
@given(
    route=st.sampled_from(ROUTES),
    bad=st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]),
)
def test_invalid_utf8_is_400(
    client: Client, route: tuple[str, str, dict[str, Any]], bad: bytes
) -> None:
    """A body that is not UTF-8 is a 400 problem."""
    method, path, valid = route
    body = json.dumps(valid).encode()
    body = body.replace(b'"', b'"' + bad, 1)

    assert_problem(send(client, method, path, body), 400)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(route=st.sampled_from(ROUTES), data=st.data())
def test_mutated_bodies_are_never_5xx(
    client: Client, route: tuple[str, str, dict[str, Any]], data: st.DataObject
) -> None:
    """A valid body with any field replaced by any JSON value, or any field added: no 5xx."""
    method, path, valid = route
    body = dict(valid)
    key = data.draw(st.sampled_from([*body, "unexpected"]), label="key")
    body[key] = data.draw(JSON_VALUES, label="value")

    response = send(client, method, path, json.dumps(body).encode())

    assert response.status_code < 500, response.text


UNKNOWN_FIELDS = [
    ("POST", "/v1/plan", {**ROUTES[3][2], "max_model_lenght": 4096}, "max_model_lenght"),
    ("POST", "/v1/plan", {**ROUTES[3][2], "engine_flags": "--tp 2"}, "engine_flags"),
    (
        "POST",
        "/v1/plan",
        {**ROUTES[3][2], "workload": {"input_tokens": 1, "output_tokens": 1, "qps": 3}},
        "workload.qps",
    ),
    ("POST", "/v1/latency", {**ROUTES[2][2], "engine_version": "0.19.0"}, "engine_version"),
    ("POST", "/v1/gpus", {**gpu_body("typo-gpu"), "memory_gib": 48}, "memory_gib"),
    ("POST", "/v1/imports", {"repo_id": "org/name", "force": True}, "force"),
    ("POST", "/v1/inspect", {"model": {"hf_config": {}, "name": "x"}}, "model.name"),
    # `make fuzz` found an empty key accepted (schemathesis ST201): "" is a name like any other.
    ("POST", "/v1/imports", {"repo_id": "org/name", "": []}, ""),
    (
        "POST",
        "/v1/plan",
        {**ROUTES[3][2], "workload": {"input_tokens": 1, "output_tokens": 1, "": 3}},
        "workload.",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    UNKNOWN_FIELDS,
    ids=[
        "plan-typo",
        "plan-engine",
        "plan-nested",
        "latency",
        "gpus",
        "imports",
        "inline-model",
        "imports-empty-key",
        "plan-nested-empty-key",
    ],
)
def test_unknown_body_field_is_400_naming_it(
    client: Client, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    """A field the schema does not define is refused, by name (no silent ignore)."""
    problem = assert_problem(send(client, method, path, json.dumps(body).encode()), 400)

    assert field in error_keys(problem)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
    ],
    ids=["text", "form", "multipart", "xml"],
)
@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=ROUTE_IDS)
def test_non_json_content_type_is_415(
    client: Client, method: str, path: str, body: dict[str, Any], content_type: str
) -> None:
    """A JSON body sent under another media type is refused (415), not parsed."""
    response = client.request(
        method,
        path,
        content=json.dumps(body).encode(),
        headers={"Content-Type": content_type, **ADMIN},
    )

    assert_problem(response, 415)


@FAST
@given(timestamp=st.text(alphabet="0123456789", min_size=11, max_size=6000))
@example(timestamp="9" * 400)
@example(timestamp="1" * 5000)
def test_slack_timestamp_of_any_length_is_401(client: Client, timestamp: str) -> None:
    """A huge or far-off X-Slack-Request-Timestamp is an unsigned request (401), not a crash."""
    response = client.post(
        "/integrations/slack/commands",
        content=b"command=%2Fcapplan&text=help",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": "v0=" + "0" * 64,
        },
    )

    assert_problem(response, 401)


GPU_RATES = [
    "memory_bandwidth_bytes_per_s",
    "dense_tflops_fp16",
    "dense_tflops_fp8",
    "dense_tops_int8",
    "interconnect_bandwidth_bytes_per_s",
]


UNPHYSICAL = [0, 0.0, 5e-324, 1e-300, -1.0, 1e300]
#: BF16 alone may be exactly 0: the catalog's marker for a chip without BF16 (T4, V100).
UNPHYSICAL_RATES = [(field, value) for field in GPU_RATES for value in UNPHYSICAL] + [
    ("dense_tflops_bf16", value) for value in UNPHYSICAL if value != 0
]


@pytest.mark.parametrize(
    ("field", "value"), UNPHYSICAL_RATES, ids=[f"{f}={v!r}" for f, v in UNPHYSICAL_RATES]
)
def test_gpu_rate_outside_physical_range_is_400(client: Client, field: str, value: float) -> None:
    """Zero, denormal, negative or absurd rates are refused, naming the field."""
    body = json.dumps(gpu_body("unphysical", **{field: value})).encode()

    problem = assert_problem(send(client, "POST", "/v1/gpus", body), 400)

    assert field in error_keys(problem)


HUGE = 2**53


@pytest.mark.parametrize(
    "field",
    ["hidden_size", "num_hidden_layers", "vocab_size", "intermediate_size", "num_attention_heads"],
)
@pytest.mark.parametrize(
    "size", [HUGE, HUGE + 1, 2**63, 10**30], ids=["2^53", "2^53+1", "2^63", "1e30"]
)
def test_model_config_with_astronomic_size_is_400(client: Client, field: str, size: int) -> None:
    """A config with a 2^53-sized field is refused as a 400 naming it, on write and inline."""
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "num_hidden_layers": 32,
        "vocab_size": 128256,
        "max_position_embeddings": 8192,
        field: size,
    }
    stored = send(
        client, "POST", "/v1/models", json.dumps({"id": "huge/model", "config": config}).encode()
    )
    inline = send(
        client, "POST", "/v1/inspect", json.dumps({"model": {"hf_config": config}}).encode()
    )

    for response in (stored, inline):
        problem = assert_problem(response, 400)
        assert any(field in key for key in error_keys(problem)), problem


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/gpus", gpu_body("gpu\n")),
        ("POST", "/v1/gpus", gpu_body("..")),
        ("POST", "/v1/models", {"id": "org/model\n", "config": {"model_type": "llama"}}),
        ("POST", "/v1/models", {"id": "a/..", "config": {"model_type": "llama"}}),
        ("POST", "/v1/models", {"id": "../a", "config": {"model_type": "llama"}}),
        ("POST", "/v1/imports", {"repo_id": "org/model\n"}),
        ("POST", "/v1/imports", {"repo_id": "org/.."}),
        ("POST", "/v1/imports", {"repo_id": "org/model", "revision": "main\n"}),
        ("POST", "/v1/imports", {"repo_id": "org/model", "revision": "../main"}),
    ],
    ids=[
        "gpu-newline",
        "gpu-dotdot",
        "model-newline",
        "model-dotdot-name",
        "model-dotdot-org",
        "import-newline",
        "import-dotdot",
        "revision-newline",
        "revision-dotdot",
    ],
)
def test_ids_are_anchored_and_have_no_dot_segments(
    client: Client, method: str, path: str, body: dict[str, Any]
) -> None:
    """Ids with a trailing newline or a ``..`` segment are refused (400), never stored."""
    assert_problem(send(client, method, path, json.dumps(body).encode()), 400)


def test_published_config_with_infinity_is_read(client: Client) -> None:
    """An inline config.json as published may hold Infinity/NaN (Python's json writes them)."""
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "num_hidden_layers": 2,
        "vocab_size": 1000,
        "max_position_embeddings": 2048,
        "router_aux_loss_coef": float("inf"),
        "attention_dropout": float("nan"),
    }
    body = json.dumps({"model": {"hf_config": config}}).encode()

    response = send(client, "POST", "/v1/inspect", body)

    assert response.status_code == 200, response.text
