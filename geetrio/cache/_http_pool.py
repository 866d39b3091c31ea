"""``HTTPPool``: this node's view of its peers over HTTP (GeeCache days 3 and 5).

Serving: ``pool.mount(app)`` answers ``GET {base}{group}/{key}`` on a geetrio.web
Engine with a protobuf ``Response`` (400 bad path, 404 unknown group, 500 loader
error as plain text) and ``DELETE`` the same path to drop a key (an extension: GeeCache
has no removal). Both serve from this node only, never forwarding.

Fetching: ``pick_peer(key)`` consults the consistent-hash ring; the returned getter
fetches over the pool's pipelined keep-alive client (``geetrio.http._pipeline``: many
requests in flight per connection, one send and one receive per batch), each request
bounded by ``timeout``. Any failure — unreachable, garbage, a head over 64 KiB, a value
over ``max_value_bytes`` — becomes ``PeerError``. ``set(*peers)`` swaps the ring at
run time.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

import trio

from .. import tracing
from .._core.auth import bearer, refusal
from .._core.nursery import OwnsTasks
from .._core.text import limited
from .._core.urls import parse_http_url
from ..http import ClientError
from ..http._mount import RouteContext, Routes
from ..http._pipeline import PipelinedClient, open_pipelined_client
from ._consistenthash import HashFn, HashRing
from ._errors import PeerTimeout
from ._group import Group, get_group
from ._peers import PeerError, PeerGetter
from .protocol import (
    BadPeerPath,
    CorruptResponse,
    decode_response,
    encode_response,
    peer_path,
    split_peer_path,
)

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer

__all__ = ["DEFAULT_BASE_PATH", "HTTPPool"]

log = logging.getLogger("geetrio.cache")

DEFAULT_BASE_PATH = "/_geecache/"
MAX_VALUE_BYTES = 64 * 1024 * 1024


class HTTPPool(OwnsTasks):
    """Peers over HTTP. ``self_url`` is this node's own base URL (``http://host:port``,
    or ``https://`` — peers' URLs may be either; ``ssl_context`` verifies the
    ``https://`` ones, by default against the system's CAs). With ``secret``, the
    cluster's shared secret, every peer request carries it and a request to this node
    without it is refused (401 without, 403 wrong; counted in ``refused``).

    >>> async with HTTPPool("http://127.0.0.1:8001") as pool:       # doctest: +SKIP
    ...     pool.set("http://127.0.0.1:8001", "http://127.0.0.1:8002")
    ...     group.register_peers(pool)
    ...     pool.mount(app)
    """

    def __init__(
        self,
        self_url: str,
        *,
        base_path: str = DEFAULT_BASE_PATH,
        replicas: int = 50,
        timeout: float = 1.0,
        hash_fn: HashFn | None = None,
        groups: Callable[[str], Group | None] = get_group,
        max_value_bytes: int = MAX_VALUE_BYTES,
        connections_per_peer: int = 2,
        ssl_context: ssl.SSLContext | None = None,
        secret: str | None = None,
    ) -> None:
        if not base_path.startswith("/") or not base_path.endswith("/"):
            raise ValueError(f"base_path must start and end with '/': {base_path!r}")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.self_url = _check_url(self_url)
        self.base_path = base_path
        self.replicas = replicas
        self.timeout = timeout
        self._hash_fn = hash_fn
        self._groups = groups  # the registry by default; tests run several nodes in one process
        self._ring = HashRing(replicas, hash_fn)
        self._getters: dict[str, _HTTPGetter] = {}
        self.max_value_bytes = max_value_bytes
        self.connections_per_peer = connections_per_peer
        self.ssl_context = ssl_context  # for https:// peers (the system's CAs when None)
        # The cluster's shared secret: sent to peers, required of them (401/403 without)
        self.secret = secret
        self.auth_headers = [bearer(secret)] if secret is not None else None
        self.refused = 0  # peer requests refused for want of the secret
        self._client: PipelinedClient | None = None

    async def _open(self, stack: AsyncExitStack) -> None:
        # protobuf framing adds at most 11 bytes to a value
        self._client = await stack.enter_async_context(
            open_pipelined_client(
                connections_per_host=self.connections_per_peer,
                max_response_bytes=self.max_value_bytes + 16,
                ssl_context=self.ssl_context,
            )
        )

    def _closing(self) -> None:
        self._client = None

    @property
    def client(self) -> PipelinedClient:
        """The pool's client; it exists inside ``async with`` only."""
        if self._client is None:
            raise RuntimeError("use the pool as `async with HTTPPool(...) as pool:`")
        return self._client

    # ------------------------------------------------------------------ membership

    def set(self, *peers: str) -> None:
        """Replace the peer list (this node is always part of the ring)."""
        urls = list(dict.fromkeys(_check_url(p) for p in peers))
        if self.self_url not in urls:
            urls.append(self.self_url)
        ring = HashRing(self.replicas, self._hash_fn)
        ring.add(*urls)
        getters = {url: self._getters.get(url) or _HTTPGetter(self, url) for url in urls}
        self._ring, self._getters = ring, getters
        log.info("peers set: %s", ", ".join(urls))

    def pick_peer(self, key: str) -> PeerGetter | None:
        owner = self._ring.get(key)
        if not owner or owner == self.self_url:
            return None
        return self._getters[owner]

    def peers(self) -> list[PeerGetter]:
        return [g for url, g in self._getters.items() if url != self.self_url]

    async def ping_peers(self) -> None:
        """Return when every peer answers HTTP within the pool's timeout (its answer to
        a bare ``GET {base}``: Go's peers answer it too); else raise ``PeerError``
        naming each one that did not, or refused this node's secret. A readiness
        check (``app.enable_health``). Cancelled: the pings stop."""
        failed: list[str] = []

        async def ping(getter: _HTTPGetter) -> None:
            try:
                await getter.ping()
            except PeerError as exc:
                failed.append(str(exc))

        async with trio.open_nursery() as nursery:
            for url, getter in self._getters.items():
                if url != self.self_url:
                    nursery.start_soon(ping, getter)
        if failed:
            raise PeerError("; ".join(sorted(failed)))

    def ring(self) -> HashRing:
        """The ring keys are placed by now (``points()``, ``position(key)``, ``get``)."""
        return self._ring

    def owner(self, key: str) -> str:
        """The URL of the node owning ``key`` (this node's own URL included)."""
        return self._ring.get(key) or self.self_url

    # ------------------------------------------------------------------ serving

    def mount(self, app: Routes) -> None:
        """Serve the peer protocol under ``base_path`` on ``app`` (a ``geetrio.web``
        Engine or group)."""
        pattern = self.base_path + "*path"
        app.add_route("GET", pattern, self._serve_get)
        app.add_route("DELETE", pattern, self._serve_delete)

    def _parse(self, c: RouteContext) -> tuple[Group, str] | None:
        status = refusal(c.headers.get("authorization", ""), self.secret)
        if status:
            self.refused += 1
            limited.warning(log, "cache: peer request without the cluster's secret refused")
            c.string(status, "the cluster's secret is required\n")
            return None
        try:
            name, key = split_peer_path(c.request.target, self.base_path)
        except BadPeerPath as exc:
            c.string(400, "bad request: %s\n", exc)
            return None
        group = self._groups(name)
        if group is None:
            c.string(404, "no such group: %s\n", name)
            return None
        return group, key

    async def _serve_get(self, c: RouteContext) -> None:
        parsed = self._parse(c)
        if parsed is None:
            return
        group, key = parsed
        try:
            value = await group.get_for_peer(key)
        except Exception as exc:
            c.string(500, "%s\n", exc)
            return
        c.set_header("Content-Type", "application/octet-stream")
        c.data(200, encode_response(value))

    async def _serve_delete(self, c: RouteContext) -> None:
        parsed = self._parse(c)
        if parsed is None:
            return
        group, key = parsed
        group.remove_local(key)
        c.status(204)


