"""``capplan check`` exit codes, offline and against a live server: 0 fits, 1 not, 2 bad input."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.cli import main
from tests.check.catalog import reference_config
from tests.check.conftest import Run

FITS: dict[str, Any] = {
    "model": "meta-llama/Llama-3.1-8B",
    "gpu": "h100-sxm",
    "max_model_len": 8192,
}
NO_FIT: dict[str, Any] = {
    "model": "meta-llama/Llama-3.1-70B",
    "gpu": "l4",
    "dtype": "bf16",
    "max_model_len": 8192,
}


@pytest.mark.parametrize(
    ("fields", "code"),
    [pytest.param(FITS, 0, id="llama-8b-h100-fits"), pytest.param(NO_FIT, 1, id="llama-70b-l4")],
)
def test_manifest_exit_code(
    run_check: Callable[..., Run],
    manifest: Callable[..., Path],
    backend_args: list[str],
    fields: dict[str, Any],
    code: int,
) -> None:
    """A manifest that fits exits 0; one that does not exits 1."""
    assert run_check(*backend_args, str(manifest(**fields))).code == code


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        pytest.param(
            ["--gpu", "h100-sxm", "--", "vllm", "serve", "meta-llama/Llama-3.1-8B",
             "--max-model-len", "8192", "--port", "8000"],
            0,
            id="llama-8b-h100-fits",
        ),
        pytest.param(
            ["--gpu", "l4", "--", "vllm", "serve", "meta-llama/Llama-3.1-70B", "--dtype",
             "bfloat16", "--max-model-len", "8192"],
            1,
            id="llama-70b-l4",
        ),
        pytest.param(
            ["--gpu", "h100-sxm", "--", "vllm", "serve", "meta-llama/Llama-3.1-70B", "-tp", "8",
             "--max-model-len", "8k"],
            0,
            id="llama-70b-8x-h100",
        ),
    ],
)  # fmt: skip
def test_vllm_serve_exit_code(
    run_check: Callable[..., Run], backend_args: list[str], argv: list[str], code: int
) -> None:
    """A ``vllm serve`` command is checked as given: 0 fits, 1 does not."""
    assert run_check(*backend_args, *argv).code == code


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"model": FITS["model"], "max_model_len": 8192}, "gpu", id="missing-field"),
        pytest.param({**FITS, "gpu": "h100-xxl"}, "gpu", id="unknown-gpu"),
        pytest.param({**FITS, "model": "nobody/nothing"}, "model", id="unknown-model"),
        pytest.param({**FITS, "max_model_len": -8192}, "max_model_len", id="negative-max-len"),
        pytest.param({**FITS, "tensor_parallel": 3}, "tensor_parallel", id="tp-not-dividing"),
    ],
)
def test_bad_manifest_exits_2_naming_file_and_field(
    run_check: Callable[..., Run],
    manifest: Callable[..., Path],
    backend_args: list[str],
    fields: dict[str, Any],
    field: str,
) -> None:
    """Bad input exits 2 and says which file and which field."""
    path = manifest(**fields)
    result = run_check(*backend_args, str(path))
    assert result.code == 2
    assert f"{path}: field '{field}'" in result.err


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        pytest.param(["--gpu", "l4", "--", "vllm", "serve", "org/m", "--max-model-len", "x"],
                     "--max-model-len", id="bad-known-flag"),
        pytest.param(["--", "vllm", "serve", "meta-llama/Llama-3.1-8B"], "--gpu", id="no-gpu"),
        pytest.param(["--gpu", "l4", "--", "vllm", "serve", "meta-llama/Llama-3.1-8B",
                      "--dtype", "float8"], "--dtype", id="bad-dtype"),
    ],
)  # fmt: skip
def test_bad_vllm_argument_exits_2_naming_the_flag(
    run_check: Callable[..., Run], backend_args: list[str], argv: list[str], flag: str
) -> None:
    """A bad value of a known vllm flag exits 2 and names the flag."""
    result = run_check(*backend_args, *argv)
    assert result.code == 2
    assert f"command line: {flag}:" in result.err


def test_inline_config_json_gives_the_same_verdict(
    run_check: Callable[..., Run],
    manifest: Callable[..., Path],
    backend_args: list[str],
    tmp_path: Path,
) -> None:
    """A model given as a config.json path is checked like its catalog entry."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps(reference_config("meta-llama/Llama-3.1-70B")), encoding="utf-8")
    assert run_check(*backend_args, str(manifest(**{**NO_FIT, "model": str(config)}))).code == 1


