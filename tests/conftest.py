"""Fixtures every test directory shares: the session's template databases, and markers.

Markers (registered in ``pyproject.toml``): ``postgres`` is added to every case that runs on
PostgreSQL (the ``db_url`` parameter), ``process`` and ``slow`` are set by the modules that start
processes or run long property searches. ``-m "not postgres and not slow"`` is a quick subset.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.databases import MIGRATED, DbTemplate, Templates


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    """Migrated (and seeded) template databases, built once per session and backend."""
    templates = Templates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.close()


@pytest.fixture
def db_template(request: pytest.FixtureRequest) -> DbTemplate:
    """``db_url`` starts migrated when the test uses ``engine`` (which migrates anyway), else
    empty. A conftest may override this to start from a seeded copy (``tests/api`` does)."""
    return MIGRATED if "engine" in request.fixturenames else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``postgres`` on tests that ask for a PostgreSQL database by name (``db_url``'s
    PostgreSQL cases carry it through their parameter); ``process`` and ``slow`` on tests that
    start ``capplan serve`` processes (the ``servers`` fixture of ``tests/ops``)."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "postgres_url" in names:
            item.add_marker(pytest.mark.postgres)
        if "servers" in names:
            item.add_marker(pytest.mark.process)
            item.add_marker(pytest.mark.slow)
