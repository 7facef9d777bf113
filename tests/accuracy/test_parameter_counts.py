"""Accuracy gate: every reference model's count against its published total, none mismatched."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.validation.parameter_report import CountRow, check_counts, markdown, summary_lines

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "catalog" / "reference"


@pytest.fixture(scope="module")
def rows() -> list[CountRow]:
    found = check_counts(REFERENCE_DIR)
    if not found:
        pytest.fail(f"no reference counts under {REFERENCE_DIR}", pytrace=False)
    return found


def test_no_reference_count_mismatches_or_is_refused(rows: list[CountRow]) -> None:
    """Held-out published totals: every model is exact or explained by a named convention."""
    ok = ("exact", "explained")
    bad = [(r.repo_id, r.verdict, r.explanation) for r in rows if r.verdict not in ok]
    assert bad == []


def test_the_2025_architectures_are_all_checked(rows: list[CountRow]) -> None:
    """Every reference file contributes, so the 2025-26 and multimodal families are reported."""
    files = {"models.json", "models_2025.json", "models_multimodal.json"}
    assert {r.source_file for r in rows} == files


def test_report_section_lists_every_model(rows: list[CountRow]) -> None:
    """The Markdown section has one table row per model and the summary counts them all."""
    lines = markdown(rows)
    table = [line for line in lines if line.startswith("| ") and "---" not in line]
    assert len(table) == len(rows) + 1
    assert f"over {len(rows)} reference models" in summary_lines(rows)[0]


@pytest.mark.parametrize(
    ("repo_id", "sharing"),
    [
        ("zai-org/GLM-4.5", False),
        ("zai-org/GLM-4.5-Air", False),
        ("zai-org/GLM-4.7-Flash", False),
        ("zai-org/GLM-5.1", True),
    ],
    ids=["glm-4.5", "glm-4.5-air", "glm-4.7-flash", "glm-5.1"],
)
def test_mtp_checkpoints_are_explained_in_their_own_convention(
    rows: list[CountRow], repo_id: str, sharing: bool
) -> None:
    """GLM-4.5/4.7 MTP layers store their own embed_tokens and shared_head.head (DeepSeek-V3's
    convention); GLM-5.1's (model.layers.78) stores neither and shares the main model's."""
    [row] = [r for r in rows if r.repo_id == repo_id]
    assert row.verdict == "explained"
    assert "MTP layer(s) declared by the config" in row.explanation
    assert ("sharing the main embedding and head" in row.explanation) is sharing
