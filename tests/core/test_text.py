"""Input quoted in logs and error texts: escaped, shortened, rate-limited."""

from __future__ import annotations

import logging

import pytest

from geetrio._core import text as _text
from geetrio._core.text import RateLimitedLog, shorten


def test_control_characters_are_escaped() -> None:
    assert shorten("x\n2026-12-06 fake line") == "x\\n2026-12-06 fake line"
    assert shorten("a\rb\x00c\x7fd\x85e\tf") == "a\\rb\\x00c\\x7fd\\x85e\\tf"
    assert shorten("back\\slash") == "back\\\\slash"  # an escape cannot be faked
    assert shorten("plain key ключ") == "plain key ключ"


def test_long_input_is_cut_and_its_length_said() -> None:
    text = shorten("k" * 100_000, 50)
    assert text == "k" * 50 + "... (100000 characters)"
    assert shorten(b"\n" * 10, 5).startswith("b'\\\\n")  # non-strings through str()


def test_repeated_warnings_are_rate_limited(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(_text.time, "monotonic", lambda: now[0])
    log = logging.getLogger("geetrio.test")
    limited = RateLimitedLog(burst=3, window=10.0)
    with caplog.at_level(logging.WARNING, logger="geetrio.test"):
        for i in range(100):
            limited.warning(log, "peer failed for %s", i)
        limited.warning(log, "another kind %s", 1)  # its own budget
        assert [r.getMessage() for r in caplog.records] == [
            "peer failed for 0",
            "peer failed for 1",
            "peer failed for 2",
            "another kind 1",
        ]
        now[0] += 10.0
        limited.warning(log, "peer failed for %s", "again")
    assert caplog.records[-2].getMessage() == (
        "97 similar messages suppressed in 10 s: peer failed for %s"
    )
    assert caplog.records[-1].getMessage() == "peer failed for again"
