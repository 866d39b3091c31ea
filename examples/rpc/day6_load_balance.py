"""Day 6 — load balancing: XClient over two servers, round robin, and broadcast.

python examples/rpc/day6_load_balance.py
"""

import trio

from geetrio import rpc


class Foo:
    def __init__(self, name: str) -> None:
        self.name = name

    async def Who(self, _: None) -> str:
        return self.name


async def main() -> None:
    async with trio.open_nursery() as nursery:
        servers = []
        for name in ("one", "two"):
            server = rpc.Server()
            server.register(Foo(name))
            port = await nursery.start(server.serve, "127.0.0.1", 0)
            servers.append(f"tcp@127.0.0.1:{port}")
        discovery = rpc.MultiServersDiscovery(servers)
        async with rpc.XClient(discovery, rpc.SelectMode.ROUND_ROBIN) as xc:
            answers = [await xc.call("Foo.Who", None, timeout=1.0) for _ in range(4)]
            print("round robin:", answers)
            print("broadcast:", await xc.broadcast("Foo.Who", None, timeout=1.0))
        nursery.cancel_scope.cancel()


if __name__ == "__main__":
    trio.run(main)
