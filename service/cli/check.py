"""``capplan check``: a CI gate that exits 0 when a deployment fits, 1 when not, 2 on bad input."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any

import httpx
from msgspec.structs import replace

from service.gate.backend import Backend, Rejected, Unavailable
from service.gate.evaluate import evaluate
from service.gate.formats import FORMATS, render, render_many
from service.gate.inputs import Input, Overrides, is_file_input, read_inputs
from service.gate.offline import OfflineBackend
from service.gate.remote import HttpBackend
from service.gate.report import ErrorReport, Report
from service.gate.target import InputError
from service.settings import Settings, SettingsError

PROGRAM = "capplan check"
EXAMPLES = """\
examples:
  capplan check --url http://capplan:8000 deploy.yaml
  capplan check --offline --format github deploy.yaml
  capplan check --offline --gpu h100-sxm -- vllm serve meta-llama/Llama-3.1-8B --max-model-len 8192
  capplan check --offline --gpu h100-sxm -- python -m sglang.launch_server --model-path M --tp 2
  helm template my-release ./chart | capplan check --offline --format github -

exit status: 0 it fits (and meets its SLO), 1 it does not, 2 the input could not be checked
(bad manifest or flag, unknown model or GPU, unreachable server).
"""


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    check = subparsers.add_parser(
        "check",
        help="gate a deployment: exit 0 it fits, 1 it does not, 2 bad input",
        description=(
            "Check that an LLM serving deployment starts (one sequence of max_model_len fits in "
            "the KV cache), how many of max_num_seqs fit at once, and that its latency meets the "
            "SLO. When it fails, list the cheapest changes that pass (docs/ci-gate.md)."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "inputs", nargs="*", metavar="MANIFEST | - | -- COMMAND",
        help="a capplan manifest or Kubernetes objects (YAML/JSON; - reads stdin), or a vLLM, "
        "SGLang or TensorRT-LLM serving command after --",
    )  # fmt: skip
    where = check.add_mutually_exclusive_group()
    where.add_argument("--url", help="capplan server to ask (default: $CAPPLAN_URL)")
    where.add_argument(
        "--offline", action="store_true", help="compute with the bundled catalog, no server"
    )
    check.add_argument(
        "--catalog-dir", type=Path, help="catalog for --offline (CAPPLAN_CATALOG_DIR)"
    )
    check.add_argument("--gpu", help="GPU id from the catalog (overrides the manifest)")
    check.add_argument(
        "--engine",
        help="engine and version, e.g. vllm, vllm==0.19.0, sglang, trtllm "
        "(default: inferred from the command line, else capplan's default)",
    )
    check.add_argument("--gpu-count", type=int, help="GPUs in all, when not the TP x PP x DP size")
    check.add_argument(
        "--allow-gpus",
        type=_gpu_list,
        default=(),
        help="GPU ids a suggested fix may move to, any vendor (default: the same vendor)",
    )
    check.add_argument(
        "--deny-gpus", type=_gpu_list, default=(), help="GPU ids a suggested fix must not use"
    )
    check.add_argument("--format", choices=FORMATS, default="human", help="output format")
    check.add_argument("--output", type=Path, help="write the report here instead of stdout")
    check.add_argument(
        "--timeout", type=_seconds, default=30.0, help="HTTP timeout in seconds (at most a day)"
    )
    check.set_defaults(func=run_check)


MAX_TIMEOUT_S = 86_400.0
"""``--timeout``'s ceiling, a day: far larger values overflow the socket's clock."""


def _seconds(text: str) -> float:
    """``--timeout``: seconds, more than 0 and at most a day (httpx fails late on the rest:
    a negative or NaN timeout is a ``ValueError`` and a huge one an ``OverflowError``)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_TIMEOUT_S:  # NaN compares false, so it lands here too
        expected = f"a number of seconds more than 0 and at most {MAX_TIMEOUT_S:,.0f}"
        raise argparse.ArgumentTypeError(f"expected {expected}, got '{text}'")
    return value


def _unwritable(path: Path) -> str | None:
    """Why ``--output PATH`` cannot be written, found before any work, else ``None``."""
    if path.is_dir():
        return f"cannot write {path}: it is a directory"
    parent = path.parent
    if not parent.is_dir():
        missing = "is not a directory" if parent.exists() else "does not exist"
        return f"cannot write {path}: the directory {parent} {missing}"
    return None


def _gpu_list(text: str) -> tuple[str, ...]:
    """``h100-sxm,h200-sxm`` (commas or spaces)."""
    return tuple(item for item in text.replace(",", " ").split() if item)


def open_backend(args: argparse.Namespace) -> Backend:
    if args.offline:
        try:
            settings = Settings.from_env()
        except SettingsError as exc:
            raise Unavailable(str(exc)) from exc
        catalog_dir = args.catalog_dir or settings.catalog_dir
        return OfflineBackend.from_directory(catalog_dir, settings.prices_file)
    url = args.url or os.environ.get("CAPPLAN_URL", "")
    if not url:
        raise InputError(PROGRAM, "--url", "give --url URL (or set CAPPLAN_URL), or --offline")
    try:
        return HttpBackend.connect(url, args.timeout)
    except httpx.InvalidURL as exc:
        raise InputError(PROGRAM, "--url", f"invalid URL '{url}': {exc}") from exc


def check(args: argparse.Namespace) -> list[tuple[Report | ErrorReport, str | None]]:
    """Read, evaluate; every failure to check becomes an :class:`ErrorReport`.

    One result per target: a file of Kubernetes objects may hold several workloads.
    """
    file = args.inputs[0] if is_file_input(args.inputs) and args.inputs[0] != "-" else None
    overrides = Overrides(gpu=args.gpu, gpu_count=args.gpu_count, engine=args.engine)
    try:
        limits = {"allow_gpus": args.allow_gpus, "deny_gpus": args.deny_gpus}
        inputs = [
            replace(item, target=replace(item.target, **limits))
            for item in read_inputs(args.inputs, overrides)
        ]
        backend = open_backend(args)
    except InputError as exc:
        return [(ErrorReport(source=exc.source, field=exc.field, message=exc.message), file)]
    except (Rejected, Unavailable) as exc:
        return [(ErrorReport(source=file or PROGRAM, field=None, message=str(exc)), file)]
    try:
        return [(_evaluate(item, backend), item.file) for item in inputs]
    finally:
        if isinstance(backend, HttpBackend):
            backend.close()


def _evaluate(item: Input, backend: Backend) -> Report | ErrorReport:
    try:
        return evaluate(item.target, backend, item.ignored)
    except InputError as exc:
        return ErrorReport(source=exc.source, field=exc.field, message=exc.message)
    except (Rejected, Unavailable) as exc:
        return ErrorReport(source=item.target.source, field=None, message=str(exc))


def run_check(args: argparse.Namespace) -> int:
    if args.output is not None and (problem := _unwritable(args.output)):
        return _output_error(problem)
    results = check(args)
    text = render_many([result for result, _ in results], args.format, results[0][1])
    errors = [result for result, _ in results if isinstance(result, ErrorReport)]
    for error in errors:
        sys.stderr.write(render(error, "human"))
    code = max(result.exit_code for result, _ in results)
    if errors and args.format == "human" and len(results) == 1:
        return code
    if args.output is not None:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            return _output_error(f"cannot write {args.output}: {exc.strerror}")
    else:
        sys.stdout.write(text)
    return code


def _output_error(message: str) -> int:
    """``--output`` is bad input (exit 2): said on stderr, where errors always go."""
    error = ErrorReport(source=PROGRAM, field="--output", message=message)
    sys.stderr.write(render(error, "human"))
    return 2
