"""Node B of the remote-hit benchmark: serves group "bench" (100-byte values) over the
peer protocol on the given port. ``python benchmarks/cache/peer_node.py PORT``"""

from __future__ import annotations

import sys
from functools import partial

import trio

from geetrio.cache import HTTPPool, new_group
from geetrio.web import Engine

VALUE_SIZE = 100


async def main(port: int) -> None:
    async def load(key: str) -> bytes:
        return key.encode().ljust(VALUE_SIZE, b".")[:VALUE_SIZE]

    new_group("bench", 64 << 20, load)
    async with HTTPPool(f"http://127.0.0.1:{port}") as pool:
        app = Engine()
        pool.mount(app)
        await app.serve("127.0.0.1", port)


if __name__ == "__main__":
    trio.run(partial(main, int(sys.argv[1])))
