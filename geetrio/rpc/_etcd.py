"""Service discovery through etcd: servers register under a prefix with a lease; the
client side watches the prefix instead of polling a registry.

>>> await nursery.start(rpc.etcd_register, "http://127.0.0.1:2379", "tcp@10.0.0.5:9001")
>>> async with rpc.EtcdDiscovery("http://127.0.0.1:2379") as discovery:  # doctest: +SKIP
...     async with rpc.XClient(discovery, rpc.SelectMode.ROUND_ROBIN) as xc: ...

A server that stops deregisters at once (its lease is revoked); one that dies is gone
after its TTL. The discovery's list changes as the watch reports, so ``XClient`` stops
choosing a server within moments of its key going, and closes its connection to it.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

import trio

from .._core.nursery import OwnsTasks, unwrapped_nursery
from ..discovery._etcd import EtcdEndpoint, etcd_client
from ..discovery._etcd_tasks import keep_registered, watch_prefix
from ._xclient import MultiServersDiscovery, Selection

__all__ = ["DEFAULT_ETCD_PREFIX", "EtcdDiscovery", "etcd_register"]

DEFAULT_ETCD_PREFIX = "/geerpc/servers/"


async def etcd_register(
    etcd_url: str | EtcdEndpoint,
    rpc_addr: str,
    *,
    prefix: str = DEFAULT_ETCD_PREFIX,
    ttl: int = 10,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Keep ``rpc_addr`` registered under ``prefix`` until cancelled (the ``heartbeat``
    of etcd): started once the key is in; etcd being away is retried, never fatal.
    ``etcd_url``: a URL, or an ``EtcdEndpoint`` (TLS, users)."""
    async with etcd_client(etcd_url) as client:
        await keep_registered(client, prefix + rpc_addr, rpc_addr, ttl, task_status=task_status)


class EtcdDiscovery(MultiServersDiscovery, OwnsTasks):
    """The servers under ``prefix``, followed by a watch while inside ``async with``."""

    def __init__(self, etcd_url: str | EtcdEndpoint, prefix: str = DEFAULT_ETCD_PREFIX) -> None:
        super().__init__([])
        self.etcd_url = etcd_url
        self.prefix = prefix

    async def _open(self, stack: AsyncExitStack) -> None:
        """``async with`` returns once the servers were listed (waiting while etcd is
        away); the watch runs until the block ends."""
        client = await stack.enter_async_context(etcd_client(self.etcd_url))
        nursery = await stack.enter_async_context(unwrapped_nursery())
        stack.callback(nursery.cancel_scope.cancel)  # on exit, before the nursery waits
        await nursery.start(watch_prefix, client, self.prefix, self._changed)

    def _changed(self, members: dict[str, str]) -> None:
        self.update(sorted(set(members.values())))

    async def get(self, mode: Selection) -> str:
        """One server of the watched list, picked by ``mode``. Cancelled: nothing is
        picked."""
        await trio.lowlevel.checkpoint()
        return self.pick(self._servers, mode)
