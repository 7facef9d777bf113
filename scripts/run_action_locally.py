"""Run the steps of ``action.yml`` here, as GitHub's runner would, without GitHub.

Usage::

    uv run --locked python scripts/run_action_locally.py [--workspace DIR] \
        [--input NAME=VALUE ...]

Each ``run:`` step runs under ``bash --noprofile --norc -eo pipefail`` (GitHub's ``shell: bash``)
in the workspace, with its ``env:`` resolved from the inputs (the action's defaults unless
``--input`` overrides them), ``GITHUB_ACTION_PATH`` = this checkout, and temporary
``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY`` and ``GITHUB_PATH`` files whose entries reach later
steps as on GitHub. ``uses:`` steps (setup-uv) are skipped: uv must already be on the PATH.
The CLI is installed as a uv tool into a temporary tool directory, never the user's.
Prints the action's outputs as ``name=value`` lines and exits with the failing step's code.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
ACTION_FILE = REPO_ROOT / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
CONDITION = re.compile(r"^inputs\.([\w-]+)\s*==\s*'([^']*)'$")


class ActionError(Exception):
    """action.yml uses something this runner does not emulate."""


def resolve(text: str, inputs: dict[str, str], action_path: Path, steps: dict[str, Any]) -> str:
    """Replace the ``${{ ... }}`` expressions the action uses; refuse any other."""

    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression.startswith("inputs."):
            return inputs[expression.removeprefix("inputs.")]
        if expression == "github.action_path":
            return str(action_path)
        parts = expression.split(".")
        if len(parts) == 4 and parts[0] == "steps" and parts[2] == "outputs":
            return str(steps.get(parts[1], {}).get(parts[3], ""))
        raise ActionError(f"expression not emulated: ${{{{ {expression} }}}}")

    return EXPRESSION.sub(value, text)


def condition_holds(condition: str, inputs: dict[str, str]) -> bool:
    """``inputs.NAME == 'VALUE'``, the only condition the action uses."""
    match = CONDITION.match(EXPRESSION.sub(lambda m: m.group(1), condition).strip())
    if match is None:
        raise ActionError(f"condition not emulated: {condition}")
    return inputs[match.group(1)] == match.group(2)


def read_outputs(path: Path) -> dict[str, str]:
    """``name=value`` lines of a ``GITHUB_OUTPUT`` file."""
    pairs = (line.partition("=") for line in path.read_text(encoding="utf-8").splitlines())
    return {name: value for name, sep, value in pairs if sep}


def run_action(workspace: Path, given: dict[str, str]) -> tuple[int, dict[str, str]]:
    """Run every step; the first failing step's exit code (0 when all pass) and the outputs."""
    action = yaml.safe_load(ACTION_FILE.read_text(encoding="utf-8"))
    declared: dict[str, Any] = action["inputs"]
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ActionError(f"unknown input(s) {unknown}; the action has {sorted(declared)}")
    inputs = {name: str(spec.get("default", "")) for name, spec in declared.items()} | given
    steps: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="capplan-action-") as tmp:
        home = Path(tmp)
        files = {name: home / name.lower() for name in ("GITHUB_PATH", "GITHUB_STEP_SUMMARY")}
        for path in files.values():
            path.touch()
        base_env = {
            **os.environ,
            **{name: str(path) for name, path in files.items()},
            "GITHUB_ACTION_PATH": str(REPO_ROOT),
            "GITHUB_WORKSPACE": str(workspace),
            "UV_TOOL_DIR": str(home / "uv-tools"),
            "UV_TOOL_BIN_DIR": str(home / "bin"),
        }
        for name in ("VIRTUAL_ENV", "CAPPLAN_CATALOG_DIR", "CAPPLAN_URL"):
            base_env.pop(name, None)
        for number, step in enumerate(action["runs"]["steps"], start=1):
            label = step.get("name", f"step {number}")
            if "if" in step and not condition_holds(str(step["if"]), inputs):
                print(f"--- {label}: skipped (condition false)", file=sys.stderr)
                continue
            if "uses" in step:
                if shutil.which("uv") is None:
                    raise ActionError(f"{label}: needs uv on the PATH locally")
                print(f"--- {label}: skipped locally ({step['uses']})", file=sys.stderr)
                continue
            output_file = home / f"output-{number}"
            output_file.touch()
            extra_path = files["GITHUB_PATH"].read_text(encoding="utf-8").split()
            env = base_env | {
                name: resolve(str(value), inputs, REPO_ROOT, steps)
                for name, value in (step.get("env") or {}).items()
            }
            env["GITHUB_OUTPUT"] = str(output_file)
            env["PATH"] = os.pathsep.join([*reversed(extra_path), base_env["PATH"]])
            print(f"--- {label}", file=sys.stderr)
            code = subprocess.run(  # noqa: S603 - runs the action's own step script
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],  # noqa: S607
                cwd=workspace,
                env=env,
                check=False,
            ).returncode
            steps[step.get("id", f"step{number}")] = read_outputs(output_file)
            if code != 0:
                return code, _outputs(action, inputs, steps)
        summary = files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8")
        print(f"--- job summary ({len(summary.splitlines())} lines)", file=sys.stderr)
    return 0, _outputs(action, inputs, steps)


def _outputs(
    action: dict[str, Any], inputs: dict[str, str], steps: dict[str, Any]
) -> dict[str, str]:
    return {
        name: resolve(str(spec["value"]), inputs, REPO_ROOT, steps)
        for name, spec in (action.get("outputs") or {}).items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workspace", type=Path, default=Path.cwd(), help="the caller's repo")
    parser.add_argument("--input", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    given: dict[str, str] = {}
    for item in args.input:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--input {item!r}: expected NAME=VALUE")
        given[name] = value
    try:
        code, outputs = run_action(args.workspace.resolve(), given)
    except ActionError as exc:
        print(f"run_action_locally: {exc}", file=sys.stderr)
        return 2
    for name, value in outputs.items():
        print(f"{name}={value}")
    return code


if __name__ == "__main__":
    sys.exit(main())
