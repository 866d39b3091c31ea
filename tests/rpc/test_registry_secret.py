"""A registry with a secret: registering needs it (401 without, 403 wrong; the rogue
address is never listed), and so does listing unless the listing is open; heartbeats
and discoveries given the secret work as before."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
import trio

from geetrio import rpc
from geetrio.http import HTTPClient, ServerConfig, client_ssl_context, server_ssl_context
from geetrio.web import Engine
from tests.rpc.test_xclient_registry import start_registry

ROGUE = "tcp@10.66.66.66:6666"
GOOD = "tcp@127.0.0.1:9001"


async def post(client: HTTPClient, url: str, addr: str, secret: str | None) -> int:
    headers = [("X-Geerpc-Server", addr)]
    if secret is not None:
        headers.append(("Authorization", f"Bearer {secret}"))
    return (await client.request("POST", url, headers=headers)).status


async def test_registering_needs_the_secret(nursery: trio.Nursery) -> None:
    registry = rpc.Registry(secret="k3y")
    url = await start_registry(nursery, registry)
    async with HTTPClient() as client:
        assert await post(client, url, ROGUE, None) == 401
        assert await post(client, url, ROGUE, "guess") == 403
        assert registry.alive() == []  # the rogue server never listed
        await nursery.start(partial(rpc.heartbeat, url, GOOD, 60.0, secret="k3y"))
        assert registry.alive() == [GOOD]
        assert (await client.get(url)).headers.get("x-geerpc-servers") == GOOD  # open listing


async def test_a_closed_listing_needs_the_secret_too(nursery: trio.Nursery) -> None:
    registry = rpc.Registry(secret="k3y", open_listing=False)
    registry.put(GOOD)
    url = await start_registry(nursery, registry)
    async with HTTPClient() as client:
        assert (await client.get(url)).status == 401
    assert await rpc.RegistryDiscovery(url, secret="k3y").get_all() == [GOOD]
    with pytest.raises(rpc.RPCError, match="it answered 401"):
        await rpc.RegistryDiscovery(url).get_all()


def test_a_secret_no_header_can_carry_is_refused() -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        rpc.Registry(secret="two words")


async def test_an_https_registry_with_a_secret(nursery: trio.Nursery, pki: dict[str, Path]) -> None:
    # What the stack runs exposed: the registry over TLS, heartbeats and discovery
    # verifying it against the private CA and carrying the secret.
    registry = rpc.Registry(secret="k3y", open_listing=False)
    app = Engine()
    registry.mount(app, rpc.DEFAULT_REGISTRY_PATH)
    config = ServerConfig(ssl_context=server_ssl_context(pki["server"]))
    port = await nursery.start(partial(app.serve, "127.0.0.1", 0, config=config))
    url = f"https://127.0.0.1:{port}{rpc.DEFAULT_REGISTRY_PATH}"
    trusted = client_ssl_context(pki["ca"])
    await nursery.start(partial(rpc.heartbeat, url, GOOD, 60.0, secret="k3y", ssl_context=trusted))
    assert registry.alive() == [GOOD]
    discovery = rpc.RegistryDiscovery(url, secret="k3y", ssl_context=trusted)
    assert await discovery.get_all() == [GOOD]
    with pytest.raises(rpc.RPCError, match="certificate verify failed"):  # system CAs only
        await rpc.RegistryDiscovery(url, secret="k3y").get_all()
    with pytest.raises(ValueError, match="registry URL"):
        rpc.RegistryDiscovery("ftp://127.0.0.1/registry")
