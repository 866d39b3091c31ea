"""GeeCache: a groupcache-like distributed cache on trio.

>>> from geetrio.cache import new_group, HTTPPool
>>> async def load(key: str) -> bytes: ...                        # the slow source
>>> group = new_group("scores", 2 << 10, load)                   # doctest: +SKIP
>>> # async with HTTPPool("http://127.0.0.1:8001") as pool:
>>> #     pool.set("http://127.0.0.1:8001", "http://127.0.0.1:8002"); group.register_peers(pool)
>>> #     pool.mount(app); value = await group.get("Tom")
"""

from ._consistenthash import HashFn, HashRing, blake2b_32
from ._errors import PeerTimeout
from ._group import Getter, Group, get_group, new_group
from ._http_pool import DEFAULT_BASE_PATH, HTTPPool
from ._lru import LRUCache
from ._membership import DEFAULT_CLUSTER_PREFIX, join_cluster
from ._peers import CacheError, PeerError, PeerGetter, PeerPicker
from ._singleflight import SingleFlight
from .protocol import BadPeerPath, CorruptResponse

__all__ = [
    "DEFAULT_BASE_PATH",
    "DEFAULT_CLUSTER_PREFIX",
    "BadPeerPath",
    "CacheError",
    "CorruptResponse",
    "Getter",
    "Group",
    "HTTPPool",
    "HashFn",
    "HashRing",
    "LRUCache",
    "PeerError",
    "PeerGetter",
    "PeerPicker",
    "PeerTimeout",
    "SingleFlight",
    "blake2b_32",
    "get_group",
    "join_cluster",
    "new_group",
]
