"""Engine profiles as data: the bundled catalog loads, and malformed documents are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.catalog_files import default_engine_profile, load_engine_profiles
from service.domain.engine import (
    EngineProfile,
    UnknownEngine,
    engine_catalog_from_document,
    version_key,
)
from service.domain.units import format_bytes

VLLM_V0 = load_engine_profiles().get("vllm-0.6.4")


def document(*ids: str, default: str = "vllm-0.6.4") -> dict[str, Any]:
    engines = []
    for engine_id in ids:
        name, _, version = engine_id.partition("-")
        engines.append(
            {"id": engine_id, "name": name, "version": version, "mtp_shares_lm_head": True}
        )
    return {"default": default, "engines": engines}


def test_bundled_default_is_the_newest_vllm_v1_profile() -> None:
    """The default is the newest vLLM profile in the file, a V1 release of 2025-26."""
    catalog = load_engine_profiles()
    newest = max(
        (p for p in catalog.profiles.values() if p.name == "vllm"),
        key=lambda p: version_key(p.version),
    )
    assert catalog.get() == default_engine_profile() == newest
    assert newest.kind == "vllm-v1"
    assert newest.released >= "2025"


def test_old_v0_profiles_stay_selectable() -> None:
    """vLLM 0.6.x keeps its V0 accounting under its id."""
    assert VLLM_V0.kind == "vllm-v0"
    assert load_engine_profiles().resolve("vllm==0.6.4") == VLLM_V0


@pytest.mark.parametrize(
    ("requested", "engine_id"),
    [
        (None, "vllm-0.24.0"),
        ("vllm", "vllm-0.24.0"),
        ("vllm==0.19.0", "vllm-0.19.0"),
        ("vLLM == v0.9.2", "vllm-0.9.2"),
        ("vllm-0.8.5", "vllm-0.8.5"),
        ("sglang", "sglang-0.5.3"),
        ("sglang==0.4.6", "sglang-0.4.6"),
        ("trtllm", "trtllm-1.0.0"),
    ],
    ids=["none", "name", "pinned", "spaced-v-prefix", "id", "sglang", "sglang-pinned", "trtllm"],
)
def test_engine_field_resolves_to_a_profile(requested: str | None, engine_id: str) -> None:
    """A name alone is that engine's newest profile; name==version pins one."""
    assert load_engine_profiles().resolve(requested).id == engine_id


@pytest.mark.parametrize(
    "requested",
    ["tgi", "vllm==0.7.0", "sglang==9", "=="],
    ids=["engine", "version", "sglang", "bare"],
)
def test_unknown_engine_lists_the_known_ones(requested: str) -> None:
    """An unknown engine or version raises UnknownEngine naming every accepted value."""
    with pytest.raises(UnknownEngine) as raised:
        load_engine_profiles().resolve(requested)
    assert raised.value.requested == requested
    assert {"vllm", "sglang", "trtllm", "vllm==0.19.0"} <= set(raised.value.known)


def test_profile_kind_must_be_known() -> None:
    """A profile with a kind no budget module handles is refused."""
    doc = {
        "default": "x-1",
        "engines": [
            {"id": "x-1", "name": "x", "version": "1", "kind": "magic", "mtp_shares_lm_head": True}
        ],
    }
    with pytest.raises(ValueError, match="kind 'magic'"):
        engine_catalog_from_document(doc)


def test_mxfp4_activations_must_be_fp8_or_bf16() -> None:
    """An MXFP4 activation precision other than fp8 or bf16 is refused, naming the entry."""
    doc = document("vllm-0.6.4")
    doc["engines"][0]["mxfp4_activations"] = "fp4"
    with pytest.raises(ValueError, match=r"'vllm-0\.6\.4': mxfp4_activations not in"):
        engine_catalog_from_document(doc)


@pytest.mark.parametrize(
    ("eager", "message"),
    [
        ({"moe_layer_us": -1.0}, r"'vllm-0\.6\.4'.*>= 0.*eager_prefill\.moe_layer_us"),
        ({"moe_layers_us": 1.0}, r"'vllm-0\.6\.4'.*unknown field `moe_layers_us`"),
    ],
    ids=["negative", "misspelt"],
)
def test_eager_prefill_figures_are_checked(eager: dict[str, float], message: str) -> None:
    """A negative or misspelt host figure is refused, naming the entry and the field."""
    doc = document("vllm-0.6.4")
    doc["engines"][0]["eager_prefill"] = eager
    with pytest.raises(ValueError, match=message):
        engine_catalog_from_document(doc)


@pytest.mark.parametrize("engine_id", ["sglang-0.4.6", "sglang-0.5.3"])
def test_eager_prefill_figures_name_their_logs(engine_id: str) -> None:
    """Every nonzero host figure of a profile has a ``fitted`` line naming the log it comes
    from."""
    profile = load_engine_profiles().get(engine_id)
    figures = {"dense_layer_us": profile.eager_prefill.dense_layer_us}
    figures["moe_layer_us"] = profile.eager_prefill.moe_layer_us
    for name, value in figures.items():
        assert value > 0
        lines = [line for line in profile.fitted if line.startswith(f"eager_prefill.{name}:")]
        assert lines, name
        assert "#" in lines[0], name


@pytest.mark.parametrize(
    ("engine_id", "activations"),
    [("vllm-0.24.0", "bf16"), ("sglang-0.5.3", "fp8"), ("trtllm-1.0.0", "fp8")],
    ids=["vllm-w4a16", "sglang-w4a8", "trtllm-w4a8"],
)
def test_todays_engines_state_their_mxfp4_activations(engine_id: str, activations: str) -> None:
    """vLLM keeps bf16 activations for MXFP4 on Blackwell; TensorRT-LLM and SGLang use MXFP8."""
    assert load_engine_profiles().get(engine_id).mxfp4_activations == activations


@pytest.mark.parametrize(
    "engine_id",
    ["vllm-0.9.2", "vllm-0.19.0", "vllm-0.21.0", "sglang-0.4.6", "sglang-0.5.3", "trtllm-1.0.0"],
)
def test_todays_profiles_cite_their_source(engine_id: str) -> None:
    """Every 2025-26 profile names the source files it follows."""
    profile = load_engine_profiles().get(engine_id)
    assert any(".py" in source for source in profile.sources)


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
            {
                "default": "vllm-1",
                "engines": [
                    {"id": "vllm-2", "name": "vllm", "version": "1", "mtp_shares_lm_head": True}
                ],
            },
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
        "  - {id: vllm-0.7, name: vllm, version: '0.7', non_torch_bytes: 1024,\n"
        "     mtp_shares_lm_head: false}\n",
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
