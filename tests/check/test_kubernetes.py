"""Kubernetes objects as gate input: the serving container, its GPUs, the GPU type, replicas."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from service.gate.gpu_labels import UnknownGpuLabel, gpu_from_label
from service.gate.inputs import Overrides, read_inputs
from service.gate.target import InputError
from tests.check.conftest import Run

MODEL = "meta-llama/Llama-3.1-8B"
ARGS = ["--model", MODEL, "--tensor-parallel-size", "2", "--max-model-len", "8192"]
H100 = {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}
MIG = "NVIDIA-A100-SXM4-40GB-MIG-1g.5gb"


def container(gpus: int = 2, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "vllm",
        "image": "vllm/vllm-openai:v0.10.1",
        "args": ARGS,
        "resources": {"limits": {"nvidia.com/gpu": gpus}},
    }
    return {**body, **fields}


def deployment(replicas: int = 3, pod: dict[str, Any] | None = None) -> dict[str, Any]:
    spec = pod or {"nodeSelector": H100, "containers": [container()]}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "llama"},
        "spec": {"replicas": replicas, "template": {"spec": spec}},
    }


def read(tmp_path: Path, *documents: dict[str, Any], **overrides: Any) -> list[Any]:
    path = tmp_path / "k8s.yaml"
    path.write_text(yaml.safe_dump_all(documents), encoding="utf-8")
    return read_inputs([str(path)], Overrides(**overrides))


def error_of(tmp_path: Path, *documents: dict[str, Any]) -> InputError:
    with pytest.raises(InputError) as caught:
        read(tmp_path, *documents)
    return caught.value


def test_deployment_replicas_multiply_the_gpus(tmp_path: Path) -> None:
    """Three pods of TP 2 are three replicas on six GPUs of the labelled type."""
    (item,) = read(tmp_path, deployment(replicas=3))
    t = item.target
    assert (t.gpu, t.tensor_parallel, t.replicas, t.gpu_count) == ("h100-sxm", 2, 3, 6)


def test_image_entrypoint_supplies_vllm_serve(tmp_path: Path) -> None:
    """The vllm/vllm-openai image runs ``vllm serve`` on its args, and the engine is vLLM."""
    (item,) = read(tmp_path, deployment())
    assert (item.target.model_label, item.target.engine) == (MODEL, "vllm")


def test_image_tag_version_is_said_out_loud(tmp_path: Path) -> None:
    """The engine version in the image tag is named in a warning, never silently dropped."""
    (item,) = read(tmp_path, deployment())
    assert any("0.10.1" in warning for warning in item.target.warnings)


def test_sidecars_are_skipped_for_the_serving_container(tmp_path: Path) -> None:
    """The container that runs an engine is the one checked."""
    sidecar = {"name": "proxy", "image": "envoyproxy/envoy:v1.30"}
    pod = {"nodeSelector": H100, "containers": [sidecar, container()]}
    (item,) = read(tmp_path, deployment(pod=pod))
    assert item.target.tensor_parallel == 2


def test_shell_command_with_env_references(tmp_path: Path) -> None:
    """``sh -c`` scripts and ``$(VAR)`` / ``$VAR`` references are resolved from ``env``."""
    serving = container(
        image="lmsysorg/sglang:v0.5.2",
        command=["/bin/sh", "-c"],
        args=["python3 -m sglang.launch_server --model-path $MODEL --tp $(TP)"],
        env=[{"name": "MODEL", "value": MODEL}, {"name": "TP", "value": "2"}],
    )
    (item,) = read(tmp_path, deployment(pod={"nodeSelector": H100, "containers": [serving]}))
    assert (item.target.engine, item.target.tensor_parallel) == ("sglang", 2)


def test_gpu_from_required_node_affinity(tmp_path: Path) -> None:
    """A required ``In`` match on the product label picks the GPU."""
    term = {"matchExpressions": [
        {"key": "nvidia.com/gpu.product", "operator": "In", "values": ["NVIDIA-L40S"]}
    ]}  # fmt: skip
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [term]}}}  # fmt: skip
    pod = {"affinity": affinity, "containers": [container()]}
    (item,) = read(tmp_path, deployment(pod=pod))
    assert item.target.gpu == "l40s"


def test_leader_worker_set_counts_every_pod_of_a_group(tmp_path: Path) -> None:
    """LeaderWorkerSet ``size`` pods of 8 GPUs serve one TP 8 x PP 2 replica."""
    args = ["--model", MODEL, "--tensor-parallel-size", "8", "--pipeline-parallel-size", "2"]
    pod = {"nodeSelector": H100, "containers": [container(gpus=8, args=args)]}
    lws = {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": {"name": "big"},
        "spec": {
            "replicas": 2,
            "leaderWorkerTemplate": {"size": 2, "leaderTemplate": {"spec": pod}},
        },
    }
    (item,) = read(tmp_path, lws)
    assert (item.target.replicas, item.target.gpu_count) == (2, 32)


def test_kserve_model_takes_its_serving_runtime_from_the_same_input(tmp_path: Path) -> None:
    """An InferenceService ``model`` runs its ServingRuntime's command with both args."""
    runtime = {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "ServingRuntime",
        "metadata": {"name": "vllm-runtime"},
        "spec": {"containers": [{"name": "kserve-container",
                                 "command": ["python3", "-m", "vllm.entrypoints.openai.api_server"],
                                 "args": ["--port", "8080"]}]},
    }  # fmt: skip
    isvc = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "llama"},
        "spec": {"predictor": {
            "minReplicas": 2,
            "nodeSelector": {"cloud.google.com/gke-accelerator": "nvidia-l4"},
            "model": {"runtime": "vllm-runtime", "args": ["--model", MODEL],
                      "resources": {"limits": {"nvidia.com/gpu": 1}}},
        }},
    }  # fmt: skip
    (item,) = read(tmp_path, runtime, isvc)
    assert (item.target.gpu, item.target.replicas, item.ignored) == ("l4", 2, ["--port 8080"])


