"""Engine profiles as data: the bundled catalog loads, and malformed documents are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.catalog_files import default_engine_profile, load_engine_profiles
from service.domain.engine import (
    EngineProfile,
    engine_catalog_from_document,
)
from service.domain.units import format_bytes

VLLM_V0 = default_engine_profile()


def document(*ids: str, default: str = "vllm-0.6.4") -> dict[str, Any]:
    engines = []
    for engine_id in ids:
        name, _, version = engine_id.partition("-")
        engines.append({"id": engine_id, "name": name, "version": version})
    return {"default": default, "engines": engines}


def test_bundled_catalog_default_is_the_module_default() -> None:
    """VLLM_V0 is the default profile of the bundled engines file."""
    catalog = load_engine_profiles()
    assert catalog.get() == VLLM_V0
    assert catalog.get(VLLM_V0.id) == VLLM_V0


def test_profile_id_is_name_dash_version() -> None:
    """A profile is addressed as <name>-<version>."""
    assert EngineProfile(name="vllm", version="0.6.4").id == "vllm-0.6.4"


def test_unknown_profile_is_refused_with_the_known_ids() -> None:
    """Asking for an unknown engine names it and lists the known ones."""
    catalog = engine_catalog_from_document(document("vllm-0.6.4"))
    with pytest.raises(KeyError, match=r"unknown engine profile 'sglang-1'.*vllm-0\.6\.4"):
        catalog.get("sglang-1")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (document("vllm-0.6.4", "vllm-0.6.4"), "must be unique"),
        (
            {"default": "vllm-1", "engines": [{"id": "vllm-2", "name": "vllm", "version": "1"}]},
            "must be unique and equal 'vllm-1'",
        ),
        (document("vllm-0.6.4", default="vllm-9"), "default engine 'vllm-9'"),
    ],
    ids=["duplicate-id", "id-not-name-version", "unknown-default"],
)
def test_malformed_engine_document_is_refused(doc: dict[str, Any], message: str) -> None:
    """Ids must be unique and read <name>-<version>; the default must exist."""
    with pytest.raises(ValueError, match=message):
        engine_catalog_from_document(doc)


def test_engines_file_must_be_a_mapping(tmp_path: Path) -> None:
    """An engines file holding a list instead of a mapping is refused, naming the file."""
    path = tmp_path / "engines.yaml"
    path.write_text("- vllm\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected a mapping"):
        load_engine_profiles(path)


def test_engines_file_round_trips(tmp_path: Path) -> None:
    """A valid file loads into its profiles, with the stated default."""
    path = tmp_path / "engines.yaml"
    path.write_text(
        "default: vllm-0.7\n"
        "engines:\n"
        "  - {id: vllm-0.7, name: vllm, version: '0.7', non_torch_bytes: 1024}\n",
        encoding="utf-8",
    )
    assert load_engine_profiles(path).get().non_torch_bytes == 1024


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (141_107_412_992, "141.1 GB"),
        (-6_008_520_704, "-6.0 GB"),
        (2_097_152, "2.1 MB"),
        (999_999, "999999 B"),
        (0, "0 B"),
    ],
    ids=["gigabytes", "negative", "megabytes", "bytes", "zero"],
)
def test_bytes_are_formatted_in_decimal_units(count: int, text: str) -> None:
    """GPUs are sold in decimal GB: 10^9 and 10^6 bytes, then plain bytes."""
    assert format_bytes(count) == text
