"""etcd off a trusted network: over mutual TLS (its CA, our client certificate), and
with its own users (a password, then a token in every call, renewed when etcd no
longer knows it) — for the client and for the helpers that open clients themselves."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio

from geetrio import etcd, rpc
from geetrio.http import client_ssl_context


async def test_etcd_over_mutual_tls(tls_etcd: Any, pki: dict[str, Path]) -> None:
    assert tls_etcd.url.startswith("https://")
    ours = client_ssl_context(pki["ca"], certfile=pki["client"])
    async with etcd.EtcdClient(tls_etcd.url, ssl_context=ours) as client:
        await client.put("/secure/a", "1")
        assert (await client.get_prefix("/secure/"))[0] == {"/secure/a": "1"}
    refused = {
        "no client certificate": client_ssl_context(pki["ca"]),
        "another CA's certificate": client_ssl_context(pki["ca"], certfile=pki["stranger"]),
        "the system's CAs": client_ssl_context(certfile=pki["client"]),
    }
    for context in refused.values():
        async with etcd.EtcdClient(tls_etcd.url, ssl_context=context) as client:
            with pytest.raises(etcd.EtcdError):
                await client.get_prefix("/secure/")


async def enable_auth(url: str) -> None:
    async with etcd.EtcdClient(url) as admin:
        await admin.call("/v3/auth/user/add", {"name": "root", "password": "root-pw"})
        await admin.call("/v3/auth/user/grant", {"user": "root", "role": "root"})
        await admin.call("/v3/auth/enable", {})


async def test_etcd_users_and_their_token(etcd_server: Any) -> None:
    await enable_auth(etcd_server.url)
    async with etcd.EtcdClient(etcd_server.url) as anonymous:
        with pytest.raises(etcd.EtcdError):
            await anonymous.put("/k", "v")
    async with etcd.EtcdClient(etcd_server.url, user="root", password="wrong") as client:
        with pytest.raises(etcd.EtcdError, match="logging in as 'root' failed"):
            await client.put("/k", "v")
    async with etcd.EtcdClient(etcd_server.url, user="root", password="root-pw") as client:
        await client.put("/k", "v")
        client._token = "not-a-token-etcd-knows"  # as after etcd's token TTL or a restart
        assert (await client.get_prefix("/k"))[0] == {"/k": "v"}
        assert client._token != "not-a-token-etcd-knows"  # logged in again, once
        lease = await client.grant(5)
        assert await client.keep_alive(lease) > 0  # a stream call carries the token too
    with pytest.raises(ValueError, match="both user and password"):
        etcd.EtcdClient(etcd_server.url, user="root")
    for bad in ("ftp://127.0.0.1:2379", "127.0.0.1:2379", "https://"):
        with pytest.raises(ValueError, match="an etcd URL"):
            etcd.EtcdClient(bad)


async def test_registration_and_discovery_through_an_endpoint(etcd_server: Any) -> None:
    await enable_auth(etcd_server.url)
    endpoint = etcd.EtcdEndpoint(etcd_server.url, user="root", password="root-pw")
    assert "root-pw" not in repr(endpoint)
    async with trio.open_nursery() as nursery:
        await nursery.start(partial(rpc.etcd_register, endpoint, "tls@127.0.0.1:9001"))
        async with rpc.EtcdDiscovery(endpoint) as discovery:
            assert await discovery.get_all() == ["tls@127.0.0.1:9001"]
        nursery.cancel_scope.cancel()
