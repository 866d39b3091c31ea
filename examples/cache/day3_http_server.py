"""Day 3 — the peer protocol over HTTP: GET /_geecache/<group>/<key>.

Starts one node, asks it for keys over real HTTP (as a peer would), then stops.

    python examples/cache/day3_http_server.py
"""

from urllib.parse import quote

import trio

from geetrio.cache import HTTPPool, new_group
from geetrio.cache.protocol import decode_response
from geetrio.http import HTTPClient
from geetrio.web import Engine

DB = {"Tom": "630", "Jack": "589", "Sam": "567"}


async def main() -> None:
    async def slow_db(key: str) -> bytes:
        if key not in DB:
            raise KeyError(f"{key} not exist")
        return DB[key].encode()

    new_group("scores", 2 << 10, slow_db)
    async with trio.open_nursery() as nursery:
        app = Engine()
        port = await nursery.start(app.serve, "127.0.0.1", 0)
        async with HTTPPool(f"http://127.0.0.1:{port}") as pool, HTTPClient() as client:
            pool.mount(app)
            for key in ("Tom", "kkk"):
                url = f"http://127.0.0.1:{port}/_geecache/scores/{quote(key, safe='')}"
                response = await client.get(url)
                if response.status == 200:
                    print(f"GET {url} -> 200, value {decode_response(response.body).decode()}")
                else:
                    print(f"GET {url} -> {response.status} {response.body.decode().strip()}")
        nursery.cancel_scope.cancel()


if __name__ == "__main__":
    trio.run(main)
