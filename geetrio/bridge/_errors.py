"""The bridge's errors, under ``geetrio.GeetrioError``."""

from __future__ import annotations

from ..errors import GeetrioError

__all__ = ["UNSUPPORTED_DATA", "BadMessage", "BridgeError", "PageClosed"]

UNSUPPORTED_DATA = 1003


class BridgeError(GeetrioError):
    """The page could not do what was asked (no such element, a JS exception)."""


class PageClosed(BridgeError):
    """The tab went away before it answered."""


class BadMessage(BridgeError, ValueError):
    """A message from the page that is not one; ``code`` is the close code to send."""

    def __init__(self, reason: str, code: int = UNSUPPORTED_DATA) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
