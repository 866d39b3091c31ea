"""Day 6 — single flight: 1,000 concurrent requests for one cold key, one load.

python examples/cache/day6_single_flight.py
"""

import trio

from geetrio.cache import SingleFlight


async def main() -> None:
    flights: SingleFlight[bytes] = SingleFlight()
    loads = 0

    async def slow_load() -> bytes:
        nonlocal loads
        loads += 1
        await trio.sleep(0.2)
        return b"630"

    results: list[bytes] = []

    async def request() -> None:
        results.append(await flights.do("Tom", slow_load))

    async with trio.open_nursery() as nursery:
        for _ in range(1000):
            nursery.start_soon(request)
    print(f"{len(results)} callers got {set(results)}; the loader ran {loads} time(s)")


if __name__ == "__main__":
    trio.run(main)
