"""Who the client is behind proxies, request ids, and per-route deadlines — middleware
people reach for on day one.

``trusted_proxies(["10.0.0.0/8", "127.0.0.1"])`` (gin's ``SetTrustedProxies``): when the
peer is one of them, ``c.client_ip()`` walks ``Forwarded`` (RFC 7239), else
``X-Forwarded-For``, from the nearest hop back, skipping trusted proxies: the first
address not trusted is the client. From any other peer those headers are ignored — a
client cannot claim an address by sending them — and ``c.client_ip()`` is the peer.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Iterable

import trio

from ..logs import REQUEST_ID
from ._context import CLIENT_IP_KEY, Context
from ._types import HandlerFunc

__all__ = ["REQUEST_ID_KEY", "client_ip_from", "request_id", "timeout", "trusted_proxies"]

REQUEST_ID_KEY = "request_id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}\Z")
MAX_HOPS = 32  # forwarding entries looked at, at most
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from a forwarding entry: ``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``,
    ``"[2001:db8::1]"``; None for anything else (``unknown``, obfuscated names)."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _forwarded_for(header: str) -> list[str]:
    """The ``for=`` values of a ``Forwarded`` header, nearest proxy last."""
    found = []
    for element in header.split(","):
        for pair in element.split(";"):
            key, _, value = pair.strip().partition("=")
            if key.lower() == "for":
                found.append(value)
    return found


def client_ip_from(
    peer: str, forwarded: list[str], x_forwarded_for: list[str], trusted: list[Network]
) -> str:
    """The client's address given the ``peer`` address, the request's ``Forwarded`` and
    ``X-Forwarded-For`` header values and the trusted proxies (sans-IO)."""

    def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in trusted)

    nearest = _address(peer)
    if nearest is None or not is_trusted(nearest):
        return peer.strip("[]")
    hops = [v for value in forwarded for v in _forwarded_for(value)] or [
        v for value in x_forwarded_for for v in value.split(",")
    ]
    client = nearest
    for entry in reversed(hops[-MAX_HOPS:]):
        address = _address(entry)
        if address is None:  # the hop we trust could not say: stop at it
            break
        client = address
        if not is_trusted(address):
            break
    return str(client)


def trusted_proxies(proxies: Iterable[str]) -> HandlerFunc:
    """Middleware: ``c.client_ip()`` believes forwarding headers from ``proxies``
    (addresses or networks, ``"10.0.0.0/8"``) and nobody else."""
    trusted = [ipaddress.ip_network(p, strict=False) for p in proxies]

    async def find_client(c: Context) -> None:
        peer = c.remote_addr.rsplit(":", 1)[0] if c.remote_addr else ""
        headers = c.request.headers
        forwarded, x_forwarded_for = (
            headers.getlist("forwarded"),
            headers.getlist("x-forwarded-for"),
        )
        c.set(CLIENT_IP_KEY, client_ip_from(peer, forwarded, x_forwarded_for, trusted))
        await c.next()

    return find_client


def request_id(header: str = "X-Request-ID") -> HandlerFunc:
    """Middleware: each request gets an id — the client's ``header`` when it is a sane
    one (1-128 of ``A-Za-z0-9._:-``), else a new random one — in ``c.get("request_id")``
    and in the response's ``header``, and as ``request_id`` in the JSON log lines written
    meanwhile (``geetrio.logs.JSONFormatter``)."""

    async def tag(c: Context) -> None:
        given = c.request.headers.get(header, "")
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        c.set(REQUEST_ID_KEY, rid)
        token = REQUEST_ID.set(rid)  # in every log line of the request (``geetrio.logs``)
        try:
            await c.next()
        finally:
            REQUEST_ID.reset(token)
            c.set_header(header, rid)

    return tag


def timeout(seconds: float) -> HandlerFunc:
    """Middleware: the rest of the chain gets ``seconds`` (a cancel scope); past them,
    whatever it built is dropped and the answer is 503 ``{"message": "timed out"}``."""
    if seconds <= 0:
        raise ValueError("timeout must be positive")

    async def bounded(c: Context) -> None:
        with trio.move_on_after(seconds) as scope:
            await c.next()
        if scope.cancelled_caught:
            c.reset_response()
            c.fail(503, "timed out")

    return bounded
