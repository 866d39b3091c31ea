"""The cache's metrics (issue 20): every group made by ``new_group`` read at scrape time
from its ``stats`` — nothing on the hot path. ``geetrio_cache_<event>_total{group}`` per
counter of ``Group.stats``, and ``geetrio_cache_bytes``/``geetrio_cache_items``
``{group, cache="main"|"hot"}``. Registered once, when ``geetrio.cache`` is imported;
exposed by any Gee app's ``enable_metrics()`` in the process."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..metrics import REGISTRY

__all__ = ["EVENTS", "register"]

EVENTS = {
    "gets": "Gets asked of the group.",
    "hits": "Gets answered from this node's caches (main or hot).",
    "loads": "Gets that missed and went to a flight.",
    "loads_deduped": "Loads that really ran after single-flighting.",
    "peer_loads": "Values fetched from the owning peer.",
    "peer_errors": "Peer requests that failed (get or remove).",
    "local_loads": "Values loaded by this node's getter.",
    "local_errors": "Getter calls that failed.",
    "evictions": "Entries evicted to stay within the byte budget.",
    "removals": "Keys removed from this node's caches.",
}

Stats = Callable[[], Mapping[str, Mapping[str, int]]]  # group name -> its stats


def register(groups: Stats) -> None:
    """Read ``groups()`` at every scrape."""
    for event, text in EVENTS.items():
        counter = REGISTRY.counter(f"geetrio_cache_{event}_total", text, ("group",))
        counter.readers.append(lambda event=event: _events(groups, event))  # type: ignore[misc]
    for what in ("bytes", "items"):
        gauge = REGISTRY.gauge(
            f"geetrio_cache_{what}", f"{what.capitalize()} held, per cache.", ("group", "cache")
        )
        gauge.readers.append(lambda what=what: _held(groups, what))  # type: ignore[misc]


def _events(groups: Stats, event: str) -> dict[tuple[str, ...], float]:
    return {(name,): stats[event] for name, stats in groups().items()}


def _held(groups: Stats, what: str) -> dict[tuple[str, ...], float]:
    found: dict[tuple[str, ...], float] = {}
    for name, stats in groups().items():
        hot = stats[f"hot_{what}"]
        found[(name, "main")] = stats[what] - hot
        found[(name, "hot")] = hot
    return found
