"""Day 5 — three nodes in one process: each key is loaded by its owner only.

    python examples/cache/day5_distributed_nodes.py

(``servers/cache_node.py`` runs real nodes as separate processes; see the README.)
"""

from functools import partial

import trio

from geetrio.cache import Group, HTTPPool
from geetrio.web import Engine

DB = {"Tom": "630", "Jack": "589", "Sam": "567", "Alice": "701", "Bob": "495"}


async def main() -> None:
    async with trio.open_nursery() as nursery:
        apps = [Engine() for _ in range(3)]
        ports = [await nursery.start(partial(app.serve, "127.0.0.1", 0)) for app in apps]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        groups: list[Group] = []
        loaded_by: dict[str, str] = {}
        async with (
            HTTPPool(urls[0], groups=lambda n: groups[0]) as p0,
            HTTPPool(urls[1], groups=lambda n: groups[1]) as p1,
            HTTPPool(urls[2], groups=lambda n: groups[2]) as p2,
        ):
            for url, pool, app in zip(urls, (p0, p1, p2), apps, strict=True):

                async def load(key: str, url: str = url) -> bytes:
                    loaded_by[key] = url
                    return DB[key].encode()

                group = Group("scores", 2 << 10, load, hot_probability=0.0)
                pool.set(*urls)
                group.register_peers(pool)
                pool.mount(app)
                groups.append(group)
            for key in DB:  # every request enters at node 0
                value = await groups[0].get(key)
                print(
                    f"{key:6} = {value.decode()}  owner {p0.owner(key)}  loaded by {loaded_by[key]}"
                )
        nursery.cancel_scope.cancel()


if __name__ == "__main__":
    trio.run(main)
