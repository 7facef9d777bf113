"""docs/ci-gate.md and docs/examples are held to the code: examples run, options documented."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
import yaml

from service.cli import build_parser
from service.gate.engine_flags import ENGINES
from service.gate.manifest import ManifestFields
from tests.check.catalog import REPO_ROOT
from tests.check.conftest import Run

DOCS = REPO_ROOT / "docs"
GUIDE = (DOCS / "ci-gate.md").read_text(encoding="utf-8")
MANIFESTS = sorted((DOCS / "examples").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: exit (?P<code>\d)$", re.MULTILINE)


@pytest.mark.parametrize("path", MANIFESTS, ids=[p.stem for p in MANIFESTS])
def test_example_manifest_exits_as_it_says(
    run_check: Callable[..., Run], catalog_dir: Path, path: Path
) -> None:
    """Each example's ``# expect: exit N`` line is what the gate returns."""
    expected = EXPECT.search(path.read_text(encoding="utf-8"))
    assert expected is not None, f"{path.name} has no '# expect: exit N' line"
    result = run_check("--offline", "--catalog-dir", str(catalog_dir), str(path))
    assert result.code == int(expected["code"]), result.out + result.err


SUGGESTS = re.compile(r"^# suggests: (?P<kinds>.+)$", re.MULTILINE)
SUGGESTING = [p for p in MANIFESTS if SUGGESTS.search(p.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("path", SUGGESTING, ids=[p.stem for p in SUGGESTING])
def test_example_manifest_suggests_what_it_says(
    run_check: Callable[..., Run], catalog_dir: Path, path: Path
) -> None:
    """Each example's ``# suggests: KIND, ...`` line is the gate's fixes, by kind, in order."""
    expected = SUGGESTS.search(path.read_text(encoding="utf-8"))
    assert expected is not None
    result = run_check(
        "--offline", "--catalog-dir", str(catalog_dir), "--format", "json", str(path)
    )
    kinds = [suggestion["kind"] for suggestion in json.loads(result.out)["suggestions"]]
    assert kinds == [kind.strip() for kind in expected["kinds"].split(",")]


def test_every_check_option_is_documented() -> None:
    """Each ``capplan check`` flag appears in docs/ci-gate.md."""
    subparsers = next(
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    check = subparsers.choices["check"]
    flags = [o for a in check._actions for o in a.option_strings if o.startswith("--")]
    missing = [flag for flag in flags if flag != "--help" and f"`{flag}" not in GUIDE]
    assert missing == []


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_every_engine_flag_read_is_documented(engine: str) -> None:
    """Each flag the gate reads from an engine's command line appears in docs/ci-gate.md."""
    assert [flag for flag in ENGINES[engine].read if f"`{flag}`" not in GUIDE] == []


def test_every_manifest_field_is_documented() -> None:
    """Each manifest field has a row in the guide's field table."""
    fields = [f.name for f in msgspec.structs.fields(ManifestFields)]
    assert [name for name in fields if f"| `{name}` |" not in GUIDE] == []


def test_example_workflow_runs_the_gate() -> None:
    """The GitHub Actions example is valid YAML whose steps call ``capplan check``."""
    workflow = yaml.safe_load((DOCS / "examples" / "capacity-gate.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["capplan-check"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "capplan check --format github" in runs
    assert "capplan check --format junit --output" in runs


def test_action_example_uses_only_the_actions_inputs() -> None:
    """The Action example's ``with:`` keys are inputs that action.yml declares."""
    action = yaml.safe_load((REPO_ROOT / "action.yml").read_text(encoding="utf-8"))
    workflow = yaml.safe_load(
        (DOCS / "examples" / "capacity-gate-action.yml").read_text(encoding="utf-8")
    )
    step = next(s for s in workflow["jobs"]["capplan-check"]["steps"] if s.get("id") == "gate")
    assert set(step["with"]) - set(action["inputs"]) == set()


def test_every_action_input_is_documented() -> None:
    """Each action.yml input has a row in the guide's input table."""
    action = yaml.safe_load((REPO_ROOT / "action.yml").read_text(encoding="utf-8"))
    assert [name for name in action["inputs"] if f"| `{name}` |" not in GUIDE] == []
