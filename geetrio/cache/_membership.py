"""Cache membership from etcd: each node registers its URL under a cluster prefix and
follows the prefix, calling ``pool.set(...)`` whenever the member list changes — nodes
join and leave without restarts, and every node places keys on the same ring.

>>> await nursery.start(join_cluster, "http://127.0.0.1:2379", pool)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable

import trio

from ..discovery._etcd import EtcdEndpoint, etcd_client
from ..discovery._etcd_tasks import keep_registered, watch_prefix
from ._http_pool import HTTPPool

__all__ = ["DEFAULT_CLUSTER_PREFIX", "join_cluster"]

DEFAULT_CLUSTER_PREFIX = "/geecache/nodes/"


async def join_cluster(
    etcd_url: str | EtcdEndpoint,
    pool: HTTPPool,
    *,
    prefix: str = DEFAULT_CLUSTER_PREFIX,
    ttl: int = 10,
    on_change: Callable[[list[str]], None] | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Be a member under ``prefix`` and keep ``pool``'s peers equal to the members, until
    cancelled (then this node leaves at once). Started once this node is registered and
    the members listed; ``on_change(urls)`` after each change (for logs and tests)."""

    def changed(members: dict[str, str]) -> None:
        urls = sorted(set(members.values()))
        pool.set(*urls)
        if on_change is not None:
            on_change(urls)

    async with etcd_client(etcd_url) as client, trio.open_nursery() as nursery:
        await nursery.start(keep_registered, client, prefix + pool.self_url, pool.self_url, ttl)
        await nursery.start(watch_prefix, client, prefix, changed)
        task_status.started()
