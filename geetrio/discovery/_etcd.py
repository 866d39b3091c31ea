"""etcd v3 through its JSON gateway, on geetrio's own HTTP client — no other library.

etcd's Python clients are gRPC ones on threads or asyncio (python-etcd3, unmaintained
since 2020; aetcd, asyncio only); the v3 gateway (``/v3/kv/put``, ``/v3/kv/range``,
``/v3/kv/deleterange``, ``/v3/lease/grant``, ``/v3/lease/keepalive``,
``/v3/lease/revoke``, ``/v3/watch``; keys and values base64, 64-bit numbers as
strings) is plain HTTP/1.1 and JSON, which trio and ``HTTPClient`` speak already. The
streaming calls (watch, keepalive) read their endless bodies with
``HTTPClient.stream``.

Two tasks for the nurseries of their users, both surviving an etcd restart:

- ``keep_registered(client, key, value, ttl)``: the key under a lease of ``ttl``
  seconds, kept alive every ``ttl/3``; a lease etcd forgot is granted again and the key
  put again; leaving revokes the lease, so the key goes at once (a crash leaves it
  ``ttl`` seconds at most).
- ``watch_prefix(client, prefix, on_change)``: the keys under ``prefix``, listed, then
  followed through a watch; ``on_change(members)`` after every change, and after every
  re-list when the watch breaks.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import aclosing, contextmanager
from functools import partial
from typing import Any

import trio

from .._core.backoff import Backoff
from .._core.netjson import JSONError, loads
from ..http import ClientError, HTTPClient
from ._errors import EtcdError, EtcdTimeout

__all__ = ["EtcdClient", "EtcdError", "keep_registered", "watch_prefix"]

log = logging.getLogger("geetrio.etcd")

REQUEST_TIMEOUT = 5.0  # seconds for one unary call
MAX_BACKOFF = 2.0  # seconds between attempts while etcd is away


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
    taken effect in etcd (a put, a grant, a revoke)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._http = HTTPClient(max_idle_per_host=4)

    async def __aenter__(self) -> EtcdClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.aclose()

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One unary gateway call; ``EtcdError`` when it fails. Cancelled: may or may
        not have taken effect."""
        with _exchange(self.url + path):
            response = await self._http.post(self.url + path, json.dumps(body).encode())
        try:
            answer = loads(response.body)
        except JSONError as exc:
            raise EtcdError(f"etcd {path}: not JSON: {exc}") from None
        if response.status != 200 or not isinstance(answer, dict):
            raise EtcdError(f"etcd {path} answered {response.status}: {response.body[:200]!r}")
        return answer

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
        with _exchange(self.url + path):
            async with (
                self._http.stream(
                    "POST", self.url + path, body=json.dumps(body).encode()
                ) as response,
                aclosing(_json_lines(response)) as messages,
            ):
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
            async with (
                self._http.stream(
                    "POST", self.url + "/v3/watch", body=json.dumps(request).encode()
                ) as response,
                aclosing(_json_lines(response)) as messages,
            ):
                if response.status != 200:
                    raise EtcdError(f"etcd watch answered {response.status}")
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


async def keep_registered(
    client: EtcdClient,
    key: str,
    value: str,
    ttl: int = 10,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Keep ``key = value`` in etcd under a lease of ``ttl`` seconds until cancelled
    (then the lease is revoked and the key goes at once). Reports started once the key
    is in; while etcd is away it retries (logged) and puts the key back when it returns."""
    if ttl < 2:
        raise ValueError("ttl must be at least 2 seconds")
    lease = 0
    backoff = Backoff(0.1, MAX_BACKOFF)
    started = False
    try:
        while True:
            try:
                if not lease:
                    lease = await client.grant(ttl)
                    await client.put(key, value, lease=lease)
                    log.info("etcd: %s registered (lease %x, ttl %d s)", key, lease, ttl)
                elif await client.keep_alive(lease) == 0:
                    log.warning("etcd: lease of %s expired; registering again", key)
                    lease = 0
                    continue
                backoff.reset()
                if not started:
                    started = True
                    task_status.started()
                await trio.sleep(ttl / 3)
            except EtcdError as exc:
                delay = backoff.next()
                log.warning("etcd: keeping %s failed (%s); retrying in %.1f s", key, exc, delay)
                await trio.sleep(delay)
    finally:
        if lease:
            with trio.move_on_after(REQUEST_TIMEOUT, shield=True):
                try:
                    await client.revoke(lease)
                    log.info("etcd: %s deregistered", key)
                except EtcdError as exc:
                    log.warning("etcd: revoking %s failed (%s): it expires in %d s", key, exc, ttl)


def _apply(
    members: dict[str, str], on_change: Callable[[dict[str, str]], None], events: list[Any]
) -> None:
    for kind, key, value in events:
        if kind == "DELETE":
            members.pop(key, None)
        else:
            members[key] = value
    on_change(dict(members))


async def watch_prefix(
    client: EtcdClient,
    prefix: str,
    on_change: Callable[[dict[str, str]], None],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Call ``on_change(members)`` (key -> value, every key under ``prefix``) now and
    after every change, until cancelled. Reports started after the first list. A
    broken watch is re-listed and re-watched, retrying while etcd is away."""
    started = False
    backoff = Backoff(0.1, MAX_BACKOFF)
    while True:
        try:
            members, revision = await client.get_prefix(prefix)
            on_change(dict(members))
            if not started:
                started = True
                task_status.started()
            backoff.reset()

            await client.watch(prefix, revision + 1, partial(_apply, members, on_change))
            log.info("etcd: the watch on %s ended; watching again", prefix)
        except EtcdError as exc:
            delay = backoff.next()
            log.warning("etcd: watching %s failed (%s); retrying in %.1f s", prefix, exc, delay)
            await trio.sleep(delay)
