"""The four output formats for a deployment that fits, one that does not, and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.check.conftest import Run
from tests.check.test_cli_exit_codes import FITS, NO_FIT

BAD = {**FITS, "max_model_len": -1}
CheckAs = Callable[[dict[str, object], str], tuple[Run, Path]]


@pytest.fixture
def check_as(
    run_check: Callable[..., Run], manifest: Callable[..., Path], backend_args: list[str]
) -> CheckAs:
    """Run the gate on a manifest of ``fields`` in ``fmt``, on each backend."""

    def run(fields: dict[str, object], fmt: str) -> tuple[Run, Path]:
        path = manifest(**fields)
        return run_check(*backend_args, "--format", fmt, str(path)), path

    return run


def parse_xml(text: str) -> ElementTree.Element:
    return ElementTree.fromstring(text.encode())  # noqa: S314 - our own output, not untrusted


def test_human_leads_with_the_verdict_and_shows_memory_in_gb_and_gib(check_as: CheckAs) -> None:
    """The first line is the verdict; the memory table has GB and GiB columns."""
    result, _ = check_as(FITS, "human")
    assert result.out.startswith("PASS  meta-llama/Llama-3.1-8B on 1x h100-sxm")
    assert "GB       GiB" in result.out
    assert "KV cache margin" in result.out


def test_human_failure_says_how_short_and_what_to_change(check_as: CheckAs) -> None:
    """A failure states the bytes short and the ranked changes."""
    result, _ = check_as(NO_FIT, "human")
    assert result.out.startswith("FAIL  meta-llama/Llama-3.1-70B on 1x l4")
    assert "short by" in result.out
    assert "cheapest changes that make it fit" in result.out
    assert "  1. " in result.out


def test_human_bad_input_goes_to_stderr(check_as: CheckAs) -> None:
    """Bad input prints one error line naming file and field, on stderr only."""
    result, path = check_as(BAD, "human")
    assert (result.code, result.out) == (2, "")
    assert result.err == f"ERROR  {path}: field 'max_model_len': Expected `int` >= 1, got -1\n"


def test_json_report_of_a_fit(check_as: CheckAs) -> None:
    """JSON carries the verdict, checks, memory breakdown and a non-negative margin."""
    result, path = check_as(FITS, "json")
    report = json.loads(result.out)
    assert (report["verdict"], report["source"]) == ("pass", str(path))
    assert [c["name"] for c in report["checks"]] == ["fits"]
    assert report["memory"]["weights"] > 0
    assert report["margin_bytes"] >= 0
    assert report["short_bytes"] == 0


def test_json_report_of_a_failure_counts_the_bytes_short(check_as: CheckAs) -> None:
    """Short = one sequence's KV bytes plus the usable memory's overdraft (kv_cache is 0)."""
    report = json.loads(check_as(NO_FIT, "json")[0].out)
    memory = report["memory"]
    left = memory["usable"] - sum(
        memory[k] for k in ("weights", "activation", "non_torch", "cudagraph")
    )
    assert report["verdict"] == "fail"
    assert memory["kv_cache"] == 0
    assert report["short_bytes"] == report["sequence_kv_bytes"] - min(left, 0)
    assert report["suggestions"]


def test_json_bad_input(check_as: CheckAs) -> None:
    """Bad input is a JSON error naming source and field."""
    result, path = check_as(BAD, "json")
    error = json.loads(result.out)
    assert error["verdict"] == "error"
    assert (error["source"], error["field"]) == (str(path), "max_model_len")


def test_github_notice_for_a_fit(check_as: CheckAs) -> None:
    """A passing check is a ``::notice`` on the manifest; the report follows in a group."""
    result, path = check_as(FITS, "github")
    first = result.out.splitlines()[0]
    assert first.startswith(f"::notice file={path},title=capplan check%3A fits::")
    assert "::group::capplan check report" in result.out


def test_github_error_for_a_failure_lists_the_fixes(check_as: CheckAs) -> None:
    """A failing check is an ``::error`` whose message (escaped newlines) lists fixes."""
    first = check_as(NO_FIT, "github")[0].out.splitlines()[0]
    assert first.startswith("::error file=")
    assert "%0ACheapest changes that pass:%0A  1. " in first


def test_github_bad_input(check_as: CheckAs) -> None:
    """Bad input is one ``::error`` titled "invalid input"."""
    result, path = check_as(BAD, "github")
    assert result.out.startswith(f"::error file={path},title=capplan check%3A invalid input::")


def test_junit_for_a_fit(check_as: CheckAs) -> None:
    """One passing testcase per check, and the deployment as properties."""
    suite = parse_xml(check_as(FITS, "junit")[0].out)
    assert (suite.tag, suite.get("tests"), suite.get("failures")) == ("testsuite", "1", "0")
    assert [case.get("name") for case in suite.iter("testcase")] == ["fits"]
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["gpu"] == "h100-sxm"


def test_junit_for_a_failure(check_as: CheckAs) -> None:
    """The failing check is a ``<failure>`` carrying the full report."""
    suite = parse_xml(check_as(NO_FIT, "junit")[0].out)
    failure = suite.find("testcase[@name='fits']/failure")
    assert suite.get("failures") == "1"
    assert failure is not None
    assert "cheapest changes" in (failure.text or "")


def test_junit_bad_input(check_as: CheckAs) -> None:
    """Bad input is a testsuite with one ``<error>``."""
    result, path = check_as(BAD, "junit")
    suite = parse_xml(result.out)
    error = suite.find("testcase[@name='input']/error")
    assert suite.get("errors") == "1"
    assert error is not None
    assert f"{path}: field 'max_model_len'" in (error.get("message") or "")


def test_output_flag_writes_the_report_to_a_file(
    run_check: Callable[..., Run], manifest: Callable[..., Path], catalog_dir: Path, tmp_path: Path
) -> None:
    """``--output`` puts the report in a file and nothing on stdout."""
    target = tmp_path / "report.xml"
    args = ["--offline", "--catalog-dir", str(catalog_dir), "--format", "junit"]
    result = run_check(*args, "--output", str(target), str(manifest(**FITS)))
    assert (result.code, result.out) == (0, "")
    assert parse_xml(target.read_text(encoding="utf-8")).tag == "testsuite"
