"""etcd v3 through its JSON gateway, on geetrio's own HTTP client — no other library.

etcd's Python clients are gRPC ones on threads or asyncio (python-etcd3, unmaintained
since 2020; aetcd, asyncio only); the v3 gateway (``/v3/kv/put``, ``/v3/kv/range``,
``/v3/kv/deleterange``, ``/v3/lease/grant``, ``/v3/lease/keepalive``,
``/v3/lease/revoke``, ``/v3/watch``; keys and values base64, 64-bit numbers as
strings) is plain HTTP/1.1 and JSON, which trio and ``HTTPClient`` speak already. The
streaming calls (watch, keepalive) read their endless bodies with
``HTTPClient.stream``.

The two tasks built on it (``keep_registered``, ``watch_prefix``) are in ``_etcd_tasks``.

An etcd that is not on a trusted network: ``https://`` with ``ssl_context`` (its CA,
and a client certificate when etcd runs with ``--client-cert-auth``), and its own
users (``user``/``password``: ``/v3/auth/authenticate`` gives a token sent in the
``Authorization`` header of every call; a token etcd no longer knows — expired, or
etcd restarted — is replaced once per call). ``EtcdEndpoint`` holds all of it for the
functions that open clients of their own (``rpc.etcd_register``, ``rpc.EtcdDiscovery``,
``cache.join_cluster``).
"""

from __future__ import annotations

import base64
import json
import logging
import ssl
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import aclosing, contextmanager
from dataclasses import dataclass, field
from typing import Any

import trio

from .._core.netjson import JSONError, loads
from .._core.urls import parse_http_url
from ..http import ClientError, HTTPClient
from ._errors import EtcdError, EtcdTimeout

__all__ = ["EtcdClient", "EtcdEndpoint", "EtcdError", "etcd_client", "prefix_end"]

log = logging.getLogger("geetrio.etcd")

REQUEST_TIMEOUT = 5.0  # seconds for one unary call


@contextmanager
def _reading(what: str) -> Iterator[None]:
    """An answer of an unexpected shape is an ``EtcdError`` too, never a crash."""
    try:
        yield
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise EtcdError(f"etcd {what}: unexpected answer ({exc!r})") from None


@contextmanager
def _exchange(url: str) -> Iterator[None]:
    """One gateway exchange within ``REQUEST_TIMEOUT``: a failure is an ``EtcdError``,
    no answer in time an ``EtcdTimeout``."""
    try:
        with trio.fail_after(REQUEST_TIMEOUT):
            yield
    except ClientError as exc:
        raise EtcdError(f"etcd {url}: {exc}") from exc
    except trio.TooSlowError:
        raise EtcdTimeout(f"etcd {url}: no answer within {REQUEST_TIMEOUT:g} s") from None


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _unb64(text: str) -> str:
    return base64.b64decode(text).decode(errors="replace")


def prefix_end(prefix: str) -> str:
    """The ``range_end`` covering every key that starts with ``prefix``."""
    raw = bytearray(prefix.encode())
    while raw and raw[-1] == 0xFF:
        raw.pop()
    if not raw:
        return "\0"
    raw[-1] += 1
    return raw.decode(errors="surrogateescape")


