"""``capplan validate``: predicted vs measured for every reference datapoint, as a report.

Offline. Reads ``catalog/reference/`` (the settings' ``reference_dir``, or ``--reference-dir``), the
repo's ``bench/results/gpu_roofline_h200.json`` and ``catalog/calibration.yaml``; writes the
Markdown report and, next to it, the SVG plot (``docs/validation.md`` + ``.svg``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from service.catalog_files import load_engine_profiles
from service.validation.engine_log_report import check_engine_logs, load_engine_logs
from service.validation.engine_log_report import markdown as engine_log_markdown
from service.validation.engine_log_report import summary_lines as engine_log_summary
from service.validation.evaluate import validate
from service.validation.parameter_report import check_counts
from service.validation.parameter_report import markdown as count_markdown
from service.validation.parameter_report import summary_lines as count_summary
from service.validation.reference import (
    CALIBRATION_FILE,
    REPO_ROOT,
    ReferenceMissing,
    load_calibration,
    load_reference,
)
from service.validation.report import (
    engine_table,
    figure,
    render_markdown,
    replay_table,
    summary_table,
)

EXIT_MISSING_DATA = 2


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``validate``."""
    parser = subparsers.add_parser(
        "validate",
        help="back-test the memory and latency models against reference measurements",
        description=(
            "Predict every reference datapoint (vLLM V0 KV capacity logs, start-up logs of vLLM "
            "V1, SGLang and TensorRT-LLM with signed weights / KV memory / KV tokens errors, "
            "published latency and throughput, our H200 reference run), in-sample and "
            "held-out, and write a Markdown "
            "report with an SVG plot. Exits 2 if the reference data is missing."
        ),
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=REPO_ROOT / "docs" / "validation.md",
        help="Markdown report (the SVG is written next to it with a .svg suffix)",
    )
    parser.add_argument("--reference-dir", type=Path, help="default: <catalog dir>/reference")
    parser.add_argument("--calibration", type=Path, default=CALIBRATION_FILE)
    parser.set_defaults(func=run_validate)


def run_validate(args: argparse.Namespace) -> int:
    try:
        reference = load_reference(args.reference_dir)
        calibration = load_calibration(args.calibration)
    except ReferenceMissing as exc:
        print(f"capplan validate: {exc}", file=sys.stderr)
        return EXIT_MISSING_DATA
    validation = validate(reference, calibration)
    output: Path = args.output
    svg = output.with_suffix(".svg")
    output.parent.mkdir(parents=True, exist_ok=True)
    shown_dir = _shown(Path(reference.directory))
    engine_logs = check_engine_logs(
        load_engine_logs(Path(reference.directory)), load_engine_profiles()
    )
    counts = check_counts(Path(reference.directory))
    report = render_markdown(validation, shown_dir, svg.name)
    report += "\n" + "\n".join(engine_log_markdown(engine_logs)) + "\n"
    report += "\n" + "\n".join(count_markdown(counts)) + "\n"
    output.write_text(report, encoding="utf-8")
    svg.write_text(figure(validation), encoding="utf-8")
    print("\n".join(summary_table(validation)))
    print("\n".join(replay_table(validation)))
    print("\n".join(engine_table(validation)))
    print("\n".join(engine_log_summary(engine_logs)))
    print("\n".join(count_summary(counts)))
    print(f"wrote {output} and {svg}")
    return 0


def _shown(directory: Path) -> str:
    """The reference directory relative to the repository when it lies inside it."""
    try:
        return str(directory.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(directory)
