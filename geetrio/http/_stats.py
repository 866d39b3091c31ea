"""``ServerStats``: what an HTTP server counts of its connections — how many are open
now, and the requests it refused before any handler saw them (408, 413, 431, 400 ...),
by status. Plain numbers a server keeps in step; whoever wants them (a Gee app's
``/metrics``) reads them. Several servers may share one (an app served on two ports).
"""

from __future__ import annotations

__all__ = ["ServerStats"]


class ServerStats:
    """``open``: connections being served now; ``refused``: status -> requests the
    server itself answered with that error (malformed, oversized or too slow)."""

    __slots__ = ("open", "refused")

    def __init__(self) -> None:
        self.open = 0
        self.refused: dict[int, int] = {}

    def refuse(self, status: int) -> None:
        self.refused[status] = self.refused.get(status, 0) + 1
