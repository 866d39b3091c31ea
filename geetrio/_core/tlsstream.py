"""``TLSStream``: TLS over a trio stream — the ``ssl`` module's ``SSLObject`` between two
memory BIOs, as ``trio.SSLStream`` does, with less in between (a small-message ping-pong
on loopback: about 60 µs per round trip over plain TCP against ``trio.SSLStream``'s 120;
HTTPS keep-alive 1.5x uvicorn where ``trio.SSLStream`` gave 0.92x — issue 17's note).
It drops generality we do not use: every connection does its handshake first and alone
(``accept_tls``/``connect_tls``), then has at most one reader and one writer.

- Over a socket, bytes go to and from its descriptor directly, with trio's checkpoints;
  ``receive_some`` decrypts every record that came (one checkpoint for a batch).
- Ciphertext leaves through one lock, in the order it was made (also what a read makes:
  TLS 1.3 key updates); ``send_nowait`` writes at once when nothing is in the way (the
  RPC writer's fast path), the rest going first with the next ``send_all``.
- A TLS 1.3 server's session tickets wait for its first answer (one send fewer).
- A send interrupted mid-record, or an ``ssl`` error, breaks the stream:
  ``trio.BrokenResourceError``, the ``ssl`` error as its cause.
- ``ragged_eofs``: a close without close_notify ends the stream quietly (servers) or is
  an error (clients: a truncated reply must not pass for a whole one).
- No renegotiation (``OP_NO_RENEGOTIATION`` in our contexts; TLS 1.3 has none).
"""

from __future__ import annotations

import contextlib
import os
import ssl
from typing import Any

import trio

from .sockstream import receive_from, send_to

__all__ = ["TLSStream"]

RECEIVE_SIZE = 65536  # ciphertext read from the transport at a time (4 full records)
WRITE_CHUNK = 262144  # plaintext encrypted at a time: bounds the ciphertext held
CLOSE_NOTIFY_WAIT = 1.0  # seconds aclose waits to send close_notify (not over a socket)


