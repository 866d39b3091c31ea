"""``geetrio.etcd``, kept for code that imports it: the etcd client lives in
``geetrio.discovery`` now, with the registry's client side."""

from .discovery._etcd import EtcdClient, EtcdEndpoint, EtcdError
from .discovery._etcd_tasks import keep_registered, watch_prefix

__all__ = ["EtcdClient", "EtcdEndpoint", "EtcdError", "keep_registered", "watch_prefix"]
