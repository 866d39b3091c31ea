"""The bridge's metrics (issue 20): tabs open per page, calls per function and outcome,
and what it refused (a forbidden host or origin, a bad or oversized message, calls and
events over a tab's limit). Each bridge counts in its own ``BridgeStats`` (a dict update
per event); the process registry reads every live bridge when scraped. Labels come
from the bridge's own pages and functions, never from what a tab sends: an unknown
page or function is ``<other>``."""

from __future__ import annotations

import weakref

from ..metrics import REGISTRY

__all__ = ["OTHER", "BridgeStats"]

OTHER = "<other>"


class BridgeStats:
    """One bridge's numbers."""

    def __init__(self) -> None:
        self.pages: dict[str, int] = {}  # tabs open now, by page
        self.calls: dict[tuple[str, str], int] = {}  # (function, outcome) -> calls
        self.refused: dict[str, int] = {}  # reason -> refusals
        _live.add(self)

    def opened(self, page: str, delta: int) -> None:
        self.pages[page] = self.pages.get(page, 0) + delta

    def called(self, function: str, outcome: str) -> None:
        key = (function, outcome)
        self.calls[key] = self.calls.get(key, 0) + 1

    def refuse(self, reason: str) -> None:
        self.refused[reason] = self.refused.get(reason, 0) + 1


_live: weakref.WeakSet[BridgeStats] = weakref.WeakSet()


def _sum(field: str) -> dict[tuple[str, ...], float]:
    found: dict[tuple[str, ...], float] = {}
    for stats in list(_live):
        for key, value in getattr(stats, field).items():
            labels = key if isinstance(key, tuple) else (key,)
            found[labels] = found.get(labels, 0) + value
    return found


REGISTRY.gauge(
    "geetrio_bridge_pages_open", "Browser tabs connected, by page.", ("page",)
).readers.append(lambda: _sum("pages"))
REGISTRY.counter(
    "geetrio_bridge_calls_total",
    "Calls from pages to Python functions, by function and outcome (ok, error, refused, "
    "closed: the tab went away first).",
    ("function", "outcome"),
).readers.append(lambda: _sum("calls"))
REGISTRY.counter(
    "geetrio_bridge_refused_total",
    "What the bridge refused, by reason (host, origin, bad_message, too_large, "
    "too_many_calls, event_dropped).",
    ("reason",),
).readers.append(lambda: _sum("refused"))
