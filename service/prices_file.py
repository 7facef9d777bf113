"""A deployment's own GPU prices (``CAPPLAN_PRICES_FILE``): YAML or JSON, read once per path.

The file maps catalog GPU ids to USD per GPU-hour, at the top level or under ``prices``::

    prices:
      h100-sxm: 2.10      # our reserved-instance rate
      l4: 0.55

They override the catalog's list prices in every answer that costs something (see
:mod:`service.planning.prices`).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import yaml


class PricesFileError(ValueError):
    """The prices file cannot be read, or a price in it is not a number of dollars."""


@functools.cache
def load_prices(path: Path) -> dict[str, float]:
    """``{gpu id: USD per hour}`` from ``path``; :class:`PricesFileError` names what is wrong."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PricesFileError(f"CAPPLAN_PRICES_FILE {path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise PricesFileError(
            f"CAPPLAN_PRICES_FILE {path}: not UTF-8 text: byte 0x{exc.object[exc.start]:02x} "
            f"at offset {exc.start}; save it as UTF-8"
        ) from exc
    except yaml.YAMLError as exc:
        raise PricesFileError(f"CAPPLAN_PRICES_FILE {path}: not YAML/JSON: {exc}") from exc
    if isinstance(document, dict) and isinstance(document.get("prices"), dict):
        document = document["prices"]
    if not isinstance(document, dict):
        raise PricesFileError(f"CAPPLAN_PRICES_FILE {path}: expected a mapping of GPU id to USD/h")
    prices: dict[str, float] = {}
    for gpu_id, value in document.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PricesFileError(
                f"CAPPLAN_PRICES_FILE {path}: {gpu_id}: expected USD/h, got {value!r}"
            )
        if not math.isfinite(value) or value < 0:
            raise PricesFileError(
                f"CAPPLAN_PRICES_FILE {path}: {gpu_id}: must be >= 0, got {value}"
            )
        prices[str(gpu_id)] = float(value)
    return prices
