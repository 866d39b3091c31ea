"""``FastSocketStream``: trio's ``SocketStream`` contract over a connected socket, with
the bytes going to and from its descriptor directly.

trio's socket stream wraps every ``send``/``recv`` in layers (a context manager per
call, a conflict detector, a generic non-blocking helper): on a small HTTP request and
answer they cost as much as the whole router. Here a receive is ``os.read`` on the
descriptor and a send ``os.write``, with trio's checkpoint discipline kept exactly:
``checkpoint_if_cancelled`` before, ``wait_readable``/``wait_writable`` when the socket
is not ready (a checkpoint of its own), else ``cancel_shielded_checkpoint`` after. The
same two functions serve ``TLSStream`` for its ciphertext.
"""

from __future__ import annotations

import os
import socket as stdlib_socket

import trio

__all__ = ["RECEIVE_SIZE", "FastSocketStream", "receive_from", "send_to"]

RECEIVE_SIZE = 65536


async def receive_from(sock: trio.socket.SocketType, max_bytes: int) -> bytes:
    """Up to ``max_bytes`` from ``sock`` (b"" at its end), with the checkpoints and
    errors of trio's socket stream."""
    await trio.lowlevel.checkpoint_if_cancelled()
    waited = False
    while True:
        fd = sock.fileno()  # -1 once closed: a reused descriptor number is never read
        if fd < 0:
            raise trio.ClosedResourceError("the socket was closed")
        try:
            data = os.read(fd, max_bytes)
        except BlockingIOError:
            await trio.lowlevel.wait_readable(fd)  # a checkpoint of its own
            waited = True
            continue
        except OSError as exc:
            raise trio.BrokenResourceError(f"socket connection broken: {exc}") from exc
        if not waited:
            await trio.lowlevel.cancel_shielded_checkpoint()
        return data


async def send_to(sock: trio.socket.SocketType, data: bytes | bytearray | memoryview) -> None:
    """All of ``data`` to ``sock``, with the checkpoints and errors of trio's socket
    stream."""
    await trio.lowlevel.checkpoint_if_cancelled()
    if sock.fileno() < 0:  # even for an empty send
        raise trio.ClosedResourceError("the socket was closed")
    view = memoryview(data)
    waited = False
    while view:
        fd = sock.fileno()
        if fd < 0:
            raise trio.ClosedResourceError("the socket was closed")
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            await trio.lowlevel.wait_writable(fd)  # a checkpoint of its own
            waited = True
        except OSError as exc:
            raise trio.BrokenResourceError(f"socket connection broken: {exc}") from exc
    if not waited:
        await trio.lowlevel.cancel_shielded_checkpoint()


class FastSocketStream(trio.abc.HalfCloseableStream):
    """A connected socket as a stream: what ``trio.SocketStream`` is (``socket`` is
    there too), faster. One task may send and one receive at a time."""

    def __init__(self, socket: trio.socket.SocketType) -> None:
        self.socket = socket
        self._sending = False
        self._receiving = False

    @classmethod
    def of(cls, stream: trio.abc.Stream) -> trio.abc.Stream:
        """``stream`` made fast when it is a ``trio.SocketStream``; else as it is."""
        if isinstance(stream, trio.SocketStream):
            return cls(stream.socket)
        return stream

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        if self._sending:
            raise trio.BusyResourceError("another task is already sending on this stream")
        if self.socket.did_shutdown_SHUT_WR:
            await trio.lowlevel.checkpoint()
            raise trio.ClosedResourceError("cannot send after sending EOF")
        self._sending = True
        try:
            await send_to(self.socket, data)
        finally:
            self._sending = False

    async def wait_send_all_might_not_block(self) -> None:
        if self._sending:
            raise trio.BusyResourceError("another task is already sending on this stream")
        if self.socket.fileno() < 0:
            raise trio.ClosedResourceError("the socket was closed")
        self._sending = True  # a send_eof meanwhile is a conflict, as with trio's
        try:
            await self.socket.wait_writable()
        finally:
            self._sending = False

    async def send_eof(self) -> None:
        if self._sending:
            raise trio.BusyResourceError("another task is already sending on this stream")
        await trio.lowlevel.checkpoint()
        if self.socket.fileno() < 0:
            raise trio.ClosedResourceError("the socket was closed")
        if self.socket.did_shutdown_SHUT_WR:
            return  # once is enough (a second shutdown fails on some systems)
        try:
            self.socket.shutdown(stdlib_socket.SHUT_WR)
        except OSError as exc:
            raise trio.BrokenResourceError(f"socket connection broken: {exc}") from exc

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if self._receiving:
            raise trio.BusyResourceError("another task is already receiving on this stream")
        if max_bytes is None:
            max_bytes = RECEIVE_SIZE
        elif max_bytes < 1:
            raise ValueError("max_bytes must be >= 1")
        self._receiving = True
        try:
            return await receive_from(self.socket, max_bytes)
        finally:
            self._receiving = False

    async def aclose(self) -> None:
        self.socket.close()
        await trio.lowlevel.checkpoint()
