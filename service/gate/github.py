"""``--format github``: workflow commands that GitHub Actions turns into annotations.

One annotation per check (``::error`` for a failure, ``::warning``, ``::notice`` otherwise),
then the human report in a collapsed log group. See GitHub's "Workflow commands" docs.
"""

from __future__ import annotations

from service.gate.human import describe, render_human, suggestion_line
from service.gate.report import ErrorReport, Report, Status

_LEVEL = {
    Status.FAIL: "error",
    Status.WARN: "warning",
    Status.PASS: "notice",
    Status.SKIP: "notice",
}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, title: str, message: str, file: str | None = None) -> str:
    """``::error file=deploy.yaml,title=...::message`` with GitHub's escaping."""
    properties = [f"file={escape_property(file)}"] if file else []
    properties.append(f"title={escape_property(title)}")
    return f"::{level} {','.join(properties)}::{escape_data(message)}"


def render_github(report: Report, file: str | None = None) -> str:
    lines = []
    for check in report.checks:
        message = f"{describe(report)}: {check.summary}"
        fixes = [s for s in report.suggestions if s.fixes == check.name]
        if fixes and check.status is not Status.PASS:
            message += "\nCheapest changes that pass:\n"
            message += "\n".join(suggestion_line(i, s) for i, s in enumerate(fixes, start=1))
        lines.append(command(_LEVEL[check.status], f"capplan check: {check.name}", message, file))
    lines += [command("warning", "capplan check: not modelled", w, file) for w in report.warnings]
    lines += ["::group::capplan check report", render_human(report).rstrip("\n"), "::endgroup::"]
    return "\n".join(lines) + "\n"


def render_github_error(error: ErrorReport, file: str | None = None) -> str:
    return command("error", "capplan check: invalid input", str(error), file) + "\n"
