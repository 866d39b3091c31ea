"""Discovery: how members of a cluster announce themselves and how the others learn who
is there — through etcd (a key under a lease, kept alive; a watched prefix) or through
GeeRPC's registry (a heartbeat; the listed servers). ``geetrio.rpc``'s discoveries and
``geetrio.cache.join_cluster`` stand on it.

>>> from geetrio import discovery
>>> # async with discovery.EtcdClient("http://127.0.0.1:2379") as etcd:
>>> #     await nursery.start(discovery.keep_registered, etcd, "/nodes/a", "http://a:8001")
>>> #     await nursery.start(discovery.watch_prefix, etcd, "/nodes/", print)
"""

from ._errors import DiscoveryError, DiscoveryTimeout, EtcdError, EtcdTimeout
from ._etcd import EtcdClient, EtcdEndpoint, prefix_end
from ._etcd_tasks import keep_registered, watch_prefix
from ._registry import DEFAULT_REGISTRY_PATH, heartbeat, list_servers

__all__ = [
    "DEFAULT_REGISTRY_PATH",
    "DiscoveryError",
    "DiscoveryTimeout",
    "EtcdClient",
    "EtcdEndpoint",
    "EtcdError",
    "EtcdTimeout",
    "heartbeat",
    "keep_registered",
    "list_servers",
    "prefix_end",
    "watch_prefix",
]
