"""Day 5 — RPC over HTTP CONNECT on a Gee app, and the debug page.

python examples/rpc/day5_http_debug.py
"""

from dataclasses import dataclass

import trio

from geetrio import rpc
from geetrio.http import HTTPClient
from geetrio.web import Engine


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
    app = Engine()
    server.mount(app)  # CONNECT /_geeprc_ and GET /debug/geerpc
    async with trio.open_nursery() as nursery:
        port = await nursery.start(app.serve, "127.0.0.1", 0)
        async with rpc.dial_http("tcp", f"127.0.0.1:{port}") as client:
            for i in range(3):
                print(f"over HTTP: {i} + {i} =", await client.call("Foo.Sum", Args(i, i)))
        async with HTTPClient() as http:
            page = await http.get(f"http://127.0.0.1:{port}/debug/geerpc")
        row = next(line for line in page.body.decode().splitlines() if "<td>Sum</td>" in line)
        print("debug page:", row)
        nursery.cancel_scope.cancel()


if __name__ == "__main__":
    trio.run(main)
