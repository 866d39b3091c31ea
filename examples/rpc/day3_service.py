"""Day 3 — services by reflection: public one-argument methods, async or not.

python examples/rpc/day3_service.py
"""

from dataclasses import dataclass

import trio

from geetrio import rpc


@dataclass
class Args:
    num1: int
    num2: int


class Arith:
    async def Add(self, args: Args) -> int:  # runs in the connection's nursery
        return args.num1 + args.num2

    def Mul(self, args: Args) -> int:  # a plain def: runs in a worker thread
        return args.num1 * args.num2

    def helper(self, a: int, b: int) -> int:  # two arguments: not a service method
        return a - b


async def main() -> None:
    server = rpc.Server()
    service = server.register(Arith())
    for name, method in service.methods.items():
        argument, reply = method.describe()
        print(f"Arith.{name}({argument}) -> {reply}, {'async' if method.is_async else 'thread'}")
    async with trio.open_nursery() as nursery:
        port = await nursery.start(server.serve, "127.0.0.1", 0)
        async with rpc.dial("tcp", f"127.0.0.1:{port}") as client:
            print("Arith.Add(3, 4) =", await client.call("Arith.Add", Args(3, 4)))
            print("Arith.Mul(3, 4) =", await client.call("Arith.Mul", Args(3, 4)))
            try:
                await client.call("Arith.helper", Args(3, 4))
            except rpc.RemoteError as exc:
                print("Arith.helper:", exc.message)
        nursery.cancel_scope.cancel()


if __name__ == "__main__":
    trio.run(main)
