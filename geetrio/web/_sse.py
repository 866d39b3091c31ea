"""Server-Sent Events: ``c.sse(source)`` answers ``text/event-stream`` (chunked, so the
connection stays reusable) from an async iterable or a trio receive channel of events.

From a channel, a comment line (``: ping``) goes out after ``ping`` seconds without an
event — proxies and browsers keep an idle stream open — and the stream ends when the
channel's senders close it. (An async generator cannot be timed out without killing it,
so from one the events go out as it yields them; feed a channel for pings.) A client
that goes away cancels the source at once: the server watches the connection while the
stream is out (``geetrio.http``). ``c.last_event_id`` is the ``Last-Event-ID`` a
reconnecting ``EventSource`` sends: resume after it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

import trio

__all__ = ["PING", "ServerSentEvent", "event_stream"]

PING = b": ping\n\n"
_LINES = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One event: ``data`` (lines become ``data:`` lines), and optionally its ``event``
    type, ``id`` (what ``Last-Event-ID`` carries on reconnect) and ``retry`` (ms the
    browser waits before reconnecting)."""

    data: str = ""
    event: str | None = None
    id: str | None = None
    retry: int | None = None

    def encode(self) -> bytes:
        lines = []
        for field, value in (("event", self.event), ("id", self.id)):
            if value is not None:
                if _LINES.search(value) or "\0" in value:
                    raise ValueError(f"an event's {field} may not hold line breaks or NUL")
                lines.append(f"{field}: {value}")
        if self.retry is not None:
            lines.append(f"retry: {int(self.retry)}")
        lines.extend(f"data: {line}" for line in _LINES.split(self.data))
        return ("\n".join(lines) + "\n\n").encode()


async def event_stream(
    source: AsyncIterable[ServerSentEvent | str] | trio.abc.ReceiveChannel[ServerSentEvent | str],
    ping: float | None,
) -> AsyncIterator[bytes]:
    """The wire form of ``source``'s events (a ``str`` is an event's data), with pings
    when ``source`` is a receive channel; closes ``source`` when done."""
    try:
        if isinstance(source, trio.abc.ReceiveChannel) and ping:
            while True:
                with trio.move_on_after(ping) as quiet:
                    try:
                        item = await source.receive()
                    except trio.EndOfChannel:
                        return
                yield PING if quiet.cancelled_caught else _encode(item)
        else:
            async for item in source:
                yield _encode(item)
    finally:
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()


def _encode(item: ServerSentEvent | str) -> bytes:
    return (item if isinstance(item, ServerSentEvent) else ServerSentEvent(item)).encode()