class TLSStream(trio.abc.Stream):
    def __init__(
        self,
        transport: trio.abc.Stream,
        context: ssl.SSLContext,
        *,
        server_side: bool = False,
        server_hostname: str | None = None,
        ragged_eofs: bool = False,
    ) -> None:
        self.transport_stream = transport
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(
            self._incoming, self._outgoing, server_side=server_side, server_hostname=server_hostname
        )
        self._ragged_eofs = ragged_eofs
        # Over a socket, bytes go straight to and from its file descriptor (``_fd()``:
        # -1 once it is closed, so a number the kernel gave to another file is never used).
        self._socket = transport.socket if isinstance(transport, trio.SocketStream) else None
        self._push_lock = trio.Lock()  # held while ciphertext goes to the transport
        self._backlog = b""  # ciphertext send_nowait wrote only in part: goes out first
        self._receiving = False
        self._sending = False
        self._handshaken = False
        self._broken: str | None = None
        self._ended = False  # the peer's close_notify (or a tolerated ragged end) came
        self._closed = False

    # ------------------------------------------------------------ what it is

    def getpeercert(self, binary_form: bool = False) -> Any:
        """The peer's certificate as ``ssl.SSLSocket.getpeercert`` gives it."""
        return self._tls.getpeercert(binary_form)

    def selected_alpn_protocol(self) -> str | None:
        return self._tls.selected_alpn_protocol()

    def version(self) -> str | None:
        return self._tls.version()

    # ------------------------------------------------------------ handshake

    async def do_handshake(self) -> None:
        """The handshake; once, before anything else. Failed: BrokenResourceError (the
        alert the ``SSLObject`` made for the peer, if any, is sent first, without
        waiting)."""
        self._check()
        if self._tls.server_side:  # nothing to do before the client's hello
            await self._refill()
        while True:
            try:
                self._tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                if self._outgoing.pending:
                    await self._push()
                await self._refill()
            except ssl.SSLError as exc:
                self._send_quietly()
                raise self._break(f"TLS handshake failed: {exc}") from exc
        self._handshaken = True
        # A TLS 1.3 server has only session tickets left: they go out with its first
        # answer, one send fewer per connection. (Reading was a checkpoint already.)
        if self._outgoing.pending and not (
            self._tls.server_side and self._tls.version() == "TLSv1.3"
        ):
            await self._push()  # the last flight (a TLS 1.2 server's Finished)

    # ------------------------------------------------------------ receiving

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if max_bytes is None:
            max_bytes = RECEIVE_SIZE
        elif max_bytes < 1:
            raise ValueError("max_bytes must be >= 1")
        if self._receiving:
            raise trio.BusyResourceError("another task is already receiving on this stream")
        self._check()
        incoming = self._incoming
        # Something to decrypt or give (or the end): one checkpoint. Else straight to
        # the transport (a read that raises SSLWantReadError costs microseconds).
        if incoming.pending or self._tls.pending() or incoming.eof or self._ended:
            data = self._read(max_bytes)
            if data is not None:
                await trio.lowlevel.checkpoint()
                return data
        data = None
        self._receiving = True
        try:
            while data is None:
                await self._refill()
                waiting = self._outgoing.pending  # a server's tickets, made before
                data = self._read(max_bytes)
                if self._outgoing.pending == waiting:
                    continue
                if data == b"":  # an alert about the end: the peer may be gone already
                    self._send_quietly()
                else:  # an answer the TLS layer owes the peer (a key update)
                    await self._push()
        finally:
            self._receiving = False
        return data

    def _read(self, max_bytes: int) -> bytes | None:
        """Plaintext, or b"" at the end; None when more ciphertext is needed. As many
        records as have come, up to ``max_bytes`` (``SSLObject.read`` gives one record
        at a time: a batch of small messages would cost a checkpoint each)."""
        if self._ended:
            return b""
        tls, incoming = self._tls, self._incoming
        try:
            data = tls.read(max_bytes)
        except ssl.SSLWantReadError:
            return None
        except ssl.SSLZeroReturnError:  # the peer's close_notify
            self._ended = True
            return b""
        except ssl.SSLEOFError as exc:  # closed without close_notify
            if not self._ragged_eofs:
                raise self._break("the peer closed without TLS close_notify") from exc
            self._ended = True
            return b""
        except ssl.SSLError as exc:
            raise self._break(f"TLS error: {exc}") from exc
        if not data or len(data) >= max_bytes:
            return data
        chunks = [data]
        size = len(data)
        while size < max_bytes and (incoming.pending or tls.pending()):
            try:
                more = self._tls.read(max_bytes - size)
            except ssl.SSLError:  # none whole yet, or the end: the next call sees it
                break
            if not more:
                break
            chunks.append(more)
            size += len(more)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _refill(self) -> None:
        if self._incoming.eof:
            raise self._break("the peer closed the connection")
        if self._socket is not None:
            data: bytes | bytearray = await self._receive_from_socket()
        else:
            data = await self.transport_stream.receive_some(RECEIVE_SIZE)
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()

    async def _receive_from_socket(self) -> bytes:
        """The transport's ``receive_some``, from the socket itself."""
        if self._socket is None:
            raise trio.ClosedResourceError("the socket was closed")
        return await receive_from(self._socket, RECEIVE_SIZE)

    async def _send_to_socket(self, data: bytes) -> None:
        """The transport's ``send_all``, to the socket itself."""
        if self._socket is None:
            raise trio.ClosedResourceError("the socket was closed")
        await send_to(self._socket, data)

    def _fd(self) -> int:
        return -1 if self._socket is None else self._socket.fileno()

    # ------------------------------------------------------------ sending

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Encrypt ``data`` and send it, after anything ``send_nowait`` left behind
        (``send_all(b"")`` sends just that)."""
        if self._sending:
            raise trio.BusyResourceError("another task is already sending on this stream")
        self._check()
        self._sending = True
        try:
            if 0 < len(data) <= WRITE_CHUNK and not self._backlog and self._fd() >= 0:
                # Straight to the socket, as trio's own socket stream does it: a
                # checkpoint before, and after (shielded: what is sent is sent).
                await trio.lowlevel.checkpoint_if_cancelled()
                if self._write_now(data):
                    if self._backlog:
                        await self._push()
                    else:
                        await trio.lowlevel.cancel_shielded_checkpoint()
                    return
            view = memoryview(data)
            sent = 0
            while True:
                piece = view[sent : sent + WRITE_CHUNK]
                if piece:
                    try:
                        self._tls.write(piece)
                    except ssl.SSLError as exc:
                        raise self._break(f"TLS error: {exc}") from exc
                sent += len(piece)
                await self._push()
                if sent >= len(view):
                    return
        finally:
            self._sending = False

    def send_nowait(self, data: bytes) -> bool:
        """Encrypt ``data`` and write it to the socket now, without waiting; True when
        ``data`` was taken (what the socket did not take goes out first with the next
        ``send_all``), False with nothing done when that cannot be done at once (a
        send under way, a stream that is not over a socket, or broken)."""
        if self._sending or self._broken is not None or self._closed or self._fd() < 0:
            return False
        return self._write_now(data)

    def _write_now(self, data: bytes | bytearray | memoryview) -> bool:
        """Encrypt ``data`` and write what the socket takes, the rest to the backlog;
        False, with nothing done, when ciphertext is waiting or being sent."""
        if self._backlog or self._push_lock.locked():
            return False
        try:
            self._tls.write(data)
        except ssl.SSLError:
            return False  # nothing sent: send_all finds out and says why
        records = self._outgoing.read()
        try:
            written = os.write(self._fd(), records)
        except OSError:  # would block, or broken: the next send finds out
            written = 0
        self._backlog = records[written:]
        return True

    @property
    def backlogged(self) -> bool:
        """Whether ``send_nowait`` left ciphertext for the next ``send_all``."""
        return bool(self._backlog)

    async def _push(self) -> None:
        """Send every record made so far, in order (one task at a time); at least a
        checkpoint. Interrupted: the stream is broken."""
        lock = self._push_lock
        try:
            lock.acquire_nowait()
        except trio.WouldBlock:
            await lock.acquire()
        sent = False
        try:
            while True:
                if self._backlog:
                    records, self._backlog = self._backlog, b""
                elif self._outgoing.pending:
                    records = self._outgoing.read()
                else:
                    break
                try:
                    if self._socket is not None:
                        await self._send_to_socket(records)
                    else:
                        await self.transport_stream.send_all(records)
                except BaseException:
                    self._broken = "a send was interrupted in the middle of a TLS record"
                    raise
                sent = True
        finally:
            lock.release()
        if not sent:  # the transport's send_all was the checkpoint, else this is
            await trio.lowlevel.checkpoint()

    async def wait_send_all_might_not_block(self) -> None:
        await self.transport_stream.wait_send_all_might_not_block()

    # ------------------------------------------------------------ the end

    def close_now(self) -> bool:
        """Over a socket: close_notify if the socket takes it now, then close the
        socket — no waiting, no checkpoint; True. False, nothing done, over another
        transport (``aclose`` then)."""
        if self._socket is None:
            return False
        if not self._closed:
            self._closed = True
            self._say_goodbye()
            self._socket.close()
        return True

    def _say_goodbye(self) -> bool:
        """Make close_notify (the peer's has not come: no need to wait for it); True
        when it may be sent (nothing else is being sent)."""
        if not self._handshaken or self._broken is not None or self._push_lock.locked():
            return False
        with contextlib.suppress(ssl.SSLError):  # SSLWantReadError: the peer's is not here
            self._tls.unwrap()
        self._send_quietly()
        return True

    async def aclose(self) -> None:
        """Send close_notify, without waiting on a socket (dropped if it does not take
        it now) and for at most ``CLOSE_NOTIFY_WAIT`` seconds on another transport;
        then close the transport."""
        if self._closed:
            await trio.lowlevel.checkpoint()
            return
        self._closed = True
        try:
            goodbye = self._say_goodbye() and self._socket is None  # not sent yet
            if goodbye and self._outgoing.pending and not self._backlog:
                with (
                    trio.move_on_after(CLOSE_NOTIFY_WAIT),
                    contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError),
                ):
                    await self.transport_stream.send_all(self._outgoing.read())
        finally:
            await self.transport_stream.aclose()

    def _send_quietly(self) -> None:
        """Write what is pending to the socket if it takes it now; else drop it."""
        fd = self._fd()
        if fd < 0 or self._backlog:
            return
        records = self._outgoing.read()
        if records:
            with contextlib.suppress(OSError):
                os.write(fd, records)

    def _check(self) -> None:
        if self._closed:
            raise trio.ClosedResourceError("the TLS stream is closed")
        if self._broken is not None:
            raise trio.BrokenResourceError(self._broken)

    def _break(self, reason: str) -> trio.BrokenResourceError:
        self._broken = reason
        return trio.BrokenResourceError(reason)
