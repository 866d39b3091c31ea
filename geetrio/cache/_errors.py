"""The cache's errors: one base class, under ``geetrio.GeetrioError``."""

from __future__ import annotations

import trio

from ..errors import GeetrioError

__all__ = ["BadPeerPath", "CacheError", "CorruptResponse", "PeerError", "PeerTimeout"]


class CacheError(GeetrioError):
    """Base class of the errors ``geetrio.cache`` raises itself."""


class PeerError(CacheError):
    """A peer failed: unreachable, too slow, a non-200 answer, or a corrupt body."""


class PeerTimeout(PeerError, trio.TooSlowError):
    """A peer gave no answer within the pool's timeout."""


class CorruptResponse(PeerError, ValueError):
    """A peer's 200 body that is not a ``geecachepb.Response``."""


class BadPeerPath(CacheError, ValueError):
    """A peer request path that does not name a group and a key (-> 400)."""