def test_other_kinds_are_skipped(tmp_path: Path) -> None:
    """A Service next to the Deployment (``helm template`` output) is not a workload."""
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "llama"}}
    assert len(read(tmp_path, service, deployment())) == 1


def test_gpu_flag_overrides_the_node_selector(tmp_path: Path) -> None:
    """``--gpu`` wins over the manifest's label, as for capplan manifests."""
    (item,) = read(tmp_path, deployment(), gpu="a100-sxm-80gb")
    assert item.target.gpu == "a100-sxm-80gb"


@pytest.mark.parametrize(
    ("pod", "field"),
    [
        pytest.param({"nodeSelector": H100, "containers": [container(resources={})]},
                     "Deployment/llama spec.template.spec.containers[0].resources.limits",
                     id="no-gpu-limit"),
        pytest.param({"containers": [container()]}, "nodeSelector", id="no-gpu-type"),
        pytest.param({"nodeSelector": H100, "containers": [{"name": "x", "image": "nginx"}]},
                     "Deployment/llama spec.template.spec.containers", id="no-engine"),
        pytest.param({"nodeSelector": {"nvidia.com/gpu.product": MIG},
                      "containers": [container()]},
                     "Deployment/llama spec.template.spec.nodeSelector.nvidia.com/gpu.product",
                     id="mig-slice"),
        pytest.param({"nodeSelector": H100, "containers": [container(gpus=1)]},
                     "resources.limits", id="fewer-gpus-than-tp"),
        pytest.param({"nodeSelector": H100, "containers": [
                         container(args=["--model", "$(MODEL)"])]},
                     "Deployment/llama spec.template.spec.containers[0].env", id="unresolved-var"),
    ],
)  # fmt: skip
def test_missing_or_unreadable_fields_name_the_field(
    tmp_path: Path, pod: dict[str, Any], field: str
) -> None:
    """Every gap in a manifest is an error naming the object and the field (exit 2)."""
    assert error_of(tmp_path, deployment(pod=pod)).field == field


