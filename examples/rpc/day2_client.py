"""Day 2 — a concurrent client: many calls in flight on one connection.

python examples/rpc/day2_client.py
"""

from dataclasses import dataclass

import trio

from geetrio import rpc


@dataclass
class Args:
    num1: int
    num2: int


class Foo:
    async def Sum(self, args: Args) -> int:
        await trio.sleep(0.01 * (5 - args.num1))  # later calls finish first
        return args.num1 + args.num2


async def main() -> None:
    server = rpc.Server()
    server.register(Foo())
    async with trio.open_nursery() as nursery:
        port = await nursery.start(server.serve, "127.0.0.1", 0)
        async with rpc.dial("tcp", f"127.0.0.1:{port}") as client:
            order: list[int] = []

            async def call(i: int) -> None:
                reply = await client.call("Foo.Sum", Args(i, i * i))
                order.append(i)
                print(f"{i} + {i * i} = {reply}")

            async with trio.open_nursery() as calls:
                for i in range(5):
                    calls.start_soon(call, i)
            print("replies arrived in the order", order)
        nursery.cancel_scope.cancel()


if __name__ == "__main__":
    trio.run(main)
