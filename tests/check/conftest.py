"""Fixtures of the gate's tests: a test catalog, a live server on it, and a CLI runner."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from service.cli import main
from service.settings import Settings
from tests.check.catalog import write_catalog
from tests.check.server import serve


class Run(NamedTuple):
    """What one ``capplan check`` invocation printed and returned."""

    code: int
    out: str
    err: str


@pytest.fixture(scope="session")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_catalog(tmp_path_factory.mktemp("catalog"))


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory, catalog_dir: Path) -> Iterator[str]:
    """One capplan server for the session, seeded with the test catalog."""
    data = tmp_path_factory.mktemp("server")
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{data / 't.db'}", catalog_dir=catalog_dir
    )
    with serve(settings) as url:
        yield url


@pytest.fixture(params=["offline", "online"])
def backend_args(request: pytest.FixtureRequest, catalog_dir: Path) -> list[str]:
    """``--offline --catalog-dir ...`` or ``--url <live server>``: every case runs on both."""
    if request.param == "offline":
        return ["--offline", "--catalog-dir", str(catalog_dir)]
    return ["--url", request.getfixturevalue("server_url")]


@pytest.fixture
def run_check() -> Callable[..., Run]:
    """Run ``capplan check ARGS`` in-process and capture its output.

    Plain redirection, not ``capsys``: Litestar binds the root logger's handler to whatever
    ``sys.stderr`` is when an app is built, and a ``capsys`` stream is closed after its test.
    """

    def run(*args: str) -> Run:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["check", *args])
        return Run(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def manifest(tmp_path: Path) -> Callable[..., Path]:
    """Write a manifest with the given fields; ``None`` values are left out."""

    def write(name: str = "deploy.yaml", **fields: Any) -> Path:
        path = tmp_path / name
        body = {key: value for key, value in fields.items() if value is not None}
        path.write_text(yaml.safe_dump(body), encoding="utf-8")
        return path

    return write
