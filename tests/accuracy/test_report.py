"""The validation report: Markdown with every datapoint, a well-formed SVG, clear failures."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from service.cli import main
from service.validation.cases import Metric
from service.validation.evaluate import Validation
from service.validation.report import engine_table, figure, render_markdown


def test_report_lists_every_datapoint_and_the_summary(validation: Validation) -> None:
    markdown = render_markdown(validation, "catalog/reference", "validation.svg")
    for result in validation.results:
        assert f"`{result.case.id}`" in markdown
    for check in validation.kv:
        assert f"`{check.id}`" in markdown
    assert "## Summary" in markdown
    assert "![predicted vs measured](validation.svg)" in markdown


def test_serving_sweeps_are_split_by_engine_kind(validation: Validation) -> None:
    """The per-engine table covers every TTFT and TPOT sweep once, under its engine kind."""
    rows = [row.split(" | ") for row in engine_table(validation)[2:]]
    for metric, family in (
        (Metric.TTFT_AT_CONCURRENCY, "TTFT at stated concurrency"),
        (Metric.TPOT_AT_CONCURRENCY, "TPOT at stated concurrency"),
    ):
        sweeps = [r for r in validation.results if r.case.metric is metric]
        counted = {row[1]: int(row[2]) for row in rows if row[0] == f"| {family}"}
        assert sum(counted.values()) == len(sweeps)
        for kind, count in counted.items():
            assert count == sum(1 for r in sweeps if r.case.engine_kind == kind)


def test_svg_is_well_formed_with_a_marker_per_prediction(validation: Validation) -> None:
    root = ET.fromstring(figure(validation))  # noqa: S314 - our own generated SVG
    circles = root.findall(".//{http://www.w3.org/2000/svg}circle")
    legend = 3
    assert len(circles) == 2 * len(validation.results) + len(validation.kv) + legend


def test_missing_reference_data_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    code = main(["validate", "--reference-dir", str(missing), "--output", str(tmp_path / "v.md")])
    assert code == 2
    assert str(missing) in capsys.readouterr().err
    assert not (tmp_path / "v.md").exists()
