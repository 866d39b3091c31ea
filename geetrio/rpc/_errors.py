"""GeeRPC's errors: one base class; closed/broken vs remote vs timeout."""

from __future__ import annotations

import trio

from ..errors import GeetrioError

__all__ = ["FrameError", "RPCError", "RPCTimeout", "RemoteError", "ShutdownError"]


class RPCError(GeetrioError):
    """Base class of every error ``geetrio.rpc`` raises itself."""


class RemoteError(RPCError):
    """The server answered with an error header; ``message`` is its text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ShutdownError(RPCError):
    """The connection is closed or broken: every pending and later call fails.
    ``sent`` is False when the call found it broken before sending anything (safe to
    try elsewhere)."""

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent


class RPCTimeout(RPCError, trio.TooSlowError):
    """A call's ``timeout`` or the dial's ``connect_timeout`` passed."""


class FrameError(RPCError):
    """The peer broke the wire format: a bad Option line, a frame over the limit, a
    header that is not one. The connection cannot go on."""
