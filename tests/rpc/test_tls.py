"""GeeRPC over TLS: ``tls@host:port`` (the protocol inside TLS), ``https@host:port``
(CONNECT on an HTTPS server), through dial, xdial and XClient; refused for a plain
client and for a client that does not trust the server's CA."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
import trio

from geetrio import rpc
from geetrio.http import ServerConfig, client_ssl_context, server_ssl_context
from geetrio.rpc._registry import check_address
from geetrio.web import Engine
from tests.rpc.test_calls import Args, Foo


def server(pki: dict[str, Path]) -> rpc.Server:
    s = rpc.Server(ssl_context=server_ssl_context(pki["server"], alpn=()))
    s.register(Foo())
    return s


@pytest.fixture
async def tls_port(nursery: trio.Nursery, pki: dict[str, Path]) -> int:
    port: int = await nursery.start(server(pki).serve, "127.0.0.1", 0)
    return port


async def test_calls_over_tls_by_dial_xdial_and_xclient(
    tls_port: int, pki: dict[str, Path]
) -> None:
    context = client_ssl_context(pki["ca"], alpn=())
    async with rpc.dial("tls", f"127.0.0.1:{tls_port}", ssl_context=context) as client:
        assert await client.call("Foo.Sum", Args(1, 2)) == 3
    addr = check_address(f"tls@127.0.0.1:{tls_port}")
    async with rpc.xdial(addr, ssl_context=context) as client:
        assert await client.call("Foo.Sum", Args(2, 3)) == 5
    discovery = rpc.MultiServersDiscovery([addr])
    async with rpc.XClient(discovery, ssl_context=context) as xc:
        assert await xc.call("Foo.Sum", Args(3, 4)) == 7


async def test_a_plain_client_is_refused_and_tls_clients_still_served(
    tls_port: int, pki: dict[str, Path]
) -> None:
    async with rpc.dial("tcp", f"127.0.0.1:{tls_port}") as plain:
        with pytest.raises(rpc.ShutdownError):  # the server hung up: not TLS
            await plain.call("Foo.Sum", Args(1, 1), timeout=5)
    context = client_ssl_context(pki["ca"], alpn=())
    async with rpc.dial("tls", f"127.0.0.1:{tls_port}", ssl_context=context) as client:
        assert await client.call("Foo.Sum", Args(1, 1)) == 2


async def test_a_client_that_does_not_trust_the_ca_cannot_connect(tls_port: int) -> None:
    with pytest.raises(rpc.RPCError, match="certificate verify failed"):
        async with rpc.dial("tls", f"127.0.0.1:{tls_port}"):  # the system's CAs
            pass


async def test_https_connect_on_an_https_web_server(
    nursery: trio.Nursery, pki: dict[str, Path]
) -> None:
    rpc_server = rpc.Server()
    rpc_server.register(Foo())
    app = Engine()
    rpc_server.mount(app)
    config = ServerConfig(ssl_context=server_ssl_context(pki["server"]))
    port = await nursery.start(partial(app.serve, "127.0.0.1", 0, config=config))
    addr = check_address(f"https@127.0.0.1:{port}")
    async with rpc.xdial(addr, ssl_context=client_ssl_context(pki["ca"])) as client:
        assert await client.call("Foo.Sum", Args(20, 22)) == 42
    with pytest.raises(rpc.RPCError):  # the plain form of the same address: no TLS
        async with rpc.xdial(f"http@127.0.0.1:{port}", option=rpc.Option(connect_timeout=5)):
            pass


async def test_a_flood_of_unfinished_handshakes_cannot_keep_a_client_out(
    nursery: trio.Nursery, pki: dict[str, Path]
) -> None:
    s = rpc.Server(
        ssl_context=server_ssl_context(pki["server"], alpn=()),
        max_connections=4,
        handshake_timeout=60,
    )
    s.register(Foo())
    port = await nursery.start(s.serve, "127.0.0.1", 0)
    flood = [await trio.open_tcp_stream("127.0.0.1", port) for _ in range(12)]
    try:
        # Without eviction this client would wait the flood's 60 s handshake deadline out.
        with trio.fail_after(10):
            context = client_ssl_context(pki["ca"], alpn=())
            async with rpc.dial("tls", f"127.0.0.1:{port}", ssl_context=context) as client:
                assert await client.call("Foo.Sum", Args(1, 2)) == 3
    finally:
        for stream in flood:
            await stream.aclose()
