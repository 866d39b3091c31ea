"""Input quoted in log lines and error texts: escaped, shortened, and rate-limited.

A peer's bytes reach our logs and error replies (keys, method names, paths). Quoted
raw they let one client forge log lines (``key=x%0a<fake line>``) and multiply its
input (a 1 MiB key echoed in every error reply and every warning). ``shorten`` escapes
every control character and cuts the text to a bound, saying how long it was;
``RateLimitedLog`` lets a warning that repeats (same logger, same format) through a few
times per window and then counts it, one summary line per window.
"""

from __future__ import annotations

import logging
import time
from typing import Any

__all__ = ["MAX_QUOTED", "RateLimitedLog", "limited", "shorten"]

MAX_QUOTED = 200  # characters of input quoted in a log line or an error text

# C0 controls, DEL and C1 controls; a backslash too, so an escape cannot be faked
_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
_ESCAPES.update({ord("\\"): "\\\\", ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})


def shorten(value: object, limit: int = MAX_QUOTED) -> str:
    """``value`` as a one-line string for a log or an error text: control characters
    escaped, at most ``limit`` characters of it kept (the original length said)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        return f"{text[:limit].translate(_ESCAPES)}... ({len(text)} characters)"
    return text.translate(_ESCAPES) if not text.isprintable() or "\\" in text else text


class RateLimitedLog:
    """``limited.warning(log, fmt, *args)``: at most ``burst`` records per format string
    and logger within each ``window`` seconds; the rest are counted and reported once
    when the window ends ("... N similar messages suppressed")."""

    def __init__(self, burst: int = 10, window: float = 10.0) -> None:
        self.burst = burst
        self.window = window
        self._windows: dict[tuple[str, str], list[Any]] = {}  # -> [start, seen]

    def log(self, logger: logging.Logger, level: int, fmt: str, *args: object) -> None:
        if not logger.isEnabledFor(level):
            return
        now = time.monotonic()
        key = (logger.name, fmt)
        window = self._windows.get(key)
        if window is None or now - window[0] >= self.window:
            if window is not None and window[1] > self.burst:
                logger.log(
                    level,
                    "%d similar messages suppressed in %g s: %s",
                    window[1] - self.burst,
                    self.window,
                    fmt,
                )
            if len(self._windows) > 1000:  # formats are ours, but bound it anyway
                self._windows.clear()
            window = self._windows[key] = [now, 0]
        window[1] += 1
        if window[1] <= self.burst:
            logger.log(level, fmt, *args)

    def warning(self, logger: logging.Logger, fmt: str, *args: object) -> None:
        self.log(logger, logging.WARNING, fmt, *args)

    def info(self, logger: logging.Logger, fmt: str, *args: object) -> None:
        self.log(logger, logging.INFO, fmt, *args)


limited = RateLimitedLog()
