"""The wheel carries the repository's catalog and migrations, byte for byte."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from service.package_data import (
    PACKAGE,
    PACKAGED_CATALOG,
    PACKAGED_MIGRATIONS,
    bundled_catalog_dir,
    bundled_migrations_dir,
    source_root,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED = [("catalog", PACKAGED_CATALOG), ("migrations", PACKAGED_MIGRATIONS)]
IDS = [repo_dir for repo_dir, _ in BUNDLED]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """A wheel built from this checkout with the project's own build backend."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is needed to build the wheel (the project's tooling is uv)")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [uv, "build", "--wheel", "--out-dir", str(out), str(REPO_ROOT)],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("capplan-*.whl")
    return zipfile.ZipFile(path)


def _repo_files(directory: str) -> dict[str, bytes]:
    root = REPO_ROOT / directory
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def _wheel_files(wheel: zipfile.ZipFile, packaged: str) -> dict[str, bytes]:
    prefix = f"{PACKAGE}/{packaged}/"
    return {
        name.removeprefix(prefix): wheel.read(name)
        for name in wheel.namelist()
        if name.startswith(prefix) and not name.endswith("/")
    }


@pytest.mark.parametrize(("repo_dir", "packaged"), BUNDLED, ids=IDS)
def test_wheel_holds_the_same_file_names(
    wheel: zipfile.ZipFile, repo_dir: str, packaged: str
) -> None:
    """Every file of the repo directory is in the wheel's copy, and nothing else."""
    assert sorted(_wheel_files(wheel, packaged)) == sorted(_repo_files(repo_dir))


@pytest.mark.parametrize(("repo_dir", "packaged"), BUNDLED, ids=IDS)
def test_wheel_copy_is_byte_identical(wheel: zipfile.ZipFile, repo_dir: str, packaged: str) -> None:
    """Each packaged file has exactly the bytes of its repo original."""
    packaged_files = _wheel_files(wheel, packaged)
    differing = [
        name
        for name, content in _repo_files(repo_dir).items()
        if packaged_files.get(name) != content
    ]
    assert differing == []


def test_checkout_reads_the_repository_catalog() -> None:
    """Without a packaged copy (a checkout), the catalog is the repository's catalog/."""
    assert bundled_catalog_dir() == REPO_ROOT / "catalog"


def test_checkout_reads_the_repository_migrations() -> None:
    """Without a packaged copy (a checkout), the migrations are the repository's migrations/."""
    assert bundled_migrations_dir() == REPO_ROOT / "migrations"


def test_source_root_is_the_checkout() -> None:
    """The package sits directly under the repository root."""
    assert source_root() == REPO_ROOT
