"""A stream that first replays bytes another layer already read."""

from __future__ import annotations

import trio

__all__ = ["PrefixedStream"]


class PrefixedStream(trio.abc.Stream):
    """Wrap ``stream`` so that ``receive_some`` returns ``prefix`` before reading on.

    This is how a connection changes hands after HTTP parsing: trio-websocket (or the
    RPC codec after ``CONNECT``) gets a stream that replays the request head and any
    bytes the HTTP layer had buffered past it, then continues with the socket.
    """

    def __init__(self, stream: trio.abc.Stream, prefix: bytes) -> None:
        self.stream = stream
        self._prefix = prefix

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        """The prefix first, then the stream's bytes. Cancelled: nothing is lost (a
        prefix is handed out only when the call returns)."""
        if self._prefix:
            if max_bytes is None or max_bytes >= len(self._prefix):
                data, self._prefix = self._prefix, b""
            else:
                data, self._prefix = self._prefix[:max_bytes], self._prefix[max_bytes:]
            await trio.lowlevel.checkpoint()
            return data
        return await self.stream.receive_some(max_bytes)

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self.stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        """The stream's own. Cancelled: as the stream's."""
        await self.stream.wait_send_all_might_not_block()

    async def aclose(self) -> None:
        await self.stream.aclose()
