"""The GeeRPC registry, client side: a server announces itself (``heartbeat``), a
client reads the live list (``list_servers``). The registry itself is an HTTP route,
``geetrio.rpc.Registry``; this is its wire:

``GET`` answers 200 with ``X-Geerpc-Servers`` (alive servers, sorted, comma-joined;
empty when none). ``POST`` with ``X-Geerpc-Server: tcp@host:port`` registers or
refreshes one. A server not refreshed within the registry's timeout is dropped.
"""

from __future__ import annotations

import logging
import ssl

import trio

from .._core.auth import bearer
from .._core.backoff import Backoff
from .._core.urls import parse_http_url
from ..http import ClientError, HTTPClient
from ._errors import DiscoveryError, DiscoveryTimeout

__all__ = [
    "DEFAULT_REGISTRY_PATH",
    "DEFAULT_TIMEOUT",
    "SERVERS_HEADER",
    "SERVER_HEADER",
    "heartbeat",
    "list_servers",
    "split_registry_url",
]

log = logging.getLogger("geetrio.rpc")

DEFAULT_REGISTRY_PATH = "/_geerpc_/registry"
DEFAULT_TIMEOUT = 300.0  # the registry's: a server not heard from for this long goes
HTTP_TIMEOUT = 5.0  # seconds one registry request may take
SERVERS_HEADER = "X-Geerpc-Servers"
SERVER_HEADER = "X-Geerpc-Server"


def split_registry_url(url: str) -> tuple[str, int, str]:
    """``(host, port, path)`` of a registry URL (``http://`` or ``https://``);
    ``ValueError`` for a bad one."""
    parsed = parse_http_url(url, "a registry URL", https=True)
    return parsed.host, parsed.port, parsed.path


def _is_https(url: str) -> bool:
    return url.startswith("https://")


async def heartbeat(
    registry: str,
    rpc_addr: str,
    interval: float | None = None,
    *,
    secret: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Announce ``rpc_addr`` to ``registry`` (with its ``secret`` when it has one; an
    ``https://`` registry verified with ``ssl_context``, else the system's CAs) now
    and then every ``interval`` seconds (default: the registry's default timeout less
    60 s) until cancelled. Reports
    started after the first attempt. A failed post is logged and retried with backoff
    (from 1 s, doubling, at most ``interval``); it never stops on an error."""
    if interval is None:
        interval = DEFAULT_TIMEOUT - 60.0
    if interval <= 0:
        raise ValueError("interval must be positive")
    host, port, path = split_registry_url(registry)
    headers = [(SERVER_HEADER, rpc_addr), *([bearer(secret)] if secret is not None else [])]
    tls = _is_https(registry)
    async with HTTPClient(max_idle_per_host=1, ssl_context=ssl_context) as client:
        backoff = Backoff(min(1.0, interval), interval)
        started = False
        while True:
            try:
                with trio.fail_after(HTTP_TIMEOUT):
                    response = await client.fetch(
                        "POST", host, port, path, headers=headers, tls=tls
                    )
                if response.status != 200:
                    raise ClientError(f"the registry answered {response.status}")
            except (ClientError, trio.TooSlowError) as exc:
                wait = backoff.next()
                log.warning(
                    "rpc heartbeat to %s failed (%s); retrying in %.0f s", registry, exc, wait
                )
            else:
                wait = interval
                backoff.reset()
            if not started:
                started = True
                task_status.started()
            await trio.sleep(wait)


async def list_servers(
    registry: str, *, secret: str | None = None, ssl_context: ssl.SSLContext | None = None
) -> list[str]:
    """The servers ``registry`` lists as alive (one ``GET``, within 5 s; ``secret``
    for a registry whose listing is not open; ``ssl_context`` for an ``https://`` one);
    ``DiscoveryError`` when it cannot be reached or answers other than 200.
    Cancelled: nothing is left behind (the connection is closed)."""
    host, port, path = split_registry_url(registry)
    auth = [bearer(secret)] if secret is not None else None
    try:
        async with HTTPClient(max_idle_per_host=0, ssl_context=ssl_context) as client:
            with trio.fail_after(HTTP_TIMEOUT):
                response = await client.fetch(
                    "GET", host, port, path, headers=auth, tls=_is_https(registry)
                )
    except ClientError as exc:
        raise DiscoveryError(str(exc)) from exc
    except trio.TooSlowError:
        raise DiscoveryTimeout(f"no answer within {HTTP_TIMEOUT:g} s") from None
    if response.status != 200:
        raise DiscoveryError(f"it answered {response.status}")
    value = response.headers.get(SERVERS_HEADER, "")
    return [s.strip() for s in value.split(",") if s.strip()]
