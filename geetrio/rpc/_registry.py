"""The registry (day 7): servers announce themselves by heartbeat; clients discover
the live ones over HTTP.

``GET`` answers 200 with ``X-Geerpc-Servers`` (alive servers, sorted, comma-joined;
empty when none). ``POST`` with ``X-Geerpc-Server: tcp@host:port`` registers or
refreshes one (400 without it). Other methods: 405. A server not refreshed within
``timeout`` seconds is dropped. Time is trio's clock.
"""

from __future__ import annotations

import logging
import math
import re
import ssl
from collections import OrderedDict

import trio

from .._core.auth import bearer, refusal
from .._core.text import limited
from ..discovery._errors import DiscoveryError
from ..discovery._registry import (
    DEFAULT_REGISTRY_PATH,
    DEFAULT_TIMEOUT,
    SERVER_HEADER,
    SERVERS_HEADER,
    heartbeat,
    list_servers,
    split_registry_url,
)
from ..http._mount import RouteContext, Routes
from ._errors import RPCError
from ._metrics import registry_opened
from ._xclient import MultiServersDiscovery, Selection

__all__ = [
    "DEFAULT_REGISTRY_PATH",
    "Registry",
    "RegistryDiscovery",
    "RegistryFull",
    "check_address",
    "heartbeat",
]

log = logging.getLogger("geetrio.rpc")


MAX_ADDRESS_BYTES = 255  # a DNS name's limit (253) with room for "tcp@" and a port
MAX_SERVERS = 1024
# The GET answer lists every server in one header field; its head must stay readable by
# every client of ours (64 KiB heads) and by Go's: a POST that would push the listing
# past this is refused, however many servers that is.
MAX_LISTING_BYTES = 48 * 1024
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")
_UNIX_PATH = re.compile(r"/[!-~]*")  # printable ASCII, no space


class RegistryFull(RPCError):
    """The registry holds ``max_servers`` servers (or a listing that long) already."""


def check_address(rpc_addr: str) -> str:
    """``rpc_addr`` when it is ``tcp@host:port``, ``http@host:port`` or ``unix@/path``
    (or ``tls@``/``https@host:port``, their TLS forms; host a DNS name, an IPv4 address
    or a bracketed IPv6 one; at most ``MAX_ADDRESS_BYTES``); else ``ValueError`` saying
    what is expected."""
    expected = "expected tcp@host:port, http@host:port or unix@/path"
    if len(rpc_addr) > MAX_ADDRESS_BYTES:
        raise ValueError(f"a server address is at most {MAX_ADDRESS_BYTES} bytes")
    protocol, at, address = rpc_addr.partition("@")
    if not at:
        raise ValueError(expected)
    if protocol == "unix":
        if _UNIX_PATH.fullmatch(address) and "," not in address:
            return rpc_addr
        raise ValueError(f"{expected}: a unix socket path is absolute, printable ASCII")
    if protocol not in ("tcp", "http", "tls", "https"):
        raise ValueError(expected)
    host, colon, port = address.rpartition(":")
    if not colon or not _HOST.fullmatch(host) or not port.isdigit() or len(port) > 5:
        raise ValueError(expected)
    if not 0 < int(port) < 65536:
        raise ValueError(f"{expected}: port out of range")
    return rpc_addr


