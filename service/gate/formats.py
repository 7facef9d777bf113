"""Render a report (or the reason there is none) in one of the four output formats."""

from __future__ import annotations

import msgspec

from service.gate.github import render_github, render_github_error
from service.gate.human import render_human
from service.gate.junit import render_junit, render_junit_error
from service.gate.report import ErrorReport, Report

FORMATS = ("human", "json", "github", "junit")


def render(result: Report | ErrorReport, fmt: str, file: str | None = None) -> str:
    """The text to print; ``file`` is the manifest path for GitHub annotations."""
    if fmt == "json":
        encoded = msgspec.json.encode(result)
        return msgspec.json.format(encoded, indent=2).decode() + "\n"
    if isinstance(result, ErrorReport):
        if fmt == "github":
            return render_github_error(result, file)
        if fmt == "junit":
            return render_junit_error(result)
        return f"ERROR  {result}\n"
    if fmt == "github":
        return render_github(result, file)
    if fmt == "junit":
        return render_junit(result)
    return render_human(result)


def render_many(results: list[Report | ErrorReport], fmt: str, file: str | None = None) -> str:
    """Several targets (Kubernetes objects): a JSON array, one ``<testsuites>``, or the
    texts one after another; a single result renders as :func:`render` does."""
    if len(results) == 1:
        return render(results[0], fmt, file)
    if fmt == "json":
        encoded = msgspec.json.encode(results)
        return msgspec.json.format(encoded, indent=2).decode() + "\n"
    if fmt == "junit":
        suites = [render(result, fmt).split("\n", 1)[1].rstrip("\n") for result in results]
        body = "\n".join(suites)
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n{body}\n</testsuites>\n'
    separator = "\n" if fmt == "human" else ""
    return separator.join(render(result, fmt, file) for result in results)
