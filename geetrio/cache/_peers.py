"""The two tiny interfaces between a ``Group`` and its peers (errors: ``_errors.py``).

``Group`` depends only on these; ``HTTPPool`` implements them over HTTP, and tests
inject fakes (a peer that fails, answers garbage, or counts calls).
"""

from __future__ import annotations

from typing import Protocol

from ._errors import CacheError, PeerError

__all__ = ["CacheError", "PeerError", "PeerGetter", "PeerPicker"]


class PeerGetter(Protocol):
    """One peer: fetch or drop a key of a group there. Raises ``PeerError``."""

    async def get(self, group: str, key: str) -> bytes:
        """The value at the peer. Cancelled: the request is abandoned (its connection
        closed); the peer may still load the key."""
        ...

    async def remove(self, group: str, key: str) -> None:
        """Drop the key at the peer. Cancelled: the peer may or may not have dropped it."""
        ...


class PeerPicker(Protocol):
    def pick_peer(self, key: str) -> PeerGetter | None:
        """The peer owning ``key``, or None when this node owns it."""
        ...

    def peers(self) -> list[PeerGetter]:
        """Every other peer (``Group.remove`` tells them all to drop hot copies)."""
        ...
