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
from typing import Any
from urllib.parse import urlsplit

import trio

from ..http import ClientError, HTTPClient
from .errors import RPCError
from .xclient import MultiServersDiscovery, SelectMode

__all__ = ["DEFAULT_REGISTRY_PATH", "Registry", "RegistryDiscovery", "heartbeat"]

log = logging.getLogger("geetrio.rpc")

DEFAULT_REGISTRY_PATH = "/_geerpc_/registry"
DEFAULT_TIMEOUT = 300.0
HTTP_TIMEOUT = 5.0  # seconds one registry request may take
SERVERS_HEADER = "X-Geerpc-Servers"
SERVER_HEADER = "X-Geerpc-Server"


class Registry:
    """``registry = rpc.Registry(timeout=300.0); registry.mount(app, path)``.
    ``timeout=0`` keeps servers for ever."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        if timeout < 0:
            raise ValueError("timeout must not be negative (0 = servers never expire)")
        self.timeout = timeout
        self._servers: dict[str, float] = {}  # rpc address -> last heartbeat (trio time)

    def put(self, rpc_addr: str) -> None:
        self._servers[rpc_addr] = trio.current_time()

    def alive(self) -> list[str]:
        """The servers refreshed within ``timeout``, sorted; expired ones are dropped."""
        if self.timeout:
            deadline = trio.current_time() - self.timeout
            for addr in [a for a, seen in self._servers.items() if seen < deadline]:
                del self._servers[addr]
        return sorted(self._servers)

    def mount(self, app: Any, path: str = DEFAULT_REGISTRY_PATH) -> None:
        """Serve the registry at ``path`` on a ``geetrio.web`` Engine."""
        from ..web import Context

        async def serve(c: Context) -> None:
            if c.method == "GET":
                c.set_header(SERVERS_HEADER, ",".join(self.alive()))
                c.status(200)
            elif c.method == "POST":
                addr = c.headers.get(SERVER_HEADER, "").strip()
                if not addr or "@" not in addr or any(ch in addr for ch in ", "):
                    c.string(400, "400 Bad Request: %s must be protocol@addr\n", SERVER_HEADER)
                    return
                self.put(addr)
                c.status(200)
            else:
                c.set_header("Allow", "GET, POST")
                c.string(405, "405 Method Not Allowed\n")

        for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            app.add_route(method, path, serve)


def _split(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"a registry URL looks like http://host:port/path, not {url!r}")
    return parts.hostname, parts.port or 80, parts.path or "/"


async def heartbeat(
    registry: str,
    rpc_addr: str,
    interval: float | None = None,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Announce ``rpc_addr`` to ``registry`` now and then every ``interval`` seconds
    (default: the registry's default timeout less 60 s) until cancelled. Reports
    started after the first attempt. A failed post is logged and retried with backoff
    (from 1 s, doubling, at most ``interval``); it never stops on an error."""
    if interval is None:
        interval = DEFAULT_TIMEOUT - 60.0
    if interval <= 0:
        raise ValueError("interval must be positive")
    host, port, path = _split(registry)
    async with HTTPClient(max_idle_per_host=1) as client:
        backoff = 1.0
        started = False
        while True:
            try:
                with trio.fail_after(HTTP_TIMEOUT):
                    response = await client.fetch(
                        "POST", host, port, path, headers=[(SERVER_HEADER, rpc_addr)]
                    )
                if response.status != 200:
                    raise ClientError(f"the registry answered {response.status}")
            except (ClientError, trio.TooSlowError) as exc:
                log.warning(
                    "rpc heartbeat to %s failed (%s); retrying in %.0f s", registry, exc, backoff
                )
                wait, backoff = min(backoff, interval), min(backoff * 2, interval)
            else:
                wait, backoff = interval, 1.0
            if not started:
                started = True
                task_status.started()
            await trio.sleep(wait)


class RegistryDiscovery(MultiServersDiscovery):
    """Servers from a registry, refreshed when the list is older than
    ``refresh_interval`` seconds. A failed refresh keeps the last list (logged); with
    no list yet, ``RPCError`` naming the registry URL. An empty answer never replaces a
    list (a restarted registry is empty until the servers' next heartbeats)."""

    def __init__(self, registry: str, refresh_interval: float = 10.0) -> None:
        super().__init__([])
        self.registry = registry
        self.refresh_interval = refresh_interval
        self._address = _split(registry)
        self._last_update = -math.inf
        self._reached = False

    def update(self, servers: list[str]) -> None:
        super().update(servers)
        self._last_update = trio.current_time()

    async def refresh(self) -> None:
        if trio.current_time() - self._last_update < self.refresh_interval:
            await trio.lowlevel.checkpoint()
            return
        host, port, path = self._address
        try:
            async with HTTPClient(max_idle_per_host=0) as client:
                with trio.fail_after(HTTP_TIMEOUT):
                    response = await client.fetch("GET", host, port, path)
            if response.status != 200:
                raise ClientError(f"it answered {response.status}")
        except (ClientError, trio.TooSlowError) as exc:
            if not self._reached:
                raise RPCError(f"rpc registry {self.registry} unreachable: {exc}") from exc
            log.warning(
                "rpc registry %s: refresh failed (%s); keeping the last list", self.registry, exc
            )
            return
        self._reached = True
        value = response.headers.get(SERVERS_HEADER, "")
        servers = [s.strip() for s in value.split(",") if s.strip()]
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

    async def get(self, mode: SelectMode) -> str:
        await self.refresh()
        return self.pick(self._servers, mode)

    async def get_all(self) -> list[str]:
        await self.refresh()
        return list(self._servers)
