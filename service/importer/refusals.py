"""Why imports were refused, grouped by model family, so the team sees what to model next.

An import refused for an unmodelled architecture fails with a message written by
:func:`service.importer.values.catalog_values`::

    <repo>@<sha>: refused model_type '<type>' [<feature>]: <error>; capplan cannot plan ...

:func:`refusals_by_family` counts such messages per ``(model_type, feature)``; failures of
any other kind (network, malformed config) are not refusals and are left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

REFUSED = "refused model_type"
_PATTERN = re.compile(r"refused model_type '(?P<family>[^']*)' \[(?P<feature>[^\]]*)\]")


def refusal_message(where: str, model_type: str, feature: str, error: str) -> str:
    """The failure message of a refused import (parsed back by :func:`refusals_by_family`)."""
    return (
        f"{where}: {REFUSED} '{model_type or '(none)'}' [{feature}]: {error}; "
        "capplan cannot plan this model"
    )


def refusals_by_family(errors: Iterable[str | None]) -> dict[tuple[str, str], int]:
    """How many refusals name each ``(model_type, feature)``, most frequent first."""
    counts: Counter[tuple[str, str]] = Counter()
    for error in errors:
        match = _PATTERN.search(error or "")
        if match is not None:
            counts[(match["family"], match["feature"])] += 1
    return dict(counts.most_common())
