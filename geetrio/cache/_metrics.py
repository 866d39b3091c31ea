"""The cache's metrics (issue 20): every group of the process read at scrape time from
its ``stats`` — nothing on the hot path. ``geetrio_cache_<event>_total{group, node}``
per counter of ``Group.stats``, and ``geetrio_cache_bytes``/``geetrio_cache_items``
``{group, node, cache="main"|"hot"}``; ``node`` is the group's own peer URL (several
nodes may share a process: the stack's three), "" before it has peers. Registered
once, when ``geetrio.cache`` is imported; exposed by any Gee app's ``enable_metrics()``
in the process."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Protocol

from ..metrics import REGISTRY

__all__ = ["EVENTS", "measure"]

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


class Measured(Protocol):
    """What the metrics read of a group."""

    name: str

    @property
    def node(self) -> str: ...

    @property
    def stats(self) -> Mapping[str, int]: ...


_groups: weakref.WeakSet[Measured] = weakref.WeakSet()


def measure(group: Measured) -> None:
    """Read ``group``'s stats at every scrape while it exists."""
    _groups.add(group)


def _stats() -> dict[tuple[str, str], dict[str, int]]:
    """Every group's stats by (name, node); groups sharing both add up."""
    found: dict[tuple[str, str], dict[str, int]] = {}
    for group in list(_groups):
        key = (group.name, group.node)
        mine = group.stats
        if key in found:
            mine = {k: found[key][k] + v for k, v in mine.items()}
        found[key] = dict(mine)
    return found


def _events(event: str) -> dict[tuple[str, ...], float]:
    return {key: stats[event] for key, stats in _stats().items()}


def _held(what: str) -> dict[tuple[str, ...], float]:
    found: dict[tuple[str, ...], float] = {}
    for (name, node), stats in _stats().items():
        hot = stats[f"hot_{what}"]
        found[(name, node, "main")] = stats[what] - hot
        found[(name, node, "hot")] = hot
    return found


for _event, _text in EVENTS.items():
    REGISTRY.counter(f"geetrio_cache_{_event}_total", _text, ("group", "node")).readers.append(
        lambda event=_event: _events(event)  # type: ignore[misc]
    )
for _what in ("bytes", "items"):
    REGISTRY.gauge(
        f"geetrio_cache_{_what}",
        f"{_what.capitalize()} held, per cache.",
        ("group", "node", "cache"),
    ).readers.append(lambda what=_what: _held(what))  # type: ignore[misc]
