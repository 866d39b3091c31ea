"""Test helpers: a raw HTTP client that reads responses byte-exactly, an in-memory
listener so the server runs on memory streams under ``autojump_clock``, and reading
what a child program announces at start-up."""

from __future__ import annotations

import math
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import trio
import trio.testing


class Unavailable(RuntimeError):
    """What the machine lacks to run a test's real parts (a binary, root, a kernel
    feature); the tests fail saying so, never skip."""


@dataclass
class RawResponse:
    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    header_list: list[tuple[str, str]] = field(default_factory=list)


class RawClient:
    """Speaks HTTP by hand over one stream, so tests can send anything at all."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.buffer = b""

    @classmethod
    async def connect(cls, port: int) -> RawClient:
        return cls(await trio.open_tcp_stream("127.0.0.1", port))

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def _fill(self) -> bool:
        try:
            data = await self.stream.receive_some(65536)
        except trio.BrokenResourceError:  # a reset counts as the end of the stream
            data = b""
        self.buffer += data
        return bool(data)

    async def read_response(self, *, head: bool = False) -> RawResponse:
        """One response; ``head=True`` for answers to HEAD (no body follows)."""
        while b"\r\n\r\n" not in self.buffer:
            if not await self._fill():
                raise EOFError(f"connection closed before a response; got {self.buffer!r}")
        raw_head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *lines = raw_head.decode("latin-1").split("\r\n")
        _, status, reason = status_line.split(" ", 2)
        header_list = [tuple(line.split(": ", 1)) for line in lines]
        headers = {name.lower(): value for name, value in header_list}
        length = 0 if head else int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            if not await self._fill():
                raise EOFError("connection closed inside a response body")
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return RawResponse(int(status), reason, headers, body, header_list)  # type: ignore[arg-type]

    async def read_until_eof(self) -> bytes:
        """Everything until the server closes; then close our side too."""
        while await self._fill():
            pass
        data, self.buffer = self.buffer, b""
        await self.stream.aclose()
        return data

    async def request(self, data: bytes) -> RawResponse:
        await self.send(data)
        return await self.read_response()

    async def aclose(self) -> None:
        await self.stream.aclose()


def get(path: str = "/", *, extra: str = "", version: str = "1.1") -> bytes:
    return f"GET {path} HTTP/{version}\r\nHost: test\r\n{extra}\r\n".encode()


async def answer_while_trickling(client: RawClient, every: float = 1.0) -> RawResponse:
    """Send one byte every ``every`` seconds (each pause shorter than a header timeout)
    until the server answers; that answer."""

    async def trickle() -> None:
        try:
            while True:
                await client.send(b"x")
                await trio.sleep(every)
        except trio.BrokenResourceError:
            pass  # closed after its answer

    async with trio.open_nursery() as senders:
        senders.start_soon(trickle)
        response = await client.read_response()
        senders.cancel_scope.cancel()
    return response


class MemoryListener(trio.abc.Listener[trio.abc.Stream]):
    """A listener whose connections are in-memory stream pairs."""

    def __init__(self, *, lockstep: bool = False) -> None:
        self._send, self._receive = trio.open_memory_channel[trio.abc.Stream](math.inf)
        self._pair = (
            trio.testing.lockstep_stream_pair if lockstep else trio.testing.memory_stream_pair
        )
        self.closed = trio.Event()

    async def connect(self) -> RawClient:
        """A new connection; with ``lockstep=True`` a send blocks until the other side
        reads it, like a full socket buffer."""
        client, server = self._pair()
        await self._send.send(server)
        return RawClient(client)

    async def accept(self) -> trio.abc.Stream:
        try:
            return await self._receive.receive()
        except trio.EndOfChannel:
            raise trio.ClosedResourceError from None

    async def aclose(self) -> None:
        self._receive.close()
        self.closed.set()
        await trio.lowlevel.checkpoint()


async def call(app, method: str, target: str, *, headers=(), body: bytes = b""):  # type: ignore[no-untyped-def]
    """Run one request through ``app.handle`` without a socket; returns the Response."""
    from geetrio.http import Request, decode_path

    path, _, query = target.partition("?")
    request = Request(method, target, decode_path(path), query, [("Host", "test"), *headers], body)
    return await app.handle(request)


def header(response, name: str) -> str | None:  # type: ignore[no-untyped-def]
    for key, value in response.headers:
        if key.lower() == name.lower():
            return value
    return None


def free_port() -> int:
    """A loopback port that was free a moment ago. Racy by nature (another process may
    take it before it is used): only for servers in other processes that must be
    told their port in advance. Everything in-process uses port 0 and the reported
    port instead."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections for the block: bound, never listening
    (so nothing else can take it meanwhile)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


async def read_until(
    stream: trio.abc.ReceiveStream, done: Callable[[bytes], bool], program: str
) -> bytes:
    """What a child program wrote to ``stream`` until ``done(output)`` — the lines it
    announces at start-up; fails naming ``program`` if it exits first."""
    output = b""
    while not done(output):
        chunk = await stream.receive_some(4096)
        assert chunk, f"{program} exited early: {output.decode(errors='replace')}"
        output += chunk
    return output


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def metric_samples(text: str, label: str, value: str) -> Samples:
    """The samples of a Prometheus scrape (parsed with ``prometheus_client``'s own
    parser) whose ``label`` is ``value``: (sample name, its other labels sorted) -> value."""
    from prometheus_client.parser import text_string_to_metric_families

    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get(label) == value:
                labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != label))
                found[(sample.name, labels)] = sample.value
    return found


def scraped(label: str, value: str) -> Samples:
    """``metric_samples`` of what this process's ``/metrics`` would answer now."""
    from geetrio import metrics

    body, _ = metrics.render(metrics.REGISTRY)
    return metric_samples(body.decode(), label, value)
