"""Two tasks for the nurseries of their users, both surviving an etcd restart:

- ``keep_registered(client, key, value, ttl)``: the key under a lease of ``ttl``
  seconds, kept alive every ``ttl/3``; a lease etcd forgot is granted again and the key
  put again; leaving revokes the lease, so the key goes at once (a crash leaves it
  ``ttl`` seconds at most).
- ``watch_prefix(client, prefix, on_change)``: the keys under ``prefix``, listed, then
  followed through a watch; ``on_change(members)`` after every change, and after every
  re-list when the watch breaks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import trio

from .._core.backoff import Backoff
from ._errors import EtcdError
from ._etcd import REQUEST_TIMEOUT, EtcdClient

__all__ = ["keep_registered", "watch_prefix"]

log = logging.getLogger("geetrio.etcd")

MAX_BACKOFF = 2.0  # seconds between attempts while etcd is away


async def keep_registered(
    client: EtcdClient,
    key: str,
    value: str,
    ttl: int = 10,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Keep ``key = value`` in etcd under a lease of ``ttl`` seconds until cancelled
    (then the lease is revoked and the key goes at once). Reports started once the key
    is in; while etcd is away it retries (logged) and puts the key back when it returns."""
    if ttl < 2:
        raise ValueError("ttl must be at least 2 seconds")
    lease = 0
    backoff = Backoff(0.1, MAX_BACKOFF)
    started = False
    try:
        while True:
            try:
                if not lease:
                    lease = await client.grant(ttl)
                    await client.put(key, value, lease=lease)
                    log.info("etcd: %s registered (lease %x, ttl %d s)", key, lease, ttl)
                elif await client.keep_alive(lease) == 0:
                    log.warning("etcd: lease of %s expired; registering again", key)
                    lease = 0
                    continue
                backoff.reset()
                if not started:
                    started = True
                    task_status.started()
                await trio.sleep(ttl / 3)
            except EtcdError as exc:
                delay = backoff.next()
                log.warning("etcd: keeping %s failed (%s); retrying in %.1f s", key, exc, delay)
                await trio.sleep(delay)
    finally:
        if lease:
            with trio.move_on_after(REQUEST_TIMEOUT, shield=True):
                try:
                    await client.revoke(lease)
                    log.info("etcd: %s deregistered", key)
                except EtcdError as exc:
                    log.warning("etcd: revoking %s failed (%s): it expires in %d s", key, exc, ttl)


def _apply(
    members: dict[str, str], on_change: Callable[[dict[str, str]], None], events: list[Any]
) -> None:
    for kind, key, value in events:
        if kind == "DELETE":
            members.pop(key, None)
        else:
            members[key] = value
    on_change(dict(members))


async def watch_prefix(
    client: EtcdClient,
    prefix: str,
    on_change: Callable[[dict[str, str]], None],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Call ``on_change(members)`` (key -> value, every key under ``prefix``) now and
    after every change, until cancelled. Reports started after the first list. A
    broken watch is re-listed and re-watched, retrying while etcd is away."""
    started = False
    backoff = Backoff(0.1, MAX_BACKOFF)
    while True:
        try:
            members, revision = await client.get_prefix(prefix)
            on_change(dict(members))
            if not started:
                started = True
                task_status.started()
            backoff.reset()

            await client.watch(prefix, revision + 1, partial(_apply, members, on_change))
            log.info("etcd: the watch on %s ended; watching again", prefix)
        except EtcdError as exc:
            delay = backoff.next()
            log.warning("etcd: watching %s failed (%s); retrying in %.1f s", prefix, exc, delay)
            await trio.sleep(delay)
