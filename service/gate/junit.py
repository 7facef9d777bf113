"""``--format junit``: a JUnit XML ``<testsuite>`` with one ``<testcase>`` per check.

Failures carry the full human report; warnings pass and say so in ``<system-out>``; an
SLO that was not evaluated is ``<skipped>``; input that could not be checked is an ``<error>``.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, SubElement, indent, tostring

import msgspec

from service.gate.human import render_human
from service.gate.report import ErrorReport, Report, Status

CLASSNAME = "capplan.check"


def _document(suite: Element) -> str:
    indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(suite, encoding="unicode") + "\n"


def _suite(source: str, tests: int, failures: int, errors: int, skipped: int) -> Element:
    return Element(
        "testsuite",
        name=f"capplan check {source}",
        tests=str(tests),
        failures=str(failures),
        errors=str(errors),
        skipped=str(skipped),
        time="0",
    )


def render_junit(report: Report) -> str:
    statuses = [check.status for check in report.checks]
    suite = _suite(
        report.source,
        len(statuses),
        statuses.count(Status.FAIL),
        0,
        statuses.count(Status.SKIP),
    )
    properties = SubElement(suite, "properties")
    for name, value in msgspec.structs.asdict(report.setup).items():
        SubElement(properties, "property", name=name, value=str(value))
    details = render_human(report)
    for check in report.checks:
        case = SubElement(suite, "testcase", classname=CLASSNAME, name=check.name, time="0")
        if check.status is Status.FAIL:
            failure = SubElement(case, "failure", message=check.summary, type=check.name)
            failure.text = details
        elif check.status is Status.SKIP:
            SubElement(case, "skipped", message=check.summary)
        else:
            prefix = "warning: " if check.status is Status.WARN else ""
            SubElement(case, "system-out").text = prefix + check.summary
    return _document(suite)


def render_junit_error(error: ErrorReport) -> str:
    suite = _suite(error.source, 1, 0, 1, 0)
    case = SubElement(suite, "testcase", classname=CLASSNAME, name="input", time="0")
    SubElement(case, "error", message=str(error), type="invalid input").text = str(error)
    return _document(suite)
