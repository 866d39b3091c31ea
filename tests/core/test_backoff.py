"""Retry delays: doubling to a ceiling, back to the first after a success."""

from __future__ import annotations

import pytest

from geetrio._core.backoff import Backoff


def test_delays_double_to_the_ceiling_and_reset() -> None:
    backoff = Backoff(0.01, 1.0)
    delays = [backoff.next() for _ in range(10)]
    assert delays == [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.0, 1.0, 1.0]
    assert backoff.failures == 10 and backoff.peek() == 1.0
    backoff.reset()
    assert (backoff.failures, backoff.next()) == (0, 0.01)


def test_bounds_are_checked() -> None:
    for first, ceiling in ((0, 1), (2, 1), (-1, 1)):
        with pytest.raises(ValueError):
            Backoff(first, ceiling)
