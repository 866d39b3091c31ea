"""Day 7 — a registry: servers announce themselves by heartbeat, clients discover them.

python examples/rpc/day7_registry.py
"""

import trio

from geetrio import rpc
from geetrio.web import Engine


class Foo:
    def __init__(self, name: str) -> None:
        self.name = name

    async def Who(self, _: None) -> str:
        return self.name


async def main() -> None:
    async with trio.open_nursery() as nursery:
        registry_app = Engine()
        rpc.Registry(timeout=300.0).mount(registry_app, rpc.DEFAULT_REGISTRY_PATH)
        registry_port = await nursery.start(registry_app.serve, "127.0.0.1", 0)
        registry = f"http://127.0.0.1:{registry_port}{rpc.DEFAULT_REGISTRY_PATH}"
        for name in ("one", "two"):
            server = rpc.Server()
            server.register(Foo(name))
            port = await nursery.start(server.serve, "127.0.0.1", 0)
            await nursery.start(rpc.heartbeat, registry, f"tcp@127.0.0.1:{port}")
        discovery = rpc.RegistryDiscovery(registry, refresh_interval=10.0)
        print("registered servers:", len(await discovery.get_all()))
        async with rpc.XClient(discovery, rpc.SelectMode.ROUND_ROBIN) as xc:
            answers = sorted([await xc.call("Foo.Who", None, timeout=1.0) for _ in range(4)])
            print("calls through discovery:", answers)
        nursery.cancel_scope.cancel()


if __name__ == "__main__":
    trio.run(main)
