"""Exact parameter counts against published totals: every reference model, its verdict.

Reads ``models.json`` (exact totals of classic models), ``models_2025.json`` (configs of
2025-26 architectures with the Hub's safetensors totals) and ``models_multimodal.json``
(multimodal checkpoints with exact published counts) from the reference directory. Each
entry's config is counted and compared with :func:`service.domain.count_check.check_hub_total`
(``exact``, ``explained`` with the extras named, ``mismatch``); extra elements a source states
(``checkpoint_extras.mtp_elements``) are taken off the Hub total first. An entry capplan refuses
or cannot read is listed with the reason, never dropped. Target: no ``mismatch``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from service.domain.architecture import InvalidConfig, UnsupportedArchitecture
from service.domain.count_check import check_hub_total
from service.domain.hf_config import architecture_from_config
from service.domain.parameters import count_parameters

REFERENCE_FILES = ("models.json", "models_2025.json", "models_multimodal.json")


class CountRow(msgspec.Struct, frozen=True, kw_only=True):
    """One reference model: its published total, capplan's count and the verdict."""

    repo_id: str
    source_file: str
    published_total: int
    computed_total: int | None
    verdict: str
    explanation: str


def load_reference_counts(reference_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """``(file name, entry)`` for every model of the reference count files present."""
    entries: list[tuple[str, dict[str, Any]]] = []
    for name in REFERENCE_FILES:
        path = reference_dir / name
        if path.is_file():
            models = json.loads(path.read_text(encoding="utf-8"))["models"]
            entries += [(name, model) for model in models]
    return entries


def check_count(source_file: str, entry: dict[str, Any]) -> CountRow:
    """Count one entry's config and judge it against its published total."""
    published = int(entry.get("hub_safetensors_total") or entry["total_params"])
    stated = int(entry.get("checkpoint_extras", {}).get("mtp_elements", 0))
    try:
        arch = architecture_from_config(entry["config"])
    except (UnsupportedArchitecture, InvalidConfig) as exc:
        return CountRow(
            repo_id=entry["repo_id"],
            source_file=source_file,
            published_total=published,
            computed_total=None,
            verdict="refused",
            explanation=str(exc),
        )
    counted = count_parameters(arch)
    oracle = "Hub safetensors total" if entry.get("hub_safetensors_total") else "published total"
    check = check_hub_total(
        arch, counted, {"total": published - stated}, quantized=False, oracle=oracle
    )
    if check is None:
        return CountRow(
            repo_id=entry["repo_id"],
            source_file=source_file,
            published_total=published,
            computed_total=counted.total,
            verdict="not compared",
            explanation="no published total to compare with",
        )
    explanation = check.explanation
    if stated:
        explanation += f"; {stated:,} elements the source states as MTP taken off first"
    return CountRow(
        repo_id=entry["repo_id"],
        source_file=source_file,
        published_total=published,
        computed_total=counted.total,
        verdict=check.verdict.value,
        explanation=explanation,
    )


def check_counts(reference_dir: Path) -> list[CountRow]:
    """Every reference model through :func:`check_count`, in file order."""
    return [check_count(name, entry) for name, entry in load_reference_counts(reference_dir)]


def markdown(rows: Sequence[CountRow]) -> list[str]:
    """The report section: one line per model."""
    lines = [
        "## Parameter counts against published totals",
        "",
        "| model | file | published | capplan | verdict | detail |",
        "|---|---|---:|---:|---|---|",
    ]
    for row in rows:
        computed = f"{row.computed_total:,}" if row.computed_total is not None else "-"
        lines.append(
            f"| {row.repo_id} | {row.source_file} | {row.published_total:,} | {computed} "
            f"| {row.verdict} | {row.explanation} |"
        )
    return lines


def summary_lines(rows: Sequence[CountRow]) -> list[str]:
    """One line: how many counts are exact, explained, mismatched or refused."""
    verdicts = [row.verdict for row in rows]
    parts = [f"{verdicts.count(v)} {v}" for v in ("exact", "explained", "mismatch", "refused")]
    return [f"parameter counts over {len(rows)} reference models: {', '.join(parts)}"]