class Registry:
    """``registry = rpc.Registry(timeout=300.0); registry.mount(app, path)``, and
    ``nursery.start_soon(registry.expire)`` for expiry on a timer (without it, expired
    servers are dropped at each request). ``timeout=0`` keeps servers for ever.

    Hostile input is bounded: addresses are validated (``check_address``), at most
    ``max_servers`` are held and the listing stays within ``MAX_LISTING_BYTES``; a POST
    beyond either is refused (503) — a new server then waits for an expiry.
    """

    def __init__(
        self,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        max_servers: int = MAX_SERVERS,
        secret: str | None = None,
        open_listing: bool = True,
    ) -> None:
        if timeout < 0:
            raise ValueError("timeout must not be negative (0 = servers never expire)")
        if max_servers <= 0:
            raise ValueError("max_servers must be positive")
        self.timeout = timeout
        self.max_servers = max_servers
        if secret is not None:
            bearer(secret)  # refuses a secret no header can carry, now
        # With a secret, registering needs it (``Authorization: Bearer``; 401/403), and
        # so does listing unless ``open_listing``.
        self.secret = secret
        self.open_listing = open_listing
        # rpc address -> last heartbeat (trio time), oldest heartbeat first
        self._servers: OrderedDict[str, float] = OrderedDict()
        self._listing_bytes = 0  # len(",".join(self._servers)) + 1
        self._changed = trio.Event()  # wakes ``expire`` when the oldest entry may change
        registry_opened(self)  # geetrio_rpc_registry_servers

    def __len__(self) -> int:
        return len(self._servers)

    def put(self, rpc_addr: str) -> None:
        """Register or refresh ``rpc_addr``. ``ValueError`` for a malformed address,
        ``RegistryFull`` when a new one does not fit."""
        check_address(rpc_addr)
        now = trio.current_time()
        self._drop_expired(now)
        servers = self._servers
        if rpc_addr in servers:
            servers.move_to_end(rpc_addr)
        else:
            if len(servers) >= self.max_servers:
                raise RegistryFull(f"the registry holds {len(servers)} servers, its maximum")
            if self._listing_bytes + len(rpc_addr) + 1 > MAX_LISTING_BYTES:
                raise RegistryFull("the registry's listing is full")
            self._listing_bytes += len(rpc_addr) + 1
        servers[rpc_addr] = now
        if len(servers) == 1:
            self._changed.set()

    def alive(self) -> list[str]:
        """The servers refreshed within ``timeout``, sorted; expired ones are dropped."""
        self._drop_expired(trio.current_time())
        return sorted(self._servers)

    def _drop_expired(self, now: float) -> None:
        if not self.timeout:
            return
        servers, deadline = self._servers, now - self.timeout
        while servers:
            addr, seen = next(iter(servers.items()))
            if seen > deadline:  # a server expires ``timeout`` after its heartbeat
                break
            del servers[addr]
            self._listing_bytes -= len(addr) + 1
            log.info("rpc registry: %s expired (no heartbeat for %g s)", addr, self.timeout)

    async def expire(self) -> None:
        """Drop each server when its timeout passes, until cancelled (a task)."""
        while True:
            if not self.timeout:
                await trio.sleep_forever()
            self._drop_expired(trio.current_time())
            if self._servers:
                oldest = next(iter(self._servers.values()))
                await trio.sleep_until(oldest + self.timeout)
            else:
                self._changed = trio.Event()
                await self._changed.wait()

    def mount(self, app: Routes, path: str = DEFAULT_REGISTRY_PATH) -> None:
        """Serve the registry at ``path`` on a ``geetrio.web`` Engine."""

        async def serve(c: RouteContext) -> None:
            if c.method in ("POST", "GET") and not (c.method == "GET" and self.open_listing):
                status = refusal(c.headers.get("authorization", ""), self.secret)
                if status:
                    limited.warning(log, "rpc registry: a %s without the secret refused", c.method)
                    c.string(status, "the registry's secret is required\n")
                    return
            if c.method == "GET":
                c.set_header(SERVERS_HEADER, ",".join(self.alive()))
                c.status(200)
            elif c.method == "POST":
                addr = c.headers.get(SERVER_HEADER, "").strip()
                try:
                    self.put(addr)
                except ValueError as exc:
                    c.string(400, "400 Bad Request: %s: %s\n", SERVER_HEADER, exc)
                    return
                except RegistryFull as exc:
                    c.set_header("Retry-After", str(max(1, math.ceil(self.timeout))))
                    c.string(503, "503 Service Unavailable: %s\n", exc)
                    return
                c.status(200)
            else:
                c.set_header("Allow", "GET, POST")
                c.string(405, "405 Method Not Allowed\n")

        for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            app.add_route(method, path, serve)


class RegistryDiscovery(MultiServersDiscovery):
    """Servers from a registry, refreshed when the list is older than
    ``refresh_interval`` seconds. A failed refresh keeps the last list (logged); with
    no list yet, ``RPCError`` naming the registry URL. An empty answer never replaces a
    list (a restarted registry is empty until the servers' next heartbeats)."""

    def __init__(
        self,
        registry: str,
        refresh_interval: float = 10.0,
        *,
        secret: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__([])
        self.registry = registry
        self.refresh_interval = refresh_interval
        self.secret = secret  # for a registry whose listing is not open
        self.ssl_context = ssl_context  # for an https:// registry (default: system CAs)
        split_registry_url(registry)  # a bad URL fails here, not at the first call
        self._last_update = -math.inf
        self._reached = False

    def update(self, servers: list[str]) -> None:
        super().update(servers)
        self._last_update = trio.current_time()

    async def refresh(self) -> None:
        """Fetch the list when it is older than ``refresh_interval``. Cancelled: the
        last list stays."""
        if trio.current_time() - self._last_update < self.refresh_interval:
            await trio.lowlevel.checkpoint()
            return
        try:
            servers = await list_servers(
                self.registry, secret=self.secret, ssl_context=self.ssl_context
            )
        except DiscoveryError as exc:
            if not self._reached:
                raise RPCError(f"rpc registry {self.registry} unreachable: {exc}") from exc
            log.warning(
                "rpc registry %s: refresh failed (%s); keeping the last list", self.registry, exc
            )
            return
        self._reached = True
        if not servers and self._servers:
            # A registry that just restarted knows nobody until the next heartbeats
            # (up to an interval away); trusting it would leave every client without
            # servers meanwhile. Servers that are really gone fail to dial instead.
            log.warning(
                "rpc registry %s lists no servers (restarted?); keeping the last %d",
                self.registry,
                len(self._servers),
            )
            self._last_update = trio.current_time()
            return
        self.update(servers)

    async def get(self, mode: Selection) -> str:
        """One server, after a refresh when due. Cancelled: as ``refresh``."""
        await self.refresh()
        return self.pick(self._servers, mode)

    async def get_all(self) -> list[str]:
        """Every server, after a refresh when due. Cancelled: as ``refresh``."""
        await self.refresh()
        return list(self._servers)
