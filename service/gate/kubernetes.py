"""Kubernetes objects as deployments to check: the serving container, its GPUs, its replicas.

Read: ``Deployment``, ``StatefulSet``, ``Pod``, LeaderWorkerSet (``leaderWorkerTemplate``:
``size`` pods per replica), KServe ``InferenceService`` (``spec.predictor.containers``, or
``spec.predictor.model`` with the ``ServingRuntime`` it names from the same input) and
``ServingRuntime``. From the pod: the container whose command/args run an engine (or whose
image is ``vllm/vllm-openai``, whose entrypoint is ``vllm serve``), ``$(VAR)`` references
resolved from its ``env``, the ``nvidia.com/gpu`` / ``amd.com/gpu`` limit, and the GPU from
the node selector or required node affinity (:mod:`service.gate.gpu_labels`). Other kinds
(Services, ConfigMaps …) are skipped. Anything missing is an :class:`InputError` naming the
object and field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from service.gate.command_line import split_command, unwrap_shell
from service.gate.gpu_labels import GPU_LABEL_KEYS, UnknownGpuLabel, gpu_from_label
from service.gate.target import InputError

GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu")
_ENGINE_WORDS = re.compile(r"(^|[/\s])(vllm|sglang|trtllm-serve)\b|vllm\.entrypoints|sglang\.")
_VLLM_IMAGE = re.compile(r"(^|/)vllm-openai(:|@|$)")
_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
_SHELL_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Pod", "LeaderWorkerSet", "InferenceService")


class Workload(msgspec.Struct, frozen=True, kw_only=True):
    """One serving workload: where it came from, its command, GPUs per replica, replicas."""

    label: str
    argv: list[str]
    gpus_per_replica: int
    replicas: int
    gpu: str | None
    image: str
    warnings: list[str]


def is_kubernetes(document: object) -> bool:
    return isinstance(document, dict) and "apiVersion" in document and "kind" in document


def _get(node: Any, path: str) -> Any:
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _runs_engine(container: Mapping[str, Any]) -> bool:
    words = [*(container.get("command") or []), *(container.get("args") or [])]
    text = " ".join(str(word) for word in words)
    return bool(_ENGINE_WORDS.search(text)) or bool(
        _VLLM_IMAGE.search(str(container.get("image", ""))) and not container.get("command")
    )


def _argv(container: Mapping[str, Any], fail: Any, where: str) -> list[str]:
    command = [str(word) for word in container.get("command") or []]
    args = [str(word) for word in container.get("args") or []]
    if not command and _VLLM_IMAGE.search(str(container.get("image", ""))):
        command = ["vllm", "serve"]  # the vllm/vllm-openai image's entrypoint
    env = {
        str(item.get("name")): str(item["value"])
        for item in container.get("env") or []
        if isinstance(item, dict) and "value" in item
    }

    def resolve(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        if name not in env:
            raise fail(f"{where}.env", f"{match.group(0)} needs a literal value for {name}")
        return env[name]

    # The kubelet expands $(VAR) in command and args; a shell then expands $VAR and ${VAR}.
    words = [_REFERENCE.sub(resolve, word) for word in command + args]
    if len(words) == 1 and " " in words[0]:
        words = split_command(words[0])
    shell = len(words) > 2 and words[0].rsplit("/", 1)[-1] in ("sh", "bash") and words[1] == "-c"
    words = unwrap_shell(words)
    return [_SHELL_REFERENCE.sub(resolve, word) for word in words] if shell else words


def _gpus(container: Mapping[str, Any], fail: Any, where: str) -> int:
    resources = container.get("resources") or {}
    for section in ("limits", "requests"):
        for name in GPU_RESOURCES:
            value = (resources.get(section) or {}).get(name)
            if value is not None:
                try:
                    return int(value)
                except (TypeError, ValueError):
                    raise fail(
                        f"{where}.resources.{section}.{name}", "expected a GPU count"
                    ) from None
    expected = " or ".join(GPU_RESOURCES)
    raise fail(f"{where}.resources.limits", f"expected a {expected} limit (GPUs per pod)")


def _gpu_label(pod: Mapping[str, Any], fail: Any, where: str) -> tuple[str | None, list[str]]:
    """The catalog GPU from the node selector, else the required node affinity."""
    selector = pod.get("nodeSelector") or {}
    found: list[tuple[str, list[str]]] = [
        (f"{where}.nodeSelector.{key}", [str(selector[key])])
        for key in GPU_LABEL_KEYS
        if key in selector
    ]
    terms = _get(pod, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution")
    for term in (terms or {}).get("nodeSelectorTerms") or []:
        for expression in term.get("matchExpressions") or []:
            if expression.get("key") in GPU_LABEL_KEYS and expression.get("operator") == "In":
                path = f"{where}.affinity (matchExpressions {expression['key']})"
                found.append((path, [str(value) for value in expression.get("values") or []]))
    if not found or not found[0][1]:
        return None, []
    path, values = found[0]
    try:
        gpu = gpu_from_label(values[0])
    except UnknownGpuLabel as exc:
        raise fail(path, str(exc)) from exc
    warnings = []
    if len(values) > 1:
        warnings.append(f"{path} allows {', '.join(values)}; checked on the first, {gpu}")
    return gpu, warnings


def _pod_workload(
    label: str, pod: Any, replicas: int, size: int, fail: Any, where: str
) -> Workload:
    containers = pod.get("containers") if isinstance(pod, dict) else None
    if not isinstance(containers, list) or not containers:
        raise fail(f"{where}.containers", "expected a list of containers")
    serving = [i for i, c in enumerate(containers) if isinstance(c, dict) and _runs_engine(c)]
    if not serving:
        message = "no container runs vllm serve, sglang or trtllm-serve (command/args)"
        raise fail(f"{where}.containers", message)
    index = serving[0]
    container = containers[index]
    at = f"{where}.containers[{index}]"
    gpu, warnings = _gpu_label(pod, fail, where)
    return Workload(
        label=label,
        argv=_argv(container, fail, at),
        gpus_per_replica=_gpus(container, fail, at) * size,
        replicas=replicas,
        gpu=gpu,
        image=str(container.get("image", "")),
        warnings=warnings,
    )


def workloads(documents: Sequence[Any], source: str) -> list[Workload]:
    """Every serving workload in a stream of Kubernetes objects (module doc)."""
    runtimes = {
        str(_get(doc, "metadata.name")): doc
        for doc in documents
        if is_kubernetes(doc) and doc["kind"] in ("ServingRuntime", "ClusterServingRuntime")
    }
    found = []
    for doc in documents:
        if not is_kubernetes(doc):
            continue
        kind, name = doc["kind"], _get(doc, "metadata.name") or "(unnamed)"
        label = f"{kind}/{name}"

        def fail(field: str, message: str, label: str = label) -> InputError:
            return InputError(source, f"{label} {field}", message)

        replicas = _get(doc, "spec.replicas")
        replicas = replicas if isinstance(replicas, int) and replicas >= 0 else 1
        if kind in ("Deployment", "StatefulSet"):
            pod = _get(doc, "spec.template.spec")
            found.append(_pod_workload(label, pod, replicas, 1, fail, "spec.template.spec"))
        elif kind == "Pod":
            found.append(_pod_workload(label, doc.get("spec"), 1, 1, fail, "spec"))
        elif kind == "LeaderWorkerSet":
            template = _get(doc, "spec.leaderWorkerTemplate") or {}
            size = template.get("size", 1)
            role = "leaderTemplate" if template.get("leaderTemplate") else "workerTemplate"
            where = f"spec.leaderWorkerTemplate.{role}.spec"
            pod = (template.get(role) or {}).get("spec")
            found.append(_pod_workload(label, pod, replicas, int(size), fail, where))
        elif kind == "InferenceService":
            found.append(_inference_service(doc, label, runtimes, fail))
        elif kind == "ServingRuntime" and not any(
            is_kubernetes(d) and d["kind"] == "InferenceService" for d in documents
        ):
            found.append(_pod_workload(label, doc.get("spec"), 1, 1, fail, "spec"))
    if not found:
        kinds = ", ".join((*WORKLOAD_KINDS, "ServingRuntime"))
        raise InputError(source, "kind", f"no serving workload found: expected one of {kinds}")
    return found


def _inference_service(
    doc: Mapping[str, Any], label: str, runtimes: Mapping[str, Any], fail: Any
) -> Workload:
    predictor = _get(doc, "spec.predictor") or {}
    minimum = predictor.get("minReplicas", 1)
    replicas = minimum if isinstance(minimum, int) and minimum >= 1 else 1
    if predictor.get("containers"):
        return _pod_workload(label, predictor, replicas, 1, fail, "spec.predictor")
    model = predictor.get("model")
    if not isinstance(model, dict):
        raise fail("spec.predictor", "expected model or containers")
    runtime_name = model.get("runtime")
    runtime = runtimes.get(str(runtime_name)) if runtime_name else None
    base: dict[str, Any] = {}
    if runtime is not None:
        base = dict((_get(runtime, "spec.containers") or [{}])[0])
    elif not model.get("command"):
        message = f"ServingRuntime '{runtime_name}' is not in the input: give it in the same file"
        raise fail("spec.predictor.model.runtime", message)
    container = {
        **base,
        **{key: value for key, value in model.items() if key != "args"},
        "args": [*(base.get("args") or []), *(model.get("args") or [])],
    }
    pod = {**predictor, "containers": [container]}
    return _pod_workload(label, pod, replicas, 1, fail, "spec.predictor")
