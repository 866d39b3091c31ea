"""HTTPS on geetrio's own server: real certificates (trustme's test CA), real handshakes
over TCP. Refused: plain HTTP, a client that does not trust the CA, a mutual-TLS client
without a certificate from the right CA. A stalled handshake is dropped at its deadline,
and a flood of handshakes that never finish cannot keep a real client out."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path

import pytest
import trio
import trio.testing

from geetrio.http import (
    ClientError,
    HTTPClient,
    ServerConfig,
    client_ssl_context,
    serve,
    serve_listeners,
    server_ssl_context,
)
from geetrio.web import Context, Engine
from tests.helpers import MemoryListener, RawClient, get


def app() -> Engine:
    engine = Engine()

    @engine.get("/")
    async def index(c: Context) -> None:
        c.string(200, "secret")

    @engine.get("/whoami")
    async def whoami(c: Context) -> None:
        certificate = c.peer_certificate
        names = certificate.get("subjectAltName", ()) if certificate else ()
        c.string(200, "%s", ",".join(value for _, value in names) or "nobody")

    return engine


async def https_server(nursery: trio.Nursery, config: ServerConfig) -> int:
    port: int = await nursery.start(partial(serve, app().handle, "127.0.0.1", 0, config=config))
    return port


async def tls_client(port: int, context: ssl.SSLContext) -> RawClient:
    return RawClient(
        await trio.open_ssl_over_tcp_stream(
            "127.0.0.1", port, ssl_context=context, https_compatible=True
        )
    )


async def refusal(port: int, context: ssl.SSLContext) -> BaseException:
    """What a request over a TLS connection the server will not have raises."""
    client = await tls_client(port, context)
    try:
        await client.request(get())
    except (trio.BrokenResourceError, EOFError) as exc:  # TLS 1.3: maybe at the first read
        return exc
    finally:
        await trio.aclose_forcefully(client.stream)
    raise AssertionError("the request was answered")


@pytest.fixture
async def port(nursery: trio.Nursery, pki: dict[str, Path]) -> AsyncIterator[int]:
    yield await https_server(nursery, ServerConfig(ssl_context=server_ssl_context(pki["server"])))


async def test_https_answers_over_tls_with_alpn(port: int, pki: dict[str, Path]) -> None:
    client = await tls_client(port, client_ssl_context(pki["ca"]))
    assert (await client.request(get("/whoami"))).body == b"nobody"  # no client certificate
    response = await client.request(get())
    assert (response.status, response.body) == (200, b"secret")
    assert isinstance(client.stream, trio.SSLStream)
    assert client.stream.selected_alpn_protocol() == "http/1.1"
    assert (await client.request(get())).status == 200  # keep-alive over TLS
    await client.aclose()


async def test_plain_http_gets_nothing_and_tls_clients_are_still_served(
    port: int, pki: dict[str, Path]
) -> None:
    plain = await RawClient.connect(port)
    await plain.send(get())
    assert b"secret" not in await plain.read_until_eof()  # the handshake failed: closed
    client = await tls_client(port, client_ssl_context(pki["ca"]))
    assert (await client.request(get())).status == 200
    await client.aclose()


async def test_a_client_that_does_not_trust_the_ca_fails_clearly(port: int) -> None:
    error = await refusal(port, client_ssl_context())  # the system's CAs only
    assert isinstance(error, trio.BrokenResourceError)
    assert isinstance(error.__cause__, ssl.SSLCertVerificationError)
    assert "certificate verify failed" in str(error.__cause__)


@pytest.fixture
def mutual(pki: dict[str, Path]) -> Iterator[ServerConfig]:
    yield ServerConfig(ssl_context=server_ssl_context(pki["server"], client_ca=pki["ca"]))


async def test_mutual_tls_takes_a_certificate_from_its_ca_only(
    nursery: trio.Nursery, pki: dict[str, Path], mutual: ServerConfig
) -> None:
    port = await https_server(nursery, mutual)
    good = await tls_client(port, client_ssl_context(pki["ca"], certfile=pki["client"]))
    assert (await good.request(get())).status == 200
    assert (await good.request(get("/whoami"))).body == b"client@example.com"  # to handlers
    await good.aclose()
    for certfile in (None, pki["stranger"]):
        await refusal(port, client_ssl_context(pki["ca"], certfile=certfile))


async def test_a_stalled_handshake_is_dropped_at_its_deadline(
    nursery: trio.Nursery, pki: dict[str, Path], autojump_clock: trio.testing.MockClock
) -> None:
    listener = MemoryListener()
    config = ServerConfig(ssl_context=server_ssl_context(pki["server"]), handshake_timeout=3.0)
    await nursery.start(partial(serve_listeners, app().handle, [listener], config=config))
    silent = await listener.connect()
    started = trio.current_time()
    assert await silent.read_until_eof() == b""  # never said hello: closed
    assert trio.current_time() - started == pytest.approx(3.0, abs=0.5)


async def test_a_flood_of_unfinished_handshakes_cannot_keep_a_client_out(
    nursery: trio.Nursery, pki: dict[str, Path]
) -> None:
    config = ServerConfig(
        ssl_context=server_ssl_context(pki["server"]), max_connections=4, handshake_timeout=60
    )
    port = await https_server(nursery, config)
    flood = [await trio.open_tcp_stream("127.0.0.1", port) for _ in range(12)]
    try:
        # Without eviction this client would wait the flood's 60 s handshake deadline out.
        with trio.fail_after(10):
            client = await tls_client(port, client_ssl_context(pki["ca"]))
            assert (await client.request(get())).status == 200
        await client.aclose()
    finally:
        for stream in flood:
            await stream.aclose()


async def test_the_http_client_speaks_https_and_keeps_the_connection(
    port: int, pki: dict[str, Path]
) -> None:
    url = f"https://127.0.0.1:{port}/"
    async with HTTPClient(ssl_context=client_ssl_context(pki["ca"])) as client:
        first = await client.get(url)
        second = await client.get(url)
        assert (first.status, first.body, second.body) == (200, b"secret", b"secret")
        assert [len(idle) for idle in client._idle.values()] == [1]  # one pooled connection


async def test_the_http_client_refuses_a_server_it_cannot_verify(port: int) -> None:
    async with HTTPClient() as client:  # the system's CAs: the test CA is not among them
        with pytest.raises(ClientError, match="certificate verify failed"):
            await client.get(f"https://127.0.0.1:{port}/")


async def test_plain_servers_on_a_reachable_address_say_so(
    pki: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    from geetrio import rpc

    caplog.set_level(logging.WARNING)
    tls = ServerConfig(ssl_context=server_ssl_context(pki["server"]))
    async with trio.open_nursery() as nursery:
        await nursery.start(partial(serve, app().handle, "0.0.0.0", 0))
        await nursery.start(partial(serve, app().handle, "0.0.0.0", 0, config=tls))
        await nursery.start(partial(serve, app().handle, "127.0.0.1", 0))
        await nursery.start(rpc.Server().serve, "0.0.0.0", 0)
        nursery.cancel_scope.cancel()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert warnings[0].startswith("serving plain HTTP without TLS on 0.0.0.0 port ")
    assert warnings[1].startswith("serving GeeRPC without TLS on 0.0.0.0 port ")
