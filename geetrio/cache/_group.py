"""``Group``: a named cache with a loader, peers and stats (GeeCache days 2, 5, 6).

Flow of ``get(key)``: main cache, then hot cache; on a miss one flight per key
(``SingleFlight``) re-checks both caches (a flight that just finished may have filled
them), then asks the peer owning the key — bounded by the peer's own timeout — and on
any peer failure counts it, logs it and loads locally. Local loads fill the main cache;
values fetched from peers fill the hot cache now and then (1 in 10, as groupcache),
so popular keys of other nodes stop costing a round trip.

A request that came *from* a peer (``get_for_peer``) is loaded here and never forwarded
again, so nodes whose peer lists disagree cannot bounce a key between them. It has its
own flight table: joining a flight that is itself waiting on that same peer would be
the distributed deadlock of mailgun/groupcache #72.
"""

from __future__ import annotations

import inspect
import logging
import random
from collections.abc import Callable
from typing import Any

import trio

from .. import tracing
from .._core.text import limited, shorten
from ._lru import LRUCache
from ._metrics import measure
from ._peers import PeerError, PeerPicker
from ._singleflight import SingleFlight
from ._types import Getter

__all__ = ["Getter", "Group", "get_group", "new_group"]

log = logging.getLogger("geetrio.cache")


HOT_CACHE_FRACTION = 8  # the hot cache may hold an eighth of the main cache, as groupcache
HOT_CACHE_PROBABILITY = 0.1

_groups: dict[str, Group] = {}


def new_group(name: str, cache_bytes: int, getter: Getter, *, ttl: float | None = None) -> Group:
    """Create the group ``name``; an existing group of that name is replaced."""
    group = Group(name, cache_bytes, getter, ttl=ttl)
    _groups[name] = group
    return group


def get_group(name: str) -> Group | None:
    return _groups.get(name)


