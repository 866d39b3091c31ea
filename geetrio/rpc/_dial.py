"""Dialling a GeeRPC server: ``dial`` (tcp, tls, unix), ``dial_http`` (CONNECT on an
HTTP or HTTPS server) and ``xdial`` (``protocol@address``); each makes the connection,
sends the Option, and hands over a ``Client`` that owns it."""

from __future__ import annotations

import math
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from .._core.tls import client_context, connect_tls
from ..http import PrefixedStream
from ._client import Client, client_on, codec_of
from ._errors import RPCError, RPCTimeout
from ._http import CONNECTED_STATUS, RPC_PATH
from .protocol import Option

__all__ = ["dial", "dial_http", "split_connect_answer", "xdial"]

RECEIVE_SIZE = 65536
MAX_CONNECT_RESPONSE = 4096


async def _open(network: str, address: str, ssl_context: ssl.SSLContext | None) -> trio.abc.Stream:
    if network in ("tcp", "tls"):
        host, sep, port = address.rpartition(":")
        if not sep or not port.isdigit():
            raise RPCError(f"rpc client: a {network} address is host:port, not {address!r}")
        host = host.strip("[]") or "127.0.0.1"
        socket = await trio.open_tcp_stream(host, int(port))
        if network == "tcp":
            return socket
        context = ssl_context or client_context(alpn=())
        try:
            return await connect_tls(socket, context, host)
        except trio.BrokenResourceError as exc:  # the certificate, the protocol
            raise OSError(f"TLS failed: {exc.__cause__ or exc}") from exc
    if network == "unix":
        return await trio.open_unix_socket(address)
    raise RPCError(f"rpc client: unknown network {network!r} (tcp, tls or unix)")


async def _handshake(
    network: str,
    address: str,
    option: Option,
    *,
    http_path: str | None,
    ssl_context: ssl.SSLContext | None = None,
) -> trio.abc.Stream:
    """Dial, CONNECT if over HTTP, send the Option; all within ``connect_timeout``."""
    limit = option.connect_timeout or math.inf
    stream: trio.abc.Stream | None = None
    with trio.move_on_after(limit) as scope:
        try:
            stream = await _open(network, address, ssl_context)
            if http_path is not None:
                stream = await _connect_http(stream, http_path)
            await stream.send_all(option.encode())
        except OSError as exc:
            if stream is not None:
                await trio.aclose_forcefully(stream)
            raise RPCError(f"rpc client: cannot connect to {network}@{address}: {exc}") from exc
        except BaseException:
            if stream is not None:
                await trio.aclose_forcefully(stream)
            raise
        return stream
    if stream is not None:
        await trio.aclose_forcefully(stream)
    assert scope.cancelled_caught
    raise RPCTimeout(f"rpc client: connect timeout: expect within {option.connect_timeout:g}s")


async def _connect_http(stream: trio.abc.Stream, path: str) -> trio.abc.Stream:
    await stream.send_all(f"CONNECT {path} HTTP/1.0\r\n\r\n".encode())
    received = b""
    while (answer := split_connect_answer(received)) is None:
        data = await stream.receive_some(RECEIVE_SIZE)
        if not data:
            raise OSError("the server closed the connection after CONNECT")
        received += data
        if len(received) > MAX_CONNECT_RESPONSE:
            raise OSError("the answer to CONNECT is too long")
    status, rest = answer
    if status != CONNECTED_STATUS:
        await trio.aclose_forcefully(stream)
        raise RPCError(f"rpc client: unexpected HTTP response: {status.decode('latin-1')!r}")
    return PrefixedStream(stream, rest) if rest else stream


def split_connect_answer(received: bytes) -> tuple[bytes, bytes] | None:
    """(status line, the bytes after the head) once the head of the answer to CONNECT
    is whole, else None. Lines end in CRLF or a bare LF: the Go GeeRPC server answers
    ``HTTP/1.0 200 Connected to Gee RPC\\n\\n``, as Go's HTTP reader allows."""
    start = 0
    while (end := received.find(b"\n", start)) >= 0:
        line = received[start:end].removesuffix(b"\r")
        if not line and start:  # the empty line after the status line and fields
            return received.split(b"\n", 1)[0].removesuffix(b"\r"), received[end + 1 :]
        start = end + 1
    return None


@asynccontextmanager
async def dial(
    network: str,
    address: str,
    *,
    option: Option | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[Client]:
    """``async with rpc.dial("tcp", "host:port") as client:`` (or ``"unix", path``;
    ``"tls", "host:port"`` verifies the server with ``ssl_context``, by default against
    the system's CAs). ``connect_timeout`` bounds dialling and the handshakes
    (``RPCTimeout``). Cancelled while dialling: nothing is left open; inside the
    block: as ``open_client``."""
    option = option or Option()
    codec = codec_of(option)
    stream = await _handshake(network, address, option, http_path=None, ssl_context=ssl_context)
    async with client_on(stream, option, codec) as client:
        yield client


@asynccontextmanager
async def dial_http(
    network: str,
    address: str,
    *,
    option: Option | None = None,
    path: str = RPC_PATH,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[Client]:
    """RPC over an HTTP server: ``CONNECT /_geeprc_ HTTP/1.0``, then the protocol
    (network ``"tls"``: an HTTPS server). ``connect_timeout`` covers the CONNECT too.
    Cancelled: as ``dial``."""
    option = option or Option()
    codec = codec_of(option)
    stream = await _handshake(network, address, option, http_path=path, ssl_context=ssl_context)
    async with client_on(stream, option, codec) as client:
        yield client


@asynccontextmanager
async def xdial(
    rpc_addr: str, *, option: Option | None = None, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[Client]:
    """``"tcp@host:port"``, ``"tls@host:port"``, ``"http@host:port"``,
    ``"https@host:port"`` or ``"unix@/path"`` (``ssl_context`` for the TLS ones).
    Cancelled: as ``dial``."""
    protocol, sep, address = rpc_addr.partition("@")
    if not sep or not address:
        raise RPCError(f"rpc client: wrong format {rpc_addr!r}, expect protocol@addr")
    if protocol in ("http", "https"):
        network = "tls" if protocol == "https" else "tcp"
        async with dial_http(network, address, option=option, ssl_context=ssl_context) as client:
            yield client
    elif protocol in ("tcp", "tls", "unix"):
        async with dial(protocol, address, option=option, ssl_context=ssl_context) as client:
            yield client
    else:
        raise RPCError(f"rpc client: unknown protocol {protocol!r} in {rpc_addr!r}")
