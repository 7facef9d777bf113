"""Domain specs: every test asking for ``reference_model`` runs once per models.json entry."""

from __future__ import annotations

import pytest

from tests.domain.reference import reference_models


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``reference_model`` over models.json, ids = Hugging Face repo ids."""
    if "reference_model" in metafunc.fixturenames:
        models = reference_models()
        metafunc.parametrize("reference_model", models, ids=[m["repo_id"] for m in models])
