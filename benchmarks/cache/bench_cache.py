"""Cache benchmark, side by side in one run:

(a) LRUCache get-hit and add-with-eviction ops/s vs cachetools.LRUCache (in-process);
(b) ``await group.get()`` on a local hit, ops/s;
(c) remote hits through the peer protocol — this process (node A, CPU 0) fetching
    100-byte values that node B (another process, CPU 1) owns and has cached, 100
    concurrent tasks — vs redis-py asyncio GET (with hiredis) of the same values from
    redis-server (CPU 1), 100 concurrent tasks. Interleaved rounds (geetrio, redis,
    geetrio, redis, ...), medians, so machine drift cannot favour either.

    python benchmarks/cache/bench_cache.py [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import trio

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import free_port, interleaved, median, pin, taskset, wait_port  # noqa: E402

KEYS = [f"key-{i}" for i in range(1000)]
VALUE = b"v" * 100
CONCURRENCY = 100


def ops_per_second(fn: Callable[[int], None], n: int, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn(n)
        best = min(best, time.perf_counter() - started)
    return n / best


# ----------------------------------------------------------------------- (a) LRU


def bench_lru() -> dict[str, tuple[float, float]]:
    import cachetools

    from geetrio.cache import LRUCache

    n = 1_000_000
    size = 10_000
    keys = [f"k{i:06d}" for i in range(size)]
    entry = len(keys[0]) + len(VALUE)

    ours = LRUCache(max_bytes=size * entry)
    theirs: cachetools.LRUCache[str, bytes] = cachetools.LRUCache(maxsize=size)
    for k in keys:
        ours.add(k, VALUE)
        theirs[k] = VALUE

    def ours_get(count: int) -> None:
        get, ks = ours.get, keys
        for i in range(count):
            get(ks[i % size])

    def theirs_get(count: int) -> None:
        ks = keys
        for i in range(count):
            theirs[ks[i % size]]

    fresh = [f"n{i:06d}" for i in range(n)]

    def ours_add(count: int) -> None:
        add = ours.add
        for i in range(count):
            add(fresh[i], VALUE)

    def theirs_add(count: int) -> None:
        for i in range(count):
            theirs[fresh[i]] = VALUE

    return {
        "get-hit": (ops_per_second(ours_get, n), ops_per_second(theirs_get, n)),
        "add-with-eviction": (ops_per_second(ours_add, n), ops_per_second(theirs_add, n)),
    }


# ----------------------------------------------------------------------- (b) group.get


def bench_group_hit() -> float:
    from geetrio.cache import Group

    async def load(key: str) -> bytes:
        return VALUE

    async def run() -> float:
        group = Group("local-bench", 64 << 20, load)
        for k in KEYS:
            await group.get(k)
        n = 500_000
        get, keys, size = group.get, KEYS, len(KEYS)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for i in range(n):
                await get(keys[i % size])
            best = min(best, time.perf_counter() - started)
        return n / best

    return trio.run(run)


# ----------------------------------------------------------------------- (c) remote


async def _drive(worker: Callable[[int], Awaitable[int]], seconds: float) -> float:
    """Run CONCURRENCY workers for ``seconds``; ops/s."""
    counts: list[int] = []

    async def one(i: int) -> None:
        counts.append(await worker(i))

    started = trio.current_time()
    async with trio.open_nursery() as nursery:
        for i in range(CONCURRENCY):
            nursery.start_soon(one, i)
    return sum(counts) / (trio.current_time() - started)


def bench_geetrio_remote(seconds: float) -> float:
    from geetrio.cache import HTTPPool

    port = free_port()
    node_b = subprocess.Popen(
        taskset(1, [sys.executable, str(HERE / "peer_node.py"), str(port)]), cwd=ROOT
    )
    try:
        wait_port(port, node_b)

        async def run() -> float:
            me = "http://127.0.0.1:1"  # node A's own URL: never dialled
            async with HTTPPool(me, timeout=5.0) as pool:
                pool.set(f"http://127.0.0.1:{port}")  # B owns every key: A is not in its own ring
                pool.set(me, f"http://127.0.0.1:{port}")
                owned = [k for k in KEYS if pool.pick_peer(k) is not None]
                peer = pool.pick_peer(owned[0])
                assert peer is not None
                for k in owned:  # B loads and caches every key once
                    assert len(await peer.get("bench", k)) == 100
                deadline = trio.current_time() + seconds

                async def worker(i: int) -> int:
                    done = 0
                    while trio.current_time() < deadline:
                        await peer.get("bench", owned[(i * 7 + done) % len(owned)])
                        done += 1
                    return done

                return await _drive(worker, seconds)

        return trio.run(run)
    finally:
        node_b.terminate()
        node_b.wait()  # started by us, stopped by its PID


def bench_redis(seconds: float) -> float:
    import redis.asyncio

    port = free_port()
    server = subprocess.Popen(
        taskset(1, ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]),
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_port(port, server)

        async def run() -> float:
            client = redis.asyncio.Redis(port=port, max_connections=CONCURRENCY)
            for k in KEYS:
                await client.set(k, VALUE)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + seconds
            counts: list[int] = []

            async def worker(i: int) -> None:
                done = 0
                while loop.time() < deadline:
                    await client.get(KEYS[(i * 7 + done) % len(KEYS)])
                    done += 1
                counts.append(done)

            started = loop.time()
            await asyncio.gather(*(worker(i) for i in range(CONCURRENCY)))
            elapsed = loop.time() - started
            await client.aclose()
            return sum(counts) / elapsed

        return asyncio.run(run())
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per remote-hit run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved remote-hit rounds")
    args = parser.parse_args()
    pin(0)

    print("(a) LRU, 10,000 entries of 100-byte values, best of 3:")
    for name, (ours, theirs) in bench_lru().items():
        ratio = ours / theirs
        verdict = "meets" if ratio >= 1.3 else "MISSES"
        print(
            f"  {name:18} geetrio {ours / 1e6:6.2f}M ops/s   cachetools {theirs / 1e6:6.2f}M ops/s"
            f"   {ratio:.2f}x ({verdict} 1.3x target)"
        )

    hit = bench_group_hit()
    verdict = "meets" if hit >= 500_000 else "MISSES"
    print(f"(b) await group.get() local hit: {hit / 1e3:,.0f}k ops/s ({verdict} 500k target)")

    if not shutil.which("redis-server"):
        raise SystemExit(
            "redis-server is missing: `make bench` installs it (apt-get install redis-server)"
        )
    from redis.utils import HIREDIS_AVAILABLE

    parser_name = "with hiredis" if HIREDIS_AVAILABLE else "WITHOUT hiredis (pip install hiredis)"
    runs = interleaved(
        [
            ("geetrio", lambda: bench_geetrio_remote(args.seconds)),
            ("redis", lambda: bench_redis(args.seconds)),
        ],
        args.rounds,
    )
    ours, theirs = median(runs["geetrio"]), median(runs["redis"])
    ratio = ours / theirs
    verdict = "meets" if ratio >= 1.5 and HIREDIS_AVAILABLE else "MISSES"
    print(
        f"(c) remote hits, {CONCURRENCY} concurrent tasks, 100-byte values, {args.seconds:.0f} s "
        f"x {args.rounds} interleaved rounds, client on CPU 0, server on CPU 1:"
    )
    for name, values in runs.items():
        print(f"  {name:8} rounds: " + ", ".join(f"{v:,.0f}" for v in values) + " ops/s")
    print(
        f"  geetrio peer protocol {ours:9,.0f} ops/s   redis-py asyncio GET {parser_name} "
        f"{theirs:9,.0f} ops/s (medians)   {ratio:.2f}x ({verdict} 1.5x target)"
    )


if __name__ == "__main__":
    main()
