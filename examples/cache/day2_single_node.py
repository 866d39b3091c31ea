"""Day 2 — a Group: cache in front of a slow source, loaded once per key.

python examples/cache/day2_single_node.py
"""

import trio

from geetrio.cache import new_group

DB = {"Tom": "630", "Jack": "589", "Sam": "567"}


async def main() -> None:
    loads = dict.fromkeys(DB, 0)

    async def slow_db(key: str) -> bytes:
        print(f"[SlowDB] search key {key}")
        await trio.sleep(0.1)
        if key not in DB:
            raise KeyError(f"{key} not exist")
        loads[key] += 1
        return DB[key].encode()

    scores = new_group("scores", 2 << 10, slow_db)
    for key in DB:
        for _ in range(2):  # the second get is a cache hit
            print(f"{key} = {(await scores.get(key)).decode()}")
    try:
        await scores.get("unknown")
    except KeyError as exc:
        print(f"unknown: {exc}")
    print(f"loads per key: {loads}; stats: {scores.stats}")


if __name__ == "__main__":
    trio.run(main)