class _HTTPGetter:
    """One peer, fetched through the pool's shared client."""

    def __init__(self, pool: HTTPPool, url: str) -> None:
        parsed = parse_http_url(url, "a peer URL", need_port=True, https=True)
        self._pool = pool
        self.url = url
        self._host = parsed.host
        self._port = parsed.port
        self._tls = parsed.tls
        self._prefix = parsed.path.rstrip("/") + pool.base_path

    def __repr__(self) -> str:
        return f"<peer {self.url}>"

    async def _call(
        self, method: str, target: str, headers: list[tuple[str, str]] | None = None
    ) -> tuple[int, bytes]:
        tracer = tracing.tracer()
        if tracer is not None and headers is None:
            return await self._traced_call(tracer, method, target)
        # A bare CancelScope: fail_after's generator-based context managers cost more
        # than the rest of this function on a cache hit.
        with trio.CancelScope(deadline=trio.current_time() + self._pool.timeout) as scope:
            try:
                response = await self._pool.client.fetch(
                    method,
                    self._host,
                    self._port,
                    target,
                    headers=headers or self._pool.auth_headers,
                    tls=self._tls,
                )
            except ClientError as exc:
                raise PeerError(f"{self.url}: {exc}") from exc
            return response.status, response.body
        assert scope.cancelled_caught
        raise PeerTimeout(f"{self.url}: no answer within {self._pool.timeout} s")

    async def _traced_call(self, tracer: Tracer, method: str, target: str) -> tuple[int, bytes]:
        """``_call`` in a client span whose ``traceparent`` the peer continues."""
        carrier: dict[str, str] = {}
        attributes = {"http.request.method": method, "server.address": self.url}
        with tracing.client_span(tracer, f"geecache {method} peer", attributes, carrier) as span:
            headers = [*(self._pool.auth_headers or ()), *carrier.items()]
            status, body = await self._call(method, target, headers)
            span.set_attribute("http.response.status_code", status)
            return status, body

    async def ping(self) -> None:
        """Return when the peer answers (``HTTPPool.ping_peers``)."""
        status, body = await self._call("GET", self._prefix)
        if status in (401, 403) or status >= 500:
            raise PeerError(f"{self.url} answered {status}: {body[:200]!r}")

    async def get(self, group: str, key: str) -> bytes:
        status, body = await self._call("GET", peer_path(self._prefix, group, key))
        if status != 200:
            raise PeerError(f"{self.url} answered {status}: {body[:200]!r}")
        try:
            return decode_response(body)
        except CorruptResponse as exc:
            raise PeerError(f"{self.url}: {exc}") from exc

    async def remove(self, group: str, key: str) -> None:
        status, body = await self._call("DELETE", peer_path(self._prefix, group, key))
        if status not in (200, 204):
            raise PeerError(f"{self.url} answered {status} to a remove: {body[:200]!r}")


def _check_url(url: str) -> str:
    """``url`` unchanged, once it is known to be ``http://host:port[/path]``. The ring
    hashes the string as given, exactly as Go's GeeCache does (no case folding, no slash
    stripping), so a mixed cluster of both places every key alike."""
    parse_http_url(url, "a peer URL", need_port=True, https=True)
    return url