class Group:
    """A cache namespace. ``await group.get(key) -> bytes``.

    ``cache_bytes`` bounds both caches together, as in groupcache: when an insert goes
    over it, the oldest entry of the hot cache is evicted while the hot cache holds more
    than an eighth of what the main cache holds, else the oldest of the main cache.
    ``cache_bytes=0`` caches nothing (every get loads). ``ttl``, in seconds of trio
    time, makes entries expire. ``stats`` counts, as groupcache does:
    ``gets``; ``hits`` (either cache); ``loads`` (misses that went to a flight);
    ``loads_deduped`` (flights that really loaded, after single-flighting);
    ``peer_loads``/``peer_errors``; ``local_loads``/``local_errors``;
    ``evictions``; ``removals`` (``remove_local``, also on a peer's request); plus
    ``bytes`` and ``items`` of both caches and ``hot_bytes``/``hot_items``.
    """

    def __init__(
        self,
        name: str,
        cache_bytes: int,
        getter: Getter,
        *,
        ttl: float | None = None,
        hot_probability: float = HOT_CACHE_PROBABILITY,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not name:
            raise ValueError("a group needs a name")
        if not callable(getter):
            raise TypeError(f"getter must be a function, not {getter!r}")
        if cache_bytes < 0:
            raise ValueError("cache_bytes must be >= 0")
        if ttl is not None and ttl <= 0:
            raise ValueError("ttl must be positive (or None)")
        self.name = name
        self._getter = getter
        self._getter_is_async = inspect.iscoroutinefunction(getter) or inspect.iscoroutinefunction(
            getattr(getter, "__call__", None)  # noqa: B004 - a callable object's method
        )
        self._ttl = ttl
        self._expires: dict[str, float] = {}
        self._cache_bytes = cache_bytes
        # Both unbounded on their own: _store evicts against the shared budget.
        self._main = LRUCache(0, on_evicted=self._evicted)
        self._hot = LRUCache(0, on_evicted=self._evicted)
        self._flights: SingleFlight[bytes] = SingleFlight()
        self._local_flights: SingleFlight[bytes] = SingleFlight()
        # Read-after-write: a load that was running when its key was removed must not
        # store its (maybe older) value. ``_loading`` counts the loads running per key;
        # ``_removals`` counts the removals of a key while any load of it ran (dropped
        # when the last load ends); a load stores only if the count did not move.
        self._loading: dict[str, int] = {}
        self._removals: dict[str, int] = {}
        self._peers: PeerPicker | None = None
        self._hot_probability = hot_probability
        self._rng = rng
        self._stats: dict[str, int] = dict.fromkeys(
            (
                "gets",
                "hits",
                "loads",
                "loads_deduped",
                "peer_loads",
                "peer_errors",
                "local_loads",
                "local_errors",
                "evictions",
                "removals",
            ),
            0,
        )
        measure(self)  # its stats in the process's metrics

    @property
    def node(self) -> str:
        """This node's own URL once it has peers (``HTTPPool.self_url``), else ""."""
        return str(getattr(self._peers, "self_url", ""))

    def register_peers(self, peers: PeerPicker) -> None:
        """Route misses through ``peers`` (an ``HTTPPool``); allowed once."""
        if self._peers is not None:
            raise RuntimeError(f"register_peers called more than once for group {self.name!r}")
        self._peers = peers

    # ------------------------------------------------------------------ reads

    async def get(self, key: str) -> bytes:
        """The value of ``key``: cached, from the owning peer, or loaded here.

        Raises ``ValueError`` for an empty key; a loader's exception reaches the caller
        unchanged. Cancelling a caller only stops its wait (see ``SingleFlight``).
        """
        if not key or not isinstance(key, str):
            raise ValueError("key is required (a non-empty str)")
        stats = self._stats
        stats["gets"] += 1
        value = self._main.get(key)
        if value is not None and (self._ttl is None or self._fresh(key)):
            stats["hits"] += 1
            return value
        return await self._miss(key, self._flights, forward=True)

    async def get_for_peer(self, key: str) -> bytes:
        """Like ``get`` but never asks a peer: for requests that came from one.
        Cancelled: as ``get``, only this caller's wait stops."""
        if not key or not isinstance(key, str):
            raise ValueError("key is required (a non-empty str)")
        self._stats["gets"] += 1
        value = self._cached(key)
        if value is not None:
            self._stats["hits"] += 1
            return value
        return await self._miss(key, self._local_flights, forward=False)

    async def _miss(self, key: str, flights: SingleFlight[bytes], *, forward: bool) -> bytes:
        value = self._cached(key)  # the hot cache, or an expired main entry dropped
        if value is not None:
            self._stats["hits"] += 1
            return value
        self._stats["loads"] += 1
        return await flights.do(key, lambda: self._load(key, forward))

    async def _load(self, key: str, forward: bool) -> bytes:
        # Re-check inside the flight: a flight for this key may have finished between
        # our miss and our becoming the leader (7days-golang PR #69).
        value = self._cached(key)
        if value is not None:
            return value
        self._stats["loads_deduped"] += 1
        loading = self._loading
        loading[key] = loading.get(key, 0) + 1
        removals = self._removals.get(key, 0)
        try:
            tracer = tracing.tracer()
            if tracer is None:
                return await self._fetch(key, forward, removals)
            attributes = {"geecache.group": self.name, "geecache.key": shorten(key)}
            with tracing.span(tracer, "geecache load", tracing.INTERNAL, attributes):
                return await self._fetch(key, forward, removals)
        finally:
            if loading[key] == 1:
                del loading[key]
                self._removals.pop(key, None)
            else:
                loading[key] -= 1

    async def _fetch(self, key: str, forward: bool, removals: int) -> bytes:
        """Load ``key`` from its peer or locally; cache it unless it was removed since
        the load began (``removals`` no longer the count)."""
        if forward and self._peers is not None:
            peer = self._peers.pick_peer(key)
            if peer is not None:
                try:
                    value = await peer.get(self.name, key)
                except PeerError as exc:
                    self._stats["peer_errors"] += 1
                    limited.warning(
                        log,
                        "group %s: peer failed for %s, loading locally: %s",
                        self.name,
                        shorten(repr(key)),
                        shorten(exc),
                    )
                else:
                    self._stats["peer_loads"] += 1
                    if self._rng() < self._hot_probability and self._unchanged(key, removals):
                        self._store(self._hot, key, value)
                    return value
        value = await self._load_locally(key)
        if self._unchanged(key, removals):
            self._store(self._main, key, value)
        return value

    def _unchanged(self, key: str, removals: int) -> bool:
        return self._removals.get(key, 0) == removals

    async def _load_locally(self, key: str) -> bytes:
        tracer = tracing.tracer()
        if tracer is None:
            return await self._get_locally(key)
        attributes = {"geecache.group": self.name, "geecache.key": shorten(key)}
        with tracing.span(tracer, "geecache getter", tracing.INTERNAL, attributes):
            return await self._get_locally(key)

    async def _get_locally(self, key: str) -> bytes:
        try:
            if self._getter_is_async:
                value: Any = await self._getter(key)  # type: ignore[misc]
            else:
                value = await trio.to_thread.run_sync(self._getter, key)
        except Exception:
            self._stats["local_errors"] += 1
            raise
        if not isinstance(value, bytes | bytearray | memoryview):
            self._stats["local_errors"] += 1
            raise TypeError(
                f"group {self.name!r}: the getter returned {type(value).__name__}, not bytes"
            )
        self._stats["local_loads"] += 1
        return bytes(value)

    # ------------------------------------------------------------------ cache state

    def _cached(self, key: str) -> bytes | None:
        value = self._main.get(key)
        if value is not None and (self._ttl is None or self._fresh(key)):
            return value
        value = self._hot.get(key)
        if value is not None and (self._ttl is None or self._fresh(key)):
            return value
        return None

    def _fresh(self, key: str) -> bool:
        if trio.current_time() < self._expires.get(key, 0.0):
            return True
        self._main.remove(key)
        self._hot.remove(key)
        self._expires.pop(key, None)
        return False

    def _store(self, cache: LRUCache, key: str, value: bytes) -> None:
        budget = self._cache_bytes
        if budget <= 0:
            return  # caching is off
        if self._ttl is not None:
            self._expires[key] = trio.current_time() + self._ttl
        cache.add(key, value)
        main, hot = self._main, self._hot
        while main.nbytes + hot.nbytes > budget:
            victim = hot if hot.nbytes > main.nbytes // HOT_CACHE_FRACTION else main
            victim.remove_oldest()

    def _evicted(self, key: str, value: bytes) -> None:
        self._stats["evictions"] += 1
        if self._ttl is not None and key not in self._main and key not in self._hot:
            self._expires.pop(key, None)

    # ------------------------------------------------------------------ removal

    def remove_local(self, key: str) -> None:
        """Drop ``key`` from this node's caches (what a peer's remove request does).
        Read-after-write: a get that starts after this returns never gets a value
        loaded before it — the flights in the air are forgotten (later gets start their
        own) and the loads running now will not cache what they got."""
        self._stats["removals"] += 1
        self._main.remove(key)
        self._hot.remove(key)
        self._expires.pop(key, None)
        self._flights.forget(key)
        self._local_flights.forget(key)
        if key in self._loading:
            self._removals[key] = self._removals.get(key, 0) + 1

    async def remove(self, key: str) -> None:
        """Drop ``key`` here, at its owner and from every peer's hot cache. Peers that
        fail are logged and counted as peer errors; the call does not raise for them.

        Read-after-write: once this returns, no get that starts later — here or on any
        node reached — returns a value loaded before the call. So the owner is told
        first (after it, any node refilling its hot cache gets the new value), then the
        others at once, then this node's caches are cleared again (a get here between the
        first clear and the owner's could have fetched the old value from it).
        Cancelled: this node's caches are cleared already; peers not told yet keep their
        copies until their TTL or the next ``remove``."""
        if not key or not isinstance(key, str):
            raise ValueError("key is required (a non-empty str)")
        self.remove_local(key)
        if self._peers is None:
            return

        async def tell(peer: Any) -> None:
            try:
                await peer.remove(self.name, key)
            except PeerError as exc:
                self._stats["peer_errors"] += 1
                limited.warning(
                    log,
                    "group %s: peer failed to remove %s: %s",
                    self.name,
                    shorten(repr(key)),
                    shorten(exc),
                )

        owner = self._peers.pick_peer(key)
        if owner is not None:
            await tell(owner)
        async with trio.open_nursery() as nursery:
            for peer in self._peers.peers():
                if peer is not owner:
                    nursery.start_soon(tell, peer)
        self.remove_local(key)

    @property
    def stats(self) -> dict[str, int]:
        """A snapshot of the counters, plus ``bytes``/``items`` held (both caches)."""
        return {
            **self._stats,
            "bytes": self._main.nbytes + self._hot.nbytes,
            "items": len(self._main) + len(self._hot),
            "hot_items": len(self._hot),
            "hot_bytes": self._hot.nbytes,
        }
