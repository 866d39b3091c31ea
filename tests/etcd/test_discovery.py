"""etcd under GeeRPC discovery and GeeCache membership: servers and nodes come and go
and every client and node follows within a second; a crashed server is gone after its
TTL; an etcd restart loses no registration."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import trio

from geetrio import rpc
from geetrio.cache import HashRing, HTTPPool, join_cluster
from tests.etcd.test_etcd import Members
from tests.helpers import read_until

ROOT = Path(__file__).resolve().parents[2]


class Node:
    async def Address(self, _: int) -> str:
        return self.address

    address = ""


async def start_server(
    nursery: trio.Nursery, etcd_url: str, ttl: int = 3
) -> tuple[str, trio.CancelScope]:
    """An in-process RPC server registered in etcd; cancel the scope to stop it."""
    server = rpc.Server()
    node = Node()
    server.register(node)
    scope = trio.CancelScope()

    async def run(task_status: trio.TaskStatus[str]) -> None:
        with scope:
            async with trio.open_nursery() as inner:
                port = await inner.start(server.serve, "127.0.0.1", 0)
                node.address = f"tcp@127.0.0.1:{port}"
                await inner.start(partial(rpc.etcd_register, etcd_url, node.address, ttl=ttl))
                task_status.started(node.address)

    return await nursery.start(run), scope


class Watched(rpc.EtcdDiscovery):
    """An EtcdDiscovery whose changes a test can wait for."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.members = Members()

    def _changed(self, members: dict[str, str]) -> None:
        super()._changed(members)
        self.members(members)


async def test_xclient_follows_servers_through_the_watch(
    etcd_server: Any, nursery: trio.Nursery
) -> None:
    a, _ = await start_server(nursery, etcd_server.url)
    async with (
        Watched(etcd_server.url) as discovery,
        rpc.XClient(discovery, rpc.SelectMode.ROUND_ROBIN) as xc,
    ):
        assert await discovery.get_all() == [a]
        started = time.monotonic()
        b, stop_b = await start_server(nursery, etcd_server.url)
        await discovery.members.until(lambda m: len(m) == 2)  # a new server: within a second
        seen_after = time.monotonic() - started
        assert sorted({await xc.call("Node.Address", 0) for _ in range(4)}) == sorted([a, b])
        stop_b.cancel()  # a server that stops: deregistered at once
        await discovery.members.until(lambda m: len(m) == 1)
        assert {await xc.call("Node.Address", 0) for _ in range(4)} == {a}
    assert seen_after < 1.0


async def test_a_killed_server_is_gone_within_its_ttl_and_no_longer_chosen(
    etcd_server: Any, nursery: trio.Nursery
) -> None:
    a, _ = await start_server(nursery, etcd_server.url)
    command = [
        sys.executable,
        str(ROOT / "servers" / "rpc_server.py"),
        "--etcd",
        etcd_server.url,
        "--etcd-ttl",
        "2",
    ]
    process = await trio.lowlevel.open_process(command, stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        with trio.fail_after(20):
            line = await read_until(process.stdout, lambda o: o.endswith(b"\n"), "rpc_server")
        b = line.decode().split()[1]
        async with (
            Watched(etcd_server.url) as discovery,
            rpc.XClient(discovery, rpc.SelectMode.ROUND_ROBIN) as xc,
        ):
            await discovery.members.until(lambda m: len(m) == 2)
            assert b in {await xc.call("Node.Address", 0) for _ in range(4)}
            process.send_signal(signal.SIGKILL)  # no deregistration: the lease must expire
            killed = time.monotonic()
            await discovery.members.until(lambda m: len(m) == 1, within=2 + 3)  # TTL + etcd's tick
            gone_after = time.monotonic() - killed
            assert {await xc.call("Node.Address", 0) for _ in range(4)} == {a}
        assert gone_after <= 2 + 3
    finally:
        process.kill()
        await process.wait()


async def test_registrations_come_back_after_etcd_restarts(
    etcd_server: Any, nursery: trio.Nursery
) -> None:
    a, _ = await start_server(nursery, etcd_server.url)
    async with Watched(etcd_server.url) as discovery, rpc.XClient(discovery) as xc:
        await trio.to_thread.run_sync(etcd_server.restart)
        b, _ = await start_server(nursery, etcd_server.url)
        await discovery.members.until(lambda m: sorted(m.values()) == sorted([a, b]), within=10)
        assert await xc.call("Node.Address", 0) in (a, b)


async def test_a_cache_node_that_joins_takes_its_ring_share_on_every_node(etcd_server: Any) -> None:
    keys = [f"key-{i}" for i in range(200)]
    async with trio.open_nursery() as nursery:
        pools: list[HTTPPool] = []
        watchers: list[Members] = []

        async def join(i: int) -> None:
            pool = await nursery.start(_hold_pool, f"http://127.0.0.1:{8100 + i}")
            members = Members()
            watchers.append(members)
            pools.append(pool)
            await nursery.start(
                partial(
                    join_cluster,
                    etcd_server.url,
                    pool,
                    ttl=3,
                    on_change=lambda urls, m=members: m({u: u for u in urls}),
                )
            )

        for i in range(3):
            await join(i)
        for members in watchers:
            await members.until(lambda m: len(m) == 3)
        await join(3)  # a fourth node joins
        for members in watchers:
            await members.until(lambda m: len(m) == 4)  # every node, within a second
        ring = HashRing(50)
        ring.add(*(p.self_url for p in pools))
        for pool in pools:
            assert [pool.owner(k) for k in keys] == [ring.get(k) for k in keys]
        newcomer = pools[3].self_url
        assert sum(ring.get(k) == newcomer for k in keys) > 0  # it owns a share
        nursery.cancel_scope.cancel()


async def _hold_pool(url: str, task_status: trio.TaskStatus[HTTPPool]) -> None:
    async with HTTPPool(url) as pool:
        task_status.started(pool)
        await trio.sleep_forever()
