"""Cache peers over HTTPS: nodes serve the peer protocol with TLS and fetch from each
other at ``https://`` URLs, verifying against the cluster's CA; a node that does not
trust that CA counts a peer error and loads the key itself."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest
import trio

from geetrio.cache import Group, HTTPPool
from geetrio.http import ServerConfig, client_ssl_context, server_ssl_context
from geetrio.web import Engine

# Enough keys that each of two nodes owns some, wherever their random ports put them on
# the ring (with 20, one node owned none about once in a hundred runs).
DB = {f"key-{i}": f"value-{i}".encode() for i in range(200)}


async def tls_node(nursery: trio.Nursery, pki: dict[str, Path]) -> tuple[Engine, str]:
    app = Engine()
    config = ServerConfig(ssl_context=server_ssl_context(pki["server"]))
    port = await nursery.start(partial(app.serve, "127.0.0.1", 0, config=config))
    return app, f"https://127.0.0.1:{port}"


@pytest.fixture
async def owner(nursery: trio.Nursery, pki: dict[str, Path]) -> AsyncIterator[tuple[str, list]]:
    """A node over HTTPS whose group loads from ``DB`` and records what it loaded."""
    app, url = await tls_node(nursery, pki)
    loads: list[str] = []

    async def load(key: str) -> bytes:
        loads.append(key)
        return DB[key]

    group = Group("tls-scores", 1 << 20, load, hot_probability=0.0)
    async with HTTPPool(url, groups=lambda name: group if name == "tls-scores" else None) as pool:
        pool.mount(app)
        yield url, loads


async def test_peers_fetch_over_https(
    nursery: trio.Nursery, pki: dict[str, Path], owner: tuple[str, list]
) -> None:
    owner_url, owner_loads = owner
    _, me = await tls_node(nursery, pki)
    mine: list[str] = []
    group = Group("tls-scores", 1 << 20, lambda key: mine.append(key) or DB[key])
    async with HTTPPool(me, ssl_context=client_ssl_context(pki["ca"])) as pool:
        pool.set(me, owner_url)
        group.register_peers(pool)
        keys = [k for k in DB if pool.owner(k) == owner_url]
        assert keys
        for key in keys:
            assert await group.get(key) == DB[key]
    assert sorted(owner_loads) == sorted(keys) and mine == []
    assert group.stats["peer_loads"] == len(keys) and group.stats["peer_errors"] == 0


async def test_a_peer_that_cannot_be_verified_is_a_peer_error(
    nursery: trio.Nursery, pki: dict[str, Path], owner: tuple[str, list]
) -> None:
    owner_url, owner_loads = owner
    _, me = await tls_node(nursery, pki)
    group = Group("tls-scores", 1 << 20, lambda key: DB[key])
    async with HTTPPool(me) as pool:  # the system's CAs: the test CA is not among them
        pool.set(me, owner_url)
        group.register_peers(pool)
        key = next(k for k in DB if pool.owner(k) == owner_url)
        assert await group.get(key) == DB[key]  # loaded here instead
    assert group.stats["peer_errors"] == 1 and owner_loads == []


async def test_peers_without_the_clusters_secret_are_refused(nursery: trio.Nursery) -> None:
    from geetrio.http import HTTPClient

    app = Engine()
    port = await nursery.start(partial(app.serve, "127.0.0.1", 0))
    url = f"http://127.0.0.1:{port}"
    group = Group("guarded", 1 << 20, lambda key: DB[key], hot_probability=0.0)
    async with (
        HTTPPool(url, secret="s3cret", groups=lambda n: group if n == "guarded" else None) as pool,
        HTTPClient() as client,
    ):
        pool.mount(app)
        assert await group.get("key-1") == DB["key-1"]  # now cached here
        target = f"{url}/_geecache/guarded/key-1"
        assert (await client.get(target)).status == 401
        wrong = [("Authorization", "Bearer guess")]
        assert (await client.request("DELETE", target, headers=wrong)).status == 403
        assert pool.refused == 2
        assert group.stats["loads"] == 1  # nothing was removed or reloaded
        right = [("Authorization", "Bearer s3cret")]
        assert (await client.get(target, headers=right)).status == 200
        async with HTTPPool("http://127.0.0.1:1", secret="s3cret") as other:
            other.set("http://127.0.0.1:1", url)
            # Any key the ring gives to ``url`` (where the ring puts it depends on the
            # port: search until one lands there) names that peer.
            keys = (f"probe-{i}" for i in itertools.count())
            peer = other.pick_peer(next(k for k in keys if other.owner(k) == url))
            assert peer is not None
            assert await peer.get("guarded", "key-2") == DB["key-2"]  # a peer with it
