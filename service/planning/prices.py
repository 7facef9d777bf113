"""Prices a deployment pays, over the catalog's list prices.

Layers, last wins: the catalog's ``price_per_hour_usd``, then a deployment's price file
(``CAPPLAN_PRICES_FILE``, read by :mod:`service.prices_file`), then the question's own
``prices``. Each maps a GPU id to USD per GPU-hour; costs in answers follow from them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from msgspec.structs import replace

from service.domain.gpu import GpuSpec

PriceList = Mapping[str, float]
"""GPU id -> USD per GPU-hour."""


def merged(*layers: PriceList | None) -> dict[str, float]:
    """The price lists in order, later ones overriding earlier ones per GPU."""
    prices: dict[str, float] = {}
    for layer in layers:
        prices.update(layer or {})
    return prices


def priced(gpu: GpuSpec, prices: PriceList) -> GpuSpec:
    """``gpu`` at the price ``prices`` gives it, else at its list price."""
    price = prices.get(gpu.id)
    return gpu if price is None else replace(gpu, price_per_hour_usd=price)


def priced_all(gpus: Iterable[GpuSpec], prices: PriceList) -> list[GpuSpec]:
    return [priced(gpu, prices) for gpu in gpus]