def test_online_and_offline_reports_agree(
    run_check: Callable[..., Run],
    manifest: Callable[..., Path],
    catalog_dir: Path,
    server_url: str,
) -> None:
    """Same input, same catalog: the JSON reports differ only in the backend's name."""
    path = str(manifest(**NO_FIT, max_num_seqs=4))
    offline = json.loads(
        run_check("--offline", "--catalog-dir", str(catalog_dir), "--format", "json", path).out
    )
    online = json.loads(run_check("--url", server_url, "--format", "json", path).out)
    assert online.pop("backend") == server_url
    assert offline.pop("backend") == "offline"
    assert online == offline


def test_unreachable_server_exits_2(
    run_check: Callable[..., Run], manifest: Callable[..., Path]
) -> None:
    """A server that cannot be reached is "could not check", not a failed deployment."""
    result = run_check("--url", "http://127.0.0.1:9", "--timeout", "2", str(manifest(**FITS)))
    assert result.code == 2
    assert "cannot reach" in result.err


def test_no_backend_exits_2(
    run_check: Callable[..., Run], manifest: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --url, CAPPLAN_URL or --offline there is nothing to ask."""
    monkeypatch.delenv("CAPPLAN_URL", raising=False)
    result = run_check(str(manifest(**FITS)))
    assert (result.code, "--url" in result.err) == (2, True)


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "1e308", "soon"])
def test_a_timeout_that_is_not_positive_finite_seconds_is_refused_at_parse_time(
    manifest: Callable[..., Path], value: str
) -> None:
    """``--timeout`` is checked as it is parsed (exit 2 naming it), not when httpx fails."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as caught:
        main(["check", "--url", "http://127.0.0.1:9", "--timeout", value, str(manifest(**FITS))])
    assert (
        caught.value.code,
        "argument --timeout: expected a number of seconds" in err.getvalue(),
    ) == (2, True)


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        pytest.param("missing/x.json", "the directory {tmp}/missing does not exist", id="no-dir"),
        pytest.param(".", "it is a directory", id="a-directory"),
        pytest.param("deploy.yaml/x.json", "the directory {tmp}/deploy.yaml is not a directory",
                     id="parent-is-a-file"),
    ],
)  # fmt: skip
def test_an_output_that_cannot_be_written_exits_2_before_checking(
    run_check: Callable[..., Run],
    manifest: Callable[..., Path],
    tmp_path: Path,
    output: str,
    reason: str,
) -> None:
    """``--output`` is bad input named on stderr, found before the input is even read."""
    manifest(**FITS)
    path = tmp_path / output
    result = run_check("--offline", "--output", str(path), str(tmp_path / "absent.yaml"))
    message = f"cannot write {path}: {reason.format(tmp=tmp_path)}"
    assert (result.code, result.out, result.err) == (
        2,
        "",
        f"ERROR  capplan check: --output: {message}\n",
    )


@pytest.mark.parametrize(
    ("path", "hint"),
    [
        pytest.param("/v1", "; drop the trailing /v1", id="trailing-v1"),
        pytest.param("/api", "", id="other-prefix"),
    ],
)
def test_a_url_that_is_not_the_service_root_says_so(
    run_check: Callable[..., Run],
    manifest: Callable[..., Path],
    server_url: str,
    path: str,
    hint: str,
) -> None:
    """A 404 from a route the server does not have is a wrong --url, not an unknown model."""
    source = manifest(**FITS)
    result = run_check("--url", server_url + path, str(source))
    message = (
        f"POST {server_url}{path}/v1/inspect: 404 Not Found, no capplan API there: --url is "
        f"the capplan service root (e.g. http://capplan:8000){hint}"
    )
    assert (result.code, result.err) == (2, f"ERROR  {source}: {message}\n")


def test_an_invalid_url_exits_2_naming_the_option(
    run_check: Callable[..., Run], manifest: Callable[..., Path]
) -> None:
    """A URL httpx cannot parse (``http://[::1``) is bad input on ``--url``."""
    result = run_check("--url", "http://[::1", str(manifest(**FITS)))
    assert (result.code, result.err.startswith("ERROR  capplan check: --url: invalid URL")) == (
        2,
        True,
    )
