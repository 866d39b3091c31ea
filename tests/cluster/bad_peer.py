"""A cache peer that misbehaves, in place of a real node (same address):

    python bad_peer.py HOST PORT slow|truncated|corrupt

``slow`` answers each request correctly but 5 s late; ``truncated`` sends a head
promising 64 bytes, 10 of them, and closes; ``corrupt`` answers 200 with bytes that are
not a GeeCache protobuf ``Response``. Prints ``ready`` once listening.
"""

from __future__ import annotations

import sys
from functools import partial

import trio

from geetrio.cache.protocol import encode_response

SLOW = 5.0


async def answer(mode: str, stream: trio.SocketStream) -> None:
    async with stream:
        buffered = b""
        while True:
            while b"\r\n\r\n" not in buffered:
                chunk = await stream.receive_some(65536)
                if not chunk:
                    return
                buffered += chunk
            head, buffered = buffered.split(b"\r\n\r\n", 1)
            key = head.split(b" ")[1].rsplit(b"/", 1)[-1]
            if mode == "slow":
                await trio.sleep(SLOW)
                body = encode_response(b"late " + key)
            elif mode == "truncated":
                await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n0123456789")
                return
            else:
                body = b"\xff\xff\xff\xff not protobuf"
            await stream.send_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
            )


async def main(host: str, port: int, mode: str) -> None:
    async with trio.open_nursery() as nursery:
        await nursery.start(partial(trio.serve_tcp, partial(answer, mode), port, host=host))
        sys.stdout.write("ready\n")
        sys.stdout.flush()


if __name__ == "__main__":
    trio.run(main, sys.argv[1], int(sys.argv[2]), sys.argv[3])
