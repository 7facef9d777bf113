"""``capplan check``: a CI gate that exits 0 when a deployment fits, 1 when not, 2 on bad input."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from service.gate.backend import Backend, Rejected, Unavailable
from service.gate.evaluate import evaluate
from service.gate.formats import FORMATS, render
from service.gate.manifest import load_manifest, target_from_fields
from service.gate.offline import OfflineBackend
from service.gate.remote import HttpBackend
from service.gate.report import ErrorReport, Report
from service.gate.target import InputError, Target
from service.gate.vllm_args import SOURCE, SPELLING, manifest_fields, parse_vllm_serve
from service.settings import Settings, SettingsError

PROGRAM = "capplan check"
EXAMPLES = """\
examples:
  capplan check --url http://capplan:8000 deploy.yaml
  capplan check --offline --format github deploy.yaml
  capplan check --offline --gpu h100-sxm -- vllm serve meta-llama/Llama-3.1-8B --max-model-len 8192

exit status: 0 it fits (and meets its SLO), 1 it does not, 2 the input could not be checked
(bad manifest or flag, unknown model or GPU, unreachable server).
"""


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    check = subparsers.add_parser(
        "check",
        help="gate a deployment: exit 0 it fits, 1 it does not, 2 bad input",
        description=(
            "Check that a vLLM deployment starts (one sequence of max_model_len fits in the KV "
            "cache), how many of max_num_seqs fit at once, and that its latency meets the SLO. "
            "When it fails, list the cheapest changes that pass."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "inputs", nargs="*", metavar="MANIFEST | -- vllm serve ARGS",
        help="a YAML/JSON manifest, or a vllm serve command after --",
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
    check.add_argument("--gpu-count", type=int, help="GPUs in all, when not the TP x PP size")
    check.add_argument("--format", choices=FORMATS, default="human", help="output format")
    check.add_argument("--output", type=Path, help="write the report here instead of stdout")
    check.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds")
    check.set_defaults(func=run_check)


def _is_manifest(inputs: list[str]) -> bool:
    if len(inputs) != 1 or inputs[0] in ("vllm", "serve"):
        return False
    return inputs[0].endswith((".yaml", ".yml", ".json")) or Path(inputs[0]).is_file()


def read_target(args: argparse.Namespace) -> tuple[Target, list[str]]:
    """The target, and the vllm arguments it skipped."""
    inputs: list[str] = args.inputs
    if not inputs:
        raise InputError(PROGRAM, "(arguments)", "give a manifest, or -- vllm serve MODEL ...")
    if _is_manifest(inputs):
        overrides = {"gpu": args.gpu, "gpu_count": args.gpu_count}
        given = {key: value for key, value in overrides.items() if value is not None}
        return load_manifest(Path(inputs[0]), given), []
    command = parse_vllm_serve(inputs)
    fields = manifest_fields(command, args.gpu, args.gpu_count)
    target = target_from_fields(fields, source=SOURCE, base_dir=Path.cwd(), spelling=SPELLING)
    return target, list(command.ignored)


def open_backend(args: argparse.Namespace) -> Backend:
    if args.offline:
        try:
            catalog_dir = args.catalog_dir or Settings.from_env().catalog_dir
        except SettingsError as exc:
            raise Unavailable(str(exc)) from exc
        return OfflineBackend.from_directory(catalog_dir)
    url = args.url or os.environ.get("CAPPLAN_URL", "")
    if not url:
        raise InputError(PROGRAM, "--url", "give --url URL (or set CAPPLAN_URL), or --offline")
    return HttpBackend.connect(url, args.timeout)


def check(args: argparse.Namespace) -> tuple[Report | ErrorReport, str | None]:
    """Read, evaluate; every failure to check becomes an :class:`ErrorReport`."""
    source = PROGRAM
    file = args.inputs[0] if _is_manifest(args.inputs) else None
    try:
        target, ignored = read_target(args)
        source = target.source
        backend = open_backend(args)
        try:
            return evaluate(target, backend, ignored), file
        finally:
            if isinstance(backend, HttpBackend):
                backend.close()
    except InputError as exc:
        return ErrorReport(source=exc.source, field=exc.field, message=exc.message), file
    except (Rejected, Unavailable) as exc:
        return ErrorReport(source=source, field=None, message=str(exc)), file


def run_check(args: argparse.Namespace) -> int:
    result, file = check(args)
    text = render(result, args.format, file)
    if isinstance(result, ErrorReport):
        sys.stderr.write(render(result, "human"))
        if args.format == "human":
            return result.exit_code
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return result.exit_code
