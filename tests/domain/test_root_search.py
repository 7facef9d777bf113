"""The closed loop's root search (``batching._bisect``): ITP, interpolating within a bracket."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from service.domain.batching import _bisect


def _jump(x: float) -> float:
    """Finite below 3, infinite from 3 on (a prompt path at ρ = 1)."""
    return x if x < 3 else math.inf


CASES: list[tuple[str, Callable[[float], float], float, float]] = [
    ("linear", lambda x: 2 * x, 5.0, 2.5),
    ("convex", lambda x: x**3, 8.0, 2.0),
    ("flat then steep", lambda x: x if x < 9 else 9 + 1e6 * (x - 9), 9.5, 9.0 + 0.5e-6),
    ("kinked", lambda x: min(x, 4.0) + max(0.0, x - 4.0) * 50, 54.0, 5.0),
    ("infinite end", _jump, 2.0, 2.0),
    ("target past the range", lambda x: x, 50.0, 10.0),
    ("target below the range", lambda x: x + 1, 0.5, 0.0),
]


@pytest.mark.parametrize(
    ("measure", "target", "root"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_root_found_within_tolerance(
    measure: Callable[[float], float], target: float, root: float
) -> None:
    """The root of an increasing function is found to the relative tolerance of the bracket."""
    assert _bisect(target, measure, 0.0, 10.0, relative=1e-9) == pytest.approx(root, abs=1e-7)


def test_root_search_takes_fewer_steps_than_halving() -> None:
    """A smooth increasing function needs far fewer evaluations than 30 halvings."""
    calls = 0

    def counted(x: float) -> float:
        nonlocal calls
        calls += 1
        return x**2 + x

    _bisect(30.0, counted, 0.0, 100.0, relative=1e-9)
    assert calls <= 15


def test_root_search_never_needs_more_than_halving_and_one() -> None:
    """A function false position handles badly (a pole) costs at most one step beyond halving."""
    calls = 0

    def pole(x: float) -> float:
        nonlocal calls
        calls += 1
        return x / (10.0001 - x)

    _bisect(50.0, pole, 0.0, 10.0, relative=1e-9)
    halvings = math.ceil(math.log2(10.0 / 1e-8))
    assert calls <= 2 + halvings + 1
