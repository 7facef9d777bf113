"""Merge new public datapoints into the vendored reference data in ``catalog/reference/``.

capplan reads its reference data (tests, ``capplan validate``, ``bench/calibrate.py``) from
``catalog/reference/`` only. When new public measurements arrive elsewhere (for example in the
team's ``shared/reference/``), this script folds them in::

    uv run python scripts/merge_reference.py ../shared/reference            # merge and write
    uv run python scripts/merge_reference.py ../shared/reference --dry-run  # report only

For every ``*.json`` file of the incoming directory that ``catalog/reference/`` also has, the
entries of its list (``datapoints``, ``models`` or ``gpus``) are matched by id (``id``,
``repo_id`` or ``gpu``):

- an id that is new is **added**; an id whose entry differs is **changed** (the incoming entry
  replaces ours); an id only we have is kept; nothing is ever deleted;
- an incoming entry without a source (``source``, ``sources`` or ``config_source``) is
  **rejected** and reported: every vendored figure names where it was published;
- incoming files that ``catalog/reference/`` lacks are reported and skipped (add a new file by
  hand, with a line in ``catalog/reference/README.md``).

Files are written in their existing layout (one-space JSON indent, UTF-8). The exit status is 0,
or 1 when an entry was rejected.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "catalog" / "reference"
LIST_KEYS = ("datapoints", "models", "gpus")
ID_KEYS = ("id", "repo_id", "gpu")
SOURCE_KEYS = ("source", "sources", "config_source")


@dataclass
class FileReport:
    """What merging one file did, by entry id."""

    name: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    skipped: str = ""

    def lines(self) -> list[str]:
        if self.skipped:
            return [f"{self.name}: skipped ({self.skipped})"]
        out = [
            f"{self.name}: {len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.rejected)} rejected"
        ]
        for verb, ids in (("added", self.added), ("changed", self.changed)):
            out += [f"  {verb}: {entry_id}" for entry_id in ids]
        out += [f"  rejected (no source): {entry_id}" for entry_id in self.rejected]
        return out


def entries_key(document: dict[str, Any]) -> str:
    """The key of the document's list of entries."""
    for key in LIST_KEYS:
        if isinstance(document.get(key), list):
            return key
    raise ValueError(f"no entry list ({', '.join(LIST_KEYS)}) in the document")


def entry_id(entry: dict[str, Any]) -> str:
    for key in ID_KEYS:
        if entry.get(key):
            return str(entry[key])
    raise ValueError(f"entry without an id ({', '.join(ID_KEYS)}): {sorted(entry)}")


def has_source(entry: dict[str, Any]) -> bool:
    return any(entry.get(key) for key in SOURCE_KEYS)


def merge_document(ours: dict[str, Any], theirs: dict[str, Any], report: FileReport) -> None:
    """Merge ``theirs`` entries into ``ours`` in place (order kept, new entries appended)."""
    key = entries_key(ours)
    mine: list[dict[str, Any]] = ours[key]
    position = {entry_id(entry): index for index, entry in enumerate(mine)}
    for entry in theirs.get(key, []):
        ident = entry_id(entry)
        if not has_source(entry):
            report.rejected.append(ident)
        elif ident not in position:
            position[ident] = len(mine)
            mine.append(entry)
            report.added.append(ident)
        elif mine[position[ident]] != entry:
            mine[position[ident]] = entry
            report.changed.append(ident)


def merge_directory(
    incoming: Path, target: Path = REFERENCE_DIR, write: bool = True
) -> list[FileReport]:
    """Merge each incoming ``*.json`` into ``target``; write changed files unless told not to."""
    reports = []
    for source in sorted(incoming.glob("*.json")):
        report = FileReport(source.name)
        reports.append(report)
        destination = target / source.name
        if not destination.is_file():
            report.skipped = f"not in {target}; add new files by hand"
            continue
        text = destination.read_text(encoding="utf-8")
        ours = json.loads(text)
        merge_document(ours, json.loads(source.read_text(encoding="utf-8")), report)
        if write and (report.added or report.changed):
            ending = "\n" if text.endswith("\n") else ""
            merged = json.dumps(ours, indent=1, ensure_ascii=False) + ending
            destination.write_text(merged, encoding="utf-8")
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("incoming", type=Path, help="directory with new reference *.json files")
    parser.add_argument("--target", type=Path, default=REFERENCE_DIR, help="catalog/reference")
    parser.add_argument("--dry-run", action="store_true", help="report without writing")
    args = parser.parse_args(argv)
    if not args.incoming.is_dir():
        print(f"merge_reference: not a directory: {args.incoming}", file=sys.stderr)
        return 2
    reports = merge_directory(args.incoming, args.target, write=not args.dry_run)
    for report in reports:
        print("\n".join(report.lines()))
    return 1 if any(report.rejected for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
