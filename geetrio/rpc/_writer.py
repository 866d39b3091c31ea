"""One writer per connection: messages from many tasks go out whole, in batches.

Tasks ``queue()`` encoded messages (a header frame and a body frame each) and carry on;
the connection's writer task sends everything queued since its last send in one
``send_all``. A message is never split and never interleaved with another, and the
task that queued it can be cancelled at any moment without touching the stream: a
queued message can be withdrawn (``cancel``) until the writer takes it, and once taken
it is written whole. Under load this is one system call per batch instead of one per
message. A send that fails or takes longer than ``write_timeout`` (a peer that does not
read) breaks the writer: ``error`` is set and ``on_broken`` is called once.

Fast path: when nothing is queued and the writer is not sending, ``write_now`` tries a
non-blocking write of the message straight to the socket — no task switch, no wait, so
nothing to cancel. What the kernel did not take goes to the head of the queue, already
taken: the frame still goes out whole, before anything else. Over a ``TLSStream`` the
message is encrypted and written the same way (``send_nowait``); the records the kernel
did not take wait in the stream, and an empty message queued for the writer task sends
them (``send_all(b"")``).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable

import trio

from .._core.sockstream import FastSocketStream
from .._core.tlsstream import TLSStream

__all__ = ["FrameWriter", "Queued"]

MAX_BUFFERED = 1 << 20  # bytes queued before queue_when_room() waits


class Queued:
    __slots__ = ("cancelled", "message", "taken")

    def __init__(self, message: bytes) -> None:
        self.message = message
        self.cancelled = False
        self.taken = False  # the writer took it: it goes out whole


class FrameWriter:
    def __init__(
        self,
        stream: trio.abc.SendStream,
        *,
        write_timeout: float,
        on_broken: Callable[[str], None],
        max_buffered: int = MAX_BUFFERED,
    ) -> None:
        self._stream = stream
        self._write_timeout = write_timeout
        self._on_broken = on_broken
        self._max_buffered = max_buffered
        self._queue: deque[Queued] = deque()
        self._buffered = 0
        self._has_work = trio.lowlevel.ParkingLot()
        self._has_room = trio.lowlevel.ParkingLot()
        self._idle = trio.lowlevel.ParkingLot()  # nothing queued, nothing being sent
        self._sending = False
        # The fast path writes to the socket itself: a plain socket stream's, or through
        # our TLS stream's send_nowait.
        if isinstance(stream, trio.SocketStream | FastSocketStream):
            self._fd = stream.socket.fileno()
        else:
            self._fd = -1
        self._tls = stream if isinstance(stream, TLSStream) else None
        self.error: str | None = None

    def write_now(self, message: bytes) -> bool:
        """Write ``message`` without waiting if the socket takes it (the rest, if any,
        queued first and already taken); False, with nothing written, otherwise."""
        if self._queue or self._sending or self.error is not None:
            return False
        if self._tls is not None:
            if not self._tls.send_nowait(message):
                return False
            if self._tls.backlogged:  # the writer task sends the rest: send_all(b"")
                self._queue_taken(b"")
            return True
        if self._fd < 0:
            return False
        try:
            written = os.write(self._fd, message)
        except OSError:  # would block, or broken: the writer task finds out
            return False
        if written < len(message):
            self._queue_taken(message[written:])
        return True

    def _queue_taken(self, rest: bytes) -> None:
        """Queue what the fast path could not write at once (it can no longer be
        withdrawn: part of its message went out)."""
        item = Queued(rest)
        item.taken = True
        self._queue.append(item)
        self._buffered += len(rest)
        self._has_work.unpark()

    def queue(self, message: bytes) -> Queued:
        """Queue a message (no wait); ``cancel(item)`` withdraws it until it is taken."""
        item = Queued(message)
        self._queue.append(item)
        self._buffered += len(message)
        self._has_work.unpark()
        return item

    async def queue_when_room(self, message: bytes) -> Queued:
        """``queue``, after waiting while more than ``max_buffered`` bytes wait to go out
        (a peer that reads slowly slows its writers down)."""
        await self.room()
        return self.queue(message)

    async def room(self) -> None:
        """Return once no more than ``max_buffered`` bytes wait to go out. A caller that
        builds its message after this and queues it before its next checkpoint has its
        messages go out in the order it built them (a gob stream needs that).
        Cancelled: nothing was queued."""
        while self._buffered > self._max_buffered and self.error is None:
            await self._has_room.park()

    @staticmethod
    def cancel(item: Queued) -> bool:
        """Withdraw ``item``; False when the writer already took it."""
        if item.taken:
            return False
        item.cancelled = True
        return True

    async def run(self) -> None:
        """The writer task, until cancelled or broken."""
        queue, stream = self._queue, self._stream
        while self.error is None:
            while not queue and self.error is None:
                self._idle.unpark_all()
                await self._has_work.park()
            if self.error is not None:
                return
            batch = []
            while queue:
                item = queue.popleft()
                item.taken = True
                if not item.cancelled:
                    batch.append(item.message)
            self._buffered = 0
            self._has_room.unpark_all()
            if not batch:
                continue
            data = batch[0] if len(batch) == 1 else b"".join(batch)
            self._sending = True
            try:
                with trio.move_on_after(self._write_timeout) as scope:
                    await stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                self._break(f"the connection broke: {exc}")
                return
            finally:
                self._sending = False
            if scope.cancelled_caught:
                self._break(f"the peer did not read for {self._write_timeout} s")
                return

    async def flush(self) -> None:
        """Wait until everything queued so far went out (or the writer broke)."""
        while (self._queue or self._sending) and self.error is None:
            await self._idle.park()
        await trio.lowlevel.checkpoint()

    def close(self, reason: str) -> None:
        """Take no more work: what is queued is never sent; waiters wake up."""
        if self.error is None:
            self.error = reason
        self._has_room.unpark_all()
        self._has_work.unpark_all()
        self._idle.unpark_all()

    def _break(self, reason: str) -> None:
        self.close(reason)
        self._on_broken(reason)
