"""Number formatting shared by the renderers: bytes in GB and GiB, tokens with separators."""

from __future__ import annotations

from service.domain.units import GB, GIB


def gb(count: float) -> str:
    """Decimal gigabytes, two decimals: ``16.06 GB``."""
    return f"{count / GB:.2f} GB"


def gib(count: float) -> str:
    """Binary gibibytes, two decimals: ``14.96 GiB``."""
    return f"{count / GIB:.2f} GiB"


def size(count: float) -> str:
    """Both units: ``16.06 GB (14.96 GiB)``."""
    return f"{gb(count)} ({gib(count)})"


def tokens(count: int) -> str:
    return f"{count:,}"


def money(dollars: float | None) -> str:
    """An added hourly cost with its sign: ``+$1.30/h``, ``-$4.40/h`` (a saving)."""
    if dollars is None:
        return "price unknown"
    sign = "-" if dollars < 0 else "+"
    return f"{sign}${abs(dollars):,.2f}/h"


def sequences(count: int) -> str:
    """``1 sequence``, ``7 sequences``."""
    return f"{count} sequence{'' if count == 1 else 's'}"