@pytest.mark.parametrize(
    ("label", "gpu"),
    [
        pytest.param("NVIDIA-H100-80GB-HBM3", "h100-sxm", id="h100-sxm"),
        pytest.param("NVIDIA-H100-PCIe", "h100-pcie", id="h100-pcie"),
        pytest.param("NVIDIA-H100-NVL", "h100-nvl", id="h100-nvl"),
        pytest.param("NVIDIA-A100-SXM4-80GB", "a100-sxm-80gb", id="a100-80"),
        pytest.param("NVIDIA-A100-80GB-PCIe", "a100-pcie-80gb", id="a100-pcie"),
        pytest.param("NVIDIA-L40S", "l40s", id="l40s"),
        pytest.param("NVIDIA-L4", "l4", id="l4"),
        pytest.param("Tesla-T4", "t4", id="t4"),
        pytest.param("nvidia-h100-mega-80gb", "h100-sxm", id="gke-h100-mega"),
        pytest.param("nvidia-tesla-a100", "a100-sxm-40gb", id="gke-a100"),
        pytest.param("NVIDIA-GeForce-RTX-4090", "rtx-4090", id="rtx-4090"),
        pytest.param("AMD_Instinct_MI300X", "mi300x", id="mi300x"),
    ],
)
def test_gpu_product_labels_map_to_catalog_ids(label: str, gpu: str) -> None:
    """GPU Feature Discovery, GKE and AMD labeller values name catalog GPUs."""
    assert gpu_from_label(label) == gpu


@pytest.mark.parametrize("label", ["NVIDIA-A100-PCIE-40GB", "NVIDIA-H200-NVL", "Quadro-RTX-8000"])
def test_gpu_labels_outside_the_catalog_are_refused(label: str) -> None:
    """A GPU the catalog lacks is never mapped to a near neighbour."""
    with pytest.raises(UnknownGpuLabel):
        gpu_from_label(label)


def test_a_deployment_checks_like_its_command_line(
    run_check: Callable[..., Run], tmp_path: Path, catalog_dir: Path
) -> None:
    """The same vLLM command, as a Deployment or after ``--``, gives the same numbers."""
    path = tmp_path / "k8s.yaml"
    path.write_text(yaml.safe_dump(deployment(replicas=1)), encoding="utf-8")
    offline = ["--offline", "--catalog-dir", str(catalog_dir), "--format", "json"]
    from_k8s = json.loads(run_check(*offline, str(path)).out)
    command = run_check(*offline, "--gpu", "h100-sxm", "--", "vllm", "serve", *ARGS)
    from_command = json.loads(command.out)
    keys = ("setup", "memory", "max_batch", "verdict")
    assert {k: from_k8s[k] for k in keys} == {k: from_command[k] for k in keys}


def test_helm_output_on_stdin_is_checked(
    run_check: Callable[..., Run], catalog_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``helm template ... | capplan check -`` reads the objects from stdin."""
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "llama"}}
    stream = yaml.safe_dump_all([service, deployment(replicas=1)])
    monkeypatch.setattr("sys.stdin", io.StringIO(stream))
    result = run_check("--offline", "--catalog-dir", str(catalog_dir), "-")
    assert result.code == 0


@pytest.mark.parametrize("fmt", ["json", "junit"])
def test_several_workloads_give_one_document_and_the_worst_exit(
    run_check: Callable[..., Run], tmp_path: Path, catalog_dir: Path, fmt: str
) -> None:
    """Two Deployments (one fits, one does not): one JSON array or <testsuites>, exit 1."""
    big = {**deployment(replicas=1), "metadata": {"name": "too-big"}}
    big_args = ["--model", "meta-llama/Llama-3.1-70B", "--max-model-len", "8192"]
    big["spec"]["template"]["spec"] = {
        "nodeSelector": {"nvidia.com/gpu.product": "NVIDIA-L4"},
        "containers": [container(gpus=1, args=big_args)],
    }
    path = tmp_path / "k8s.yaml"
    path.write_text(yaml.safe_dump_all([deployment(replicas=1), big]), encoding="utf-8")
    result = run_check("--offline", "--catalog-dir", str(catalog_dir), "--format", fmt, str(path))
    if fmt == "json":
        verdicts = [report["verdict"] for report in json.loads(result.out)]
    else:
        root = ElementTree.fromstring(result.out)  # noqa: S314 - our own output
        verdicts = ["fail" if int(s.get("failures", 0)) else "pass" for s in root]
        assert root.tag == "testsuites"
    assert (result.code, verdicts) == (1, ["pass", "fail"])
