"""Day 1 — the codec and the server: the Option line, then header and body frames.

A raw client speaks the wire format by hand to show what is on it.

python examples/rpc/day1_codec.py
"""

import json
from dataclasses import dataclass

import trio

from geetrio import rpc
from geetrio.rpc.protocol import encode_message


@dataclass
class Args:
    num1: int
    num2: int


class Foo:
    async def Sum(self, args: Args) -> int:
        return args.num1 + args.num2


async def main() -> None:
    server = rpc.Server()
    server.register(Foo())
    async with trio.open_nursery() as nursery:
        port = await nursery.start(server.serve, "127.0.0.1", 0)
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        option = rpc.Option().encode()
        print("option line:", option.decode().strip())
        for seq in range(1, 4):
            header = json.dumps({"ServiceMethod": "Foo.Sum", "Seq": seq, "Error": ""})
            body = json.dumps({"num1": seq, "num2": seq * seq})
            await stream.send_all(
                (option if seq == 1 else b"") + encode_message(header.encode(), body.encode())
            )
        decoder = rpc.FrameDecoder()
        frames: list[bytes] = []
        while len(frames) < 6:
            frames += decoder.feed(await stream.receive_some(65536))
        for header_frame, body_frame in zip(frames[::2], frames[1::2], strict=True):
            print("reply:", json.loads(header_frame), "body", body_frame.decode())
        await stream.aclose()
        nursery.cancel_scope.cancel()


if __name__ == "__main__":
    trio.run(main)
