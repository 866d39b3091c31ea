"""TLS for every server and client of geetrio: contexts, handshakes with deadlines, and
the streams they give (``TLSStream``, over the standard ``ssl`` module).

A server wraps each accepted stream in its connection task (``accept_tls``), so a slow
or stalled handshake holds up only its own task — never the accept loop — and, having
taken its slot of the connection budget at accept, counts against the cap like any
connection; a handshake that does not finish within its deadline is dropped.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import ssl
from collections.abc import Sequence
from typing import Any

import trio

from .streams import peer_address
from .text import limited
from .tlsstream import TLSStream

__all__ = [
    "HANDSHAKE_TIMEOUT",
    "Handshakes",
    "accept_tls",
    "client_context",
    "connect_tls",
    "server_context",
    "warn_if_exposed",
]

log = logging.getLogger("geetrio.tls")

HANDSHAKE_TIMEOUT = 10.0  # seconds a client has to finish the TLS handshake

Path = str | os.PathLike[str]


def server_context(
    certfile: Path,
    keyfile: Path | None = None,
    *,
    client_ca: Path | None = None,
    alpn: tuple[str, ...] = ("http/1.1",),
) -> ssl.SSLContext:
    """A server's context: its certificate chain and key; with ``client_ca``, mutual
    TLS — a client must present a certificate that CA signed. TLS 1.2 at least."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_RENEGOTIATION  # TLSStream does not do it
    context.load_cert_chain(certfile, keyfile)
    if client_ca is not None:
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context


def client_context(
    ca: Path | None = None,
    *,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    alpn: tuple[str, ...] = ("http/1.1",),
) -> ssl.SSLContext:
    """A client's context: verifies the server against ``ca`` (else the system's
    CAs) and its host name; ``certfile``/``keyfile`` for mutual TLS."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_RENEGOTIATION  # TLSStream does not do it
    if certfile is not None:
        context.load_cert_chain(certfile, keyfile)
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context


async def accept_tls(
    stream: trio.abc.Stream,
    context: ssl.SSLContext,
    within: float = HANDSHAKE_TIMEOUT,
    *,
    peer: str = "",
    scope: trio.CancelScope | None = None,
) -> TLSStream | None:
    """The server side of a handshake on ``stream``, within ``within`` seconds; None when it
    failed or timed out (logged, rate-limited: a client can trigger it at will). The
    caller closes ``stream`` either way when it is done. Cancelled: raises, nothing
    kept. ``scope``: the cancel scope to run it in (its deadline is set here), so that
    the caller can cancel it too (``Handshakes``: then None, not logged)."""
    tls = TLSStream(stream, context, server_side=True, ragged_eofs=True)
    if scope is None:
        scope = trio.CancelScope()
    scope.deadline = trio.current_time() + within
    with scope:
        try:
            await tls.do_handshake()
        except trio.BrokenResourceError as exc:
            who = peer or peer_address(stream) or "a client"
            limited.info(log, "TLS handshake with %s failed: %s", who, exc)
            return None
    if scope.cancelled_caught:
        if trio.current_time() >= scope.deadline:  # timed out (an eviction logs itself)
            who = peer or peer_address(stream) or "a client"
            limited.info(log, "TLS handshake with %s: none within %g s", who, within)
        return None
    return tls


async def connect_tls(socket: trio.abc.Stream, context: ssl.SSLContext, host: str) -> TLSStream:
    """The client side of a handshake on a new connection to ``host`` (its name is
    verified against the certificate). Failed (``trio.BrokenResourceError``, the
    ``ssl`` error as its cause) or cancelled: ``socket`` is closed."""
    stream = TLSStream(socket, context, server_hostname=host)
    try:
        await stream.do_handshake()
    except BaseException:
        await trio.aclose_forcefully(socket)
        raise
    return stream


def warn_if_exposed(
    listeners: Sequence[trio.abc.Listener[Any]], logger: logging.Logger, what: str
) -> None:
    """Log a warning for each listener bound to a non-loopback address: the caller
    serves ``what`` there without TLS, to anyone who can reach it."""
    for listener in listeners:
        if not isinstance(listener, trio.SocketListener):
            continue
        address = listener.socket.getsockname()
        if listener.socket.family not in (trio.socket.AF_INET, trio.socket.AF_INET6):
            continue
        host = address[0]
        if not ipaddress.ip_address(host.split("%")[0]).is_loopback:
            logger.warning(
                "serving %s without TLS on %s port %d: anyone who can reach it can use it",
                what,
                host,
                address[1],
            )


class Handshakes:
    """A server's TLS handshakes under way, oldest first: ``accept`` runs one
    (``accept_tls``), ``evict_oldest`` drops the oldest — what a full server does for a
    waiting client, so a flood of handshakes that never finish cannot keep it out."""

    def __init__(self) -> None:
        self._running: dict[trio.CancelScope, None] = {}

    async def accept(
        self, stream: trio.abc.Stream, context: ssl.SSLContext, within: float, *, peer: str = ""
    ) -> TLSStream | None:
        """``accept_tls``; None also when evicted. Cancelled: raises."""
        scope = trio.CancelScope()
        self._running[scope] = None
        try:
            return await accept_tls(stream, context, within, peer=peer, scope=scope)
        finally:
            del self._running[scope]

    def evict_oldest(self) -> bool:
        """Drop the oldest handshake still under way; False when there is none."""
        for scope in self._running:
            if not scope.cancel_called:
                limited.info(log, "server full: dropping the oldest unfinished TLS handshake")
                scope.cancel(reason="evicted for a new connection")
                return True
        return False
