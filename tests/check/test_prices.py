"""A deployment's own GPU prices (CAPPLAN_PRICES_FILE) in the file loader and the gate."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from service.planning.prices import merged
from service.prices_file import PricesFileError, load_prices
from tests.check.conftest import Run


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("l4: 0.5\nh100-sxm: 2\n", id="flat"),
        pytest.param("prices:\n  l4: 0.5\n  h100-sxm: 2\n", id="under-prices"),
        pytest.param('{"prices": {"l4": 0.5, "h100-sxm": 2}}', id="json"),
    ],
)
def test_prices_file_forms(tmp_path: Path, text: str) -> None:
    """A flat mapping, one under ``prices``, or JSON: GPU id to USD per hour."""
    path = tmp_path / "prices.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_prices(path) == {"l4": 0.5, "h100-sxm": 2.0}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("l4: -1\n", "l4: must be >= 0", id="negative"),
        pytest.param("l4: cheap\n", "l4: expected USD/h", id="not-a-number"),
        pytest.param("- l4\n", "expected a mapping", id="not-a-mapping"),
        pytest.param(None, "cannot read", id="missing"),
    ],
)
def test_bad_prices_file_names_the_problem(tmp_path: Path, text: str | None, fragment: str) -> None:
    """Every unreadable price names the file and the GPU."""
    path = tmp_path / "prices.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(PricesFileError) as caught:
        load_prices(path)
    assert (fragment in str(caught.value), "CAPPLAN_PRICES_FILE" in str(caught.value)) == (
        True,
        True,
    )


def test_a_prices_file_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    """A Latin-1 prices file is a PricesFileError naming file and byte, not a traceback."""
    path = tmp_path / "prices.yaml"
    path.write_bytes("l4: 0.5  # \u00e9tage\n".encode("latin-1"))
    with pytest.raises(PricesFileError, match=r"prices.yaml: not UTF-8 text: byte 0xe9"):
        load_prices(path)


def test_later_price_lists_win() -> None:
    """The question's prices override the file's, which override nothing else."""
    assert merged({"l4": 1.0, "t4": 0.3}, None, {"l4": 0.5}) == {"l4": 0.5, "t4": 0.3}


def test_gate_costs_changes_at_the_files_prices(
    run_check: Callable[..., Run],
    manifest: Callable[..., Path],
    catalog_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """More L4s cost what the deployment pays per L4-hour, not the list price."""
    prices = tmp_path / "prices.yaml"
    prices.write_text("l4: 0.5\n", encoding="utf-8")
    monkeypatch.setenv("CAPPLAN_PRICES_FILE", str(prices))
    path = manifest(model="meta-llama/Llama-3.1-8B", gpu="l4", max_model_len=32768)
    result = run_check(
        "--offline", "--catalog-dir", str(catalog_dir), "--format", "json", str(path)
    )
    wider = next(s for s in json.loads(result.out)["suggestions"] if s["kind"] == "tensor_parallel")
    assert wider["extra_cost_per_hour"] == pytest.approx((wider["gpu_count"] - 1) * 0.5)