class EtcdClient:
    """``async with EtcdClient("http://127.0.0.1:2379") as etcd:``.

    Every call is one HTTP exchange with the gateway, within 5 s (``EtcdError`` after);
    cancelled, the exchange's connection is closed and the call may or may not have
    taken effect in etcd (a put, a grant, a revoke). ``https://`` URLs verify etcd with
    ``ssl_context`` (default: the system's CAs); ``user`` and ``password`` log in to an
    etcd with authentication enabled."""

    def __init__(
        self,
        url: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        parse_http_url(url, "an etcd URL", https=True)  # a bad one fails here
        if (user is None) != (password is None):
            raise ValueError("etcd: give both user and password, or neither")
        self.url = url.rstrip("/")
        self._http = HTTPClient(max_idle_per_host=4, ssl_context=ssl_context)
        self._credentials = None if user is None else (user, password or "")
        self._token: str | None = None

    async def __aenter__(self) -> EtcdClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.aclose()

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One unary gateway call; ``EtcdError`` when it fails. Cancelled: may or may
        not have taken effect."""
        payload = json.dumps(body).encode()
        for attempt in range(2):
            headers = await self._auth_headers()
            with _exchange(self.url + path):
                response = await self._http.post(self.url + path, payload, headers=headers)
            if response.status == 401 and self._credentials and attempt == 0:
                self._token = None  # expired, or etcd restarted: log in again, once
                continue
            break
        try:
            answer = loads(response.body)
        except JSONError as exc:
            raise EtcdError(f"etcd {path}: not JSON: {exc}") from None
        if response.status != 200 or not isinstance(answer, dict):
            raise EtcdError(f"etcd {path} answered {response.status}: {response.body[:200]!r}")
        return answer

    async def _auth_headers(self) -> list[tuple[str, str]] | None:
        """The token header (logging in first when there is no token); None without
        credentials."""
        if self._credentials is None:
            return None
        if self._token is None:
            user, password = self._credentials
            body = json.dumps({"name": user, "password": password}).encode()
            url = self.url + "/v3/auth/authenticate"
            with _exchange(url):
                response = await self._http.post(url, body)
            if response.status != 200:
                raise EtcdError(
                    f"etcd: logging in as {user!r} failed ({response.status}): "
                    f"{response.body[:200]!r}"
                )
            with _reading("authenticate"):
                token = loads(response.body)["token"]
                if not (isinstance(token, str) and token.isascii() and token.isprintable()):
                    raise ValueError("a token no header can carry")
            self._token = token
        return [("Authorization", self._token)]

    async def put(self, key: str, value: str, *, lease: int = 0) -> int:
        """``key = value`` (under ``lease``); the new revision. Cancelled: may or may
        not have taken effect."""
        body: dict[str, Any] = {"key": _b64(key), "value": _b64(value)}
        if lease:
            body["lease"] = str(lease)
        answer = await self.call("/v3/kv/put", body)
        with _reading("put"):
            return int(answer["header"]["revision"])

    async def get_prefix(self, prefix: str) -> tuple[dict[str, str], int]:
        """The keys under ``prefix`` with their values, and the store's revision.
        Cancelled: nothing changes."""
        answer = await self.call(
            "/v3/kv/range", {"key": _b64(prefix), "range_end": _b64(prefix_end(prefix))}
        )
        with _reading("range"):
            kvs = {_unb64(kv["key"]): _unb64(kv.get("value", "")) for kv in answer.get("kvs", [])}
            return kvs, int(answer["header"]["revision"])

    async def delete(self, key: str) -> int:
        """Delete ``key``; how many keys went. Cancelled: may or may not have taken
        effect."""
        answer = await self.call("/v3/kv/deleterange", {"key": _b64(key)})
        with _reading("deleterange"):
            return int(answer.get("deleted", 0))

    async def grant(self, ttl: int) -> int:
        """A new lease of ``ttl`` seconds; its ID. Cancelled: a lease may have been
        granted; unused, it expires after ``ttl``."""
        answer = await self.call("/v3/lease/grant", {"TTL": str(ttl)})
        with _reading("lease grant"):
            return int(answer["ID"])

    async def revoke(self, lease: int) -> None:
        """End ``lease`` and delete its keys now. Cancelled: may or may not have taken
        effect (else the lease expires after its TTL)."""
        await self.call("/v3/lease/revoke", {"ID": str(lease)})

    async def keep_alive(self, lease: int) -> int:
        """Refresh ``lease`` once; its TTL now (0: etcd no longer has it). Cancelled:
        the lease may or may not have been refreshed."""
        answer = await self._first_of_stream("/v3/lease/keepalive", {"ID": str(lease)})
        with _reading("lease keepalive"):
            return int(answer.get("TTL", 0))

    async def _first_of_stream(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = await self._auth_headers()
        with _exchange(self.url + path):
            async with (
                self._http.stream(
                    "POST", self.url + path, headers=headers, body=json.dumps(body).encode()
                ) as response,
                aclosing(_json_lines(response)) as messages,
            ):
                self._check_stream(response.status, path)
                async for message in messages:
                    with _reading(path):
                        result: dict[str, Any] = dict(message.get("result", {}))
                    return result
        raise EtcdError(f"etcd {path}: the stream ended without an answer")

    async def watch(
        self, prefix: str, start_revision: int, on_events: Callable[[list[Any]], None]
    ) -> None:
        """Follow the keys under ``prefix`` from ``start_revision``; ``on_events`` with
        each batch of ``(kind, key, value)``. Returns or raises when the stream ends.
        Cancelled: the watch's connection is closed (etcd ends the watch)."""
        request = {
            "create_request": {
                "key": _b64(prefix),
                "range_end": _b64(prefix_end(prefix)),
                "start_revision": str(start_revision),
            }
        }
        try:
            headers = await self._auth_headers()
            async with (
                self._http.stream(
                    "POST",
                    self.url + "/v3/watch",
                    headers=headers,
                    body=json.dumps(request).encode(),
                ) as response,
                aclosing(_json_lines(response)) as messages,
            ):
                self._check_stream(response.status, "/v3/watch")
                async for message in messages:
                    with _reading("watch"):
                        result = message.get("result", {})
                        if result.get("canceled"):
                            raise EtcdError(f"etcd cancelled the watch: {result}")
                        events = [
                            (
                                event.get("type", "PUT"),
                                _unb64(event["kv"]["key"]),
                                _unb64(event["kv"].get("value", "")),
                            )
                            for event in result.get("events", [])
                        ]
                    if events:
                        on_events(events)
        except ClientError as exc:
            raise EtcdError(f"etcd watch: {exc}") from exc

    def _check_stream(self, status: int, path: str) -> None:
        """A stream's answer other than 200 is an ``EtcdError``; a 401 also drops the
        token, so the caller's retry logs in again."""
        if status == 401:
            self._token = None
        if status != 200:
            raise EtcdError(f"etcd {path} answered {status}")


async def _json_lines(response: Any) -> AsyncGenerator[Any, None]:
    """The newline-separated JSON objects of a gateway stream."""
    buffered = b""
    async for chunk in response:
        buffered += chunk
        while b"\n" in buffered:
            line, buffered = buffered.split(b"\n", 1)
            if line.strip():
                try:
                    yield loads(line)
                except JSONError as exc:
                    raise EtcdError(f"etcd stream: not JSON: {exc}") from None
        if len(buffered) > 1 << 20:
            raise EtcdError("etcd stream: a message over 1 MiB")


@dataclass(frozen=True)
class EtcdEndpoint:
    """Where etcd is and how to talk to it: for the functions that open clients of
    their own (``rpc.etcd_register``, ``rpc.EtcdDiscovery``, ``cache.join_cluster``),
    which take one of these or a plain URL."""

    url: str
    ssl_context: ssl.SSLContext | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    def client(self) -> EtcdClient:
        return EtcdClient(
            self.url, ssl_context=self.ssl_context, user=self.user, password=self.password
        )


def etcd_client(etcd: str | EtcdEndpoint) -> EtcdClient:
    """A new client for a URL or an endpoint."""
    return EtcdClient(etcd) if isinstance(etcd, str) else etcd.client()
