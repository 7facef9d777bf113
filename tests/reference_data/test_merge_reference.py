"""scripts/merge_reference.py: new public datapoints are merged by id, sources required."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts.merge_reference import main, merge_directory

OURS = {
    "about": "ours",
    "datapoints": [
        {"id": "a", "source": "https://example.org/a", "value": 1.0},
        {"id": "b", "source": "https://example.org/b", "value": 2.0},
    ],
}


def write(directory: Path, name: str, document: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    """(incoming, target) with ``latency.json`` in the target holding entries a and b."""
    target = tmp_path / "catalog-reference"
    write(target, "latency.json", OURS)
    return tmp_path / "incoming", target


def test_new_ids_are_added_and_differing_ones_replaced(dirs: tuple[Path, Path]) -> None:
    """b changes, c is added, a (absent upstream) is kept; the report names each id."""
    incoming, target = dirs
    write(incoming, "latency.json", {"datapoints": [
        {"id": "b", "source": "https://example.org/b2", "value": 2.5},
        {"id": "c", "source": "https://example.org/c", "value": 3.0},
    ]})  # fmt: skip
    [report] = merge_directory(incoming, target)
    assert (report.added, report.changed, report.rejected) == (["c"], ["b"], [])
    merged = json.loads((target / "latency.json").read_text(encoding="utf-8"))
    assert merged["about"] == "ours"
    assert [(p["id"], p["value"]) for p in merged["datapoints"]] == [
        ("a", 1.0),
        ("b", 2.5),
        ("c", 3.0),
    ]


def test_an_entry_without_a_source_is_rejected(dirs: tuple[Path, Path]) -> None:
    """No source, no merge, and a non-zero exit."""
    incoming, target = dirs
    write(incoming, "latency.json", {"datapoints": [{"id": "d", "value": 4.0}]})
    assert main([str(incoming), "--target", str(target)]) == 1
    merged = json.loads((target / "latency.json").read_text(encoding="utf-8"))
    assert [p["id"] for p in merged["datapoints"]] == ["a", "b"]


def test_dry_run_reports_without_writing(
    dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run prints the ids it would add and leaves the file as it was."""
    incoming, target = dirs
    before = (target / "latency.json").read_text(encoding="utf-8")
    write(incoming, "latency.json", {"datapoints": [{"id": "e", "source": "s", "value": 5}]})
    assert main([str(incoming), "--target", str(target), "--dry-run"]) == 0
    assert "added: e" in capsys.readouterr().out
    assert (target / "latency.json").read_text(encoding="utf-8") == before


def test_vendored_reference_is_a_fixed_point_of_itself(tmp_path: Path) -> None:
    """Merging catalog/reference into a copy of itself adds and changes nothing."""
    vendored = Path(__file__).resolve().parents[2] / "catalog" / "reference"
    copy = tmp_path / "copy"
    for path in vendored.glob("*.json"):
        write(copy, path.name, json.loads(path.read_text(encoding="utf-8")))
    reports = merge_directory(vendored, copy, write=False)
    assert reports
    assert all(not (r.added or r.changed or r.rejected or r.skipped) for r in reports)
