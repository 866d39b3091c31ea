"""The GeeRPC client: many calls in flight on one connection, timeouts as scopes.

``async with rpc.dial("tcp", "127.0.0.1:9001") as client:`` connects (``_dial``), sends
the Option and starts the connection's reader and writer tasks in a nursery the client
owns. A
call takes a sequence number, registers in the pending table and sends its request:
straight to the socket when it takes it at once (a non-blocking write), else through
the writer task, which sends every request queued meanwhile in one ``send_all``, each
whole — a cancelled caller's request is withdrawn if not taken yet, never cut. Then it
waits for the reader to hand it the reply with its ``Seq``. The table entry goes in
``finally`` — on a reply, a timeout, a cancellation — so a late reply finds nobody and
is dropped. When the connection drops, every pending call fails at once with
``ShutdownError``, and so does every later call.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import outcome
import trio

from .. import tracing
from .._core.nursery import unwrapped_nursery
from .._core.waiter import Waiter
from ._codec import Codec, StreamCodec, get_codec
from ._errors import FrameError, RemoteError, RPCError, RPCTimeout, ShutdownError
from ._framing import BodyTooLarge, framing_of
from ._intercept import ClientCall, ClientInterceptor, chain
from ._tracing import rpc_attributes
from ._writer import FrameWriter, Queued
from .protocol import DEFAULT_MAX_FRAME_BYTES, Header, Option

__all__ = ["Client", "client_on", "codec_of", "open_client"]

log = logging.getLogger("geetrio.rpc")

RECEIVE_SIZE = 65536
WRITE_TIMEOUT = 10.0  # a request that cannot be written in this long breaks the connection


_WRITTEN = Queued(b"")
_WRITTEN.taken = True  # what a call holds when its request went out at once


class _Pending(Waiter[bytes]):
    """A call waiting for its reply's body (or error): the reader or a shutdown sets it;
    a cancelled or timed-out call abandons it, and a late reply is dropped."""

    __slots__ = ("queued",)

    def __init__(self) -> None:
        super().__init__()
        self.queued: Queued | None = None


class Client:
    """One RPC connection. Made by ``dial``/``dial_http``/``xdial``, which own it."""

    def __init__(
        self,
        stream: trio.abc.Stream,
        option: Option,
        codec: Codec | StreamCodec,
        *,
        max_frame_bytes: int,
    ) -> None:
        self._stream = stream
        self.option = option
        self._codec = codec
        self._framing = framing_of(codec, max_frame_bytes)
        self._max_frame_bytes = max_frame_bytes
        self._interceptors: list[ClientInterceptor] = []
        self._chain: ClientInterceptor | None = None
        self._pending: dict[int, _Pending] = {}
        self._seq = 0
        self._error: ShutdownError | None = None
        self._reader_scope = trio.CancelScope()
        self.writer = FrameWriter(stream, write_timeout=WRITE_TIMEOUT, on_broken=self._shutdown)

    @property
    def is_available(self) -> bool:
        """False once the connection is closed or broken."""
        return self._error is None

    async def call(
        self,
        service_method: str,
        args: Any = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the public contract (net/rpc style)
        reply_type: Any = Any,
        metadata: Mapping[str, str] | None = None,
    ) -> Any:
        """Call ``Service.Method`` with ``args``; the reply decoded into ``reply_type``
        (the plain JSON value by default). ``metadata`` travels in the request header
        to the server's interceptors (a token, a trace id).

        Raises ``RemoteError`` (the server's error text), ``RPCTimeout`` after
        ``timeout`` seconds, ``ShutdownError`` when the connection is or goes down, and
        ``RPCError`` for a reply that does not decode. Cancelled (by ``timeout`` or the
        caller's scopes): the call leaves the pending table, its late reply is dropped,
        the request may or may not have run, and the client stays usable.
        """
        tracer = tracing.tracer()
        if tracer is not None:  # a client span, its traceparent in the call's metadata
            carrier = dict(metadata or {})
            attributes = rpc_attributes(service_method)
            with tracing.client_span(tracer, service_method, attributes, carrier):
                return await self._proceed(service_method, args, timeout, reply_type, carrier)
        if self._chain is None:  # the common case: one frame less
            return await self._call(service_method, args, timeout, reply_type, metadata)
        return await self._proceed(service_method, args, timeout, reply_type, metadata)

    async def _proceed(
        self,
        service_method: str,
        args: Any,
        timeout: float | None,  # noqa: ASYNC109 - ``call``'s
        reply_type: Any,
        metadata: Mapping[str, str] | None,
    ) -> Any:
        """``call`` through the client's interceptors, if it has any."""
        if self._chain is None:
            return await self._call(service_method, args, timeout, reply_type, metadata)
        call = ClientCall(service_method, dict(metadata or {}))

        async def proceed() -> Any:
            return await self._call(
                service_method, args, timeout, reply_type, call.metadata or None
            )

        return await self._chain(call, proceed)

    def use(self, *interceptors: ClientInterceptor) -> None:
        """Run ``interceptors`` around every later call, in order (the first
        outermost): ``async def mine(call, proceed)`` may add to ``call.metadata``, then
        ``return await proceed()`` (the reply, or the call's exception, comes back)."""
        self._interceptors.extend(interceptors)
        self._chain = chain(self._interceptors) if self._interceptors else None

    async def _call(
        self,
        service_method: str,
        args: Any,
        timeout: float | None,  # noqa: ASYNC109 - ``call``'s
        reply_type: Any,
        metadata: Mapping[str, str] | None,
    ) -> Any:
        if self._error is not None:
            raise ShutdownError(str(self._error), sent=False)
        framing = self._framing
        if not framing.droppable:  # built and queued with no checkpoint between: in order
            with trio.move_on_after(math.inf if timeout is None else timeout) as waited:
                await self.writer.room()
            if waited.cancelled_caught:
                raise RPCTimeout(f"rpc client: call {service_method} timed out after {timeout:g}s")
        self._seq += 1
        seq = self._seq
        meta = dict(metadata) if metadata else None
        try:
            message = framing.message(Header(service_method, seq, "", meta), args)
        except BodyTooLarge:
            raise RPCError(
                f"rpc client: the argument is over {self._max_frame_bytes} bytes"
            ) from None
        except ValueError as exc:
            raise RPCError(
                f"rpc client: cannot encode the argument of {service_method}: {exc}"
            ) from None
        pending = self._pending[seq] = _Pending()
        try:
            if timeout is None:
                reply = await self._exchange(message, pending)
            else:
                with trio.move_on_after(timeout) as scope:
                    reply = await self._exchange(message, pending)
                if scope.cancelled_caught:
                    raise RPCTimeout(
                        f"rpc client: call {service_method} timed out after {timeout:g}s"
                    )
        except ShutdownError as exc:
            queued = pending.queued
            if not (queued and queued.taken):
                raise ShutdownError(str(exc), sent=False) from None  # safe to try elsewhere
            raise
        finally:
            self._pending.pop(seq, None)
            if pending.queued is not None and not pending.done and framing.droppable:
                FrameWriter.cancel(pending.queued)  # not written yet: it never will be
        try:
            return framing.decode_body(reply, reply_type, f"the reply of {service_method}")
        except ValueError as exc:
            raise RPCError(f"rpc client: {exc}") from None

    async def _exchange(self, message: bytes, pending: _Pending) -> bytes:
        """Send the request (straight to the socket when it can, else queued for the
        writer) and wait for the reader (or a shutdown) to set ``pending``."""
        if self.writer.write_now(message):
            pending.queued = _WRITTEN
        else:
            pending.queued = await self.writer.queue_when_room(message)
        return await pending.wait()

    async def read_replies(self) -> None:
        """The reader task: replies to their callers by ``Seq`` until the connection
        ends; then every pending call fails with ``ShutdownError`` (also when the
        reader is cancelled, as closing the client does)."""
        framing = self._framing
        reason = "the server closed the connection"
        with self._reader_scope:
            try:
                while True:
                    data = await self._stream.receive_some(RECEIVE_SIZE)
                    if not data:
                        break
                    for header, body, _ in framing.feed(data):
                        pending = self._pending.get(header.seq)
                        if pending is not None:  # else a late reply, dropped
                            if header.error:
                                pending.set(outcome.Error(RemoteError(header.error)))
                            else:
                                pending.set(outcome.Value(body))
            except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                reason = f"the connection broke: {exc}"
            except FrameError as exc:
                reason = f"the server broke the protocol: {exc}"
        if self._reader_scope.cancelled_caught:
            reason = "the client is closed"
        self._shutdown(reason)

    def _shutdown(self, reason: str) -> None:
        if self._error is None:
            self._error = ShutdownError(f"rpc client: {reason}")
            log.debug("rpc client: %s", reason)
            self.writer.close(reason)  # callers waiting for room in its queue wake up
        for pending in self._pending.values():
            pending.set(outcome.Error(self._error))

    async def aclose(self) -> None:
        """Close: pending and later calls fail with ``ShutdownError``. Cancelled: closed
        all the same (nothing here waits)."""
        self._shutdown("the client is closed")
        self._reader_scope.cancel()
        await trio.aclose_forcefully(self._stream)


@asynccontextmanager
async def open_client(
    stream: trio.abc.Stream,
    *,
    option: Option | None = None,
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
) -> AsyncIterator[Client]:
    """A client on a stream you connected yourself (memory streams in tests, other
    transports): sends the Option, then as ``dial``. Closes the stream on exit.
    Cancelled: the stream is closed; calls in flight fail with ``ShutdownError``."""
    option = option or Option()
    codec = codec_of(option)
    await stream.send_all(option.encode())
    async with client_on(stream, option, codec, max_frame_bytes) as client:
        yield client


@asynccontextmanager
async def client_on(
    stream: trio.abc.Stream,
    option: Option,
    codec: Codec | StreamCodec,
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
) -> AsyncIterator[Client]:
    client = Client(stream, option, codec, max_frame_bytes=max_frame_bytes)
    async with unwrapped_nursery() as nursery:
        nursery.start_soon(client.read_replies)
        nursery.start_soon(client.writer.run)
        try:
            yield client
        finally:
            await client.aclose()
            nursery.cancel_scope.cancel()  # the writer, and the reader if still there


def codec_of(option: Option) -> Codec | StreamCodec:
    codec = get_codec(option.codec_type)
    if codec is None:
        raise RPCError(f"rpc client: unknown codec {option.codec_type!r}")
    return codec
