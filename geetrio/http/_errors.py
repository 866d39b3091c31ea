"""Errors of the HTTP layer."""

from __future__ import annotations

from ..errors import GeetrioError

__all__ = ["ClientError", "HTTPError", "ProtocolError"]


class HTTPError(GeetrioError):
    """Base class of every error raised by ``geetrio.http``."""


class ProtocolError(HTTPError):
    """The peer broke HTTP/1.1 or one of our limits.

    ``status`` is the response the server should send before closing (400, 408, 413,
    414, 417, 431, 505), and ``reason`` a short, human-readable explanation that becomes
    the response body.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


class ClientError(HTTPError):
    """The server could not be reached, broke the protocol or one of the client's
    limits, or closed mid-response."""
