"""A bounded soak of the main job: ``servers/stack.py`` under mixed traffic for a fixed
time, then what it served, what failed, latency, and its descriptors and memory.

    python benchmarks/soak.py [--seconds 60] [--warmup 10]

Loopback only. The stack runs pinned to CPU 0, the load (one trio program: web pages,
the cache API over keys of which some are missing, RPC ``Scores.Get`` and
``Scores.Set``) on CPU 1. Descriptors and RSS are read from the stack's ``/proc``
entry after the warm-up ("start") and six times during the run; the target is growth
under 10%, the mean of the second half of the samples over the first half's (point
samples of descriptors swing with the peer pools' connections).
The stack logs at ERROR only: a missing key is logged (WARNING) by every node it passes.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import psutil
import trio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import pin, taskset  # noqa: E402
from geetrio import rpc  # noqa: E402
from geetrio.http import ClientError, HTTPClient  # noqa: E402

WEB_WORKERS, API_WORKERS, RPC_WORKERS = 4, 8, 4
TIMEOUT = 5.0
GROWTH_TARGET = 0.10
SAMPLES = 6  # descriptors and RSS read this many times during the run


class Tally:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.counting = False

    def record(self, kind: str, seconds: float) -> None:
        if self.counting:
            self.latencies[kind].append(seconds)

    def error(self, kind: str, exc: BaseException) -> None:
        if self.counting:
            self.errors[f"{kind}: {type(exc).__name__}"] += 1


async def web_worker(web: str, tally: Tally) -> None:
    async with HTTPClient() as client:
        pages = ["/", "/api/stats", "/debug/geerpc", "/demo/bridge/hello-world"]
        while True:
            path = random.choice(pages)
            started = time.perf_counter()
            try:
                with trio.fail_after(TIMEOUT):
                    response = await client.get(web + path)
                if response.status != 200:
                    raise ClientError(f"{path} answered {response.status}")
                tally.record("web", time.perf_counter() - started)
            except (ClientError, trio.TooSlowError) as exc:
                tally.error("web", exc)


async def api_worker(web: str, tally: Tally) -> None:
    async with HTTPClient() as client:
        while True:
            n = random.randrange(3300)  # 3,000 seeded players; the rest are missing: 500
            started = time.perf_counter()
            try:
                with trio.fail_after(TIMEOUT):
                    response = await client.get(f"{web}/api?key=player-{n:04d}")
                if response.status != (200 if n < 3000 else 500):
                    raise ClientError(f"player-{n:04d} answered {response.status}")
                tally.record("cache api", time.perf_counter() - started)
            except (ClientError, trio.TooSlowError) as exc:
                tally.error("cache api", exc)


async def rpc_worker(registry: str, i: int, tally: Tally) -> None:
    discovery = rpc.RegistryDiscovery(registry)
    async with rpc.XClient(discovery, rpc.SelectMode.ROUND_ROBIN) as xc:
        n = 0
        while True:
            n += 1
            started = time.perf_counter()
            try:
                if n % 4 == 0:  # one write in four
                    await xc.call("Scores.Set", {"name": f"soak-{i}-{n % 500}", "score": n},
                                  timeout=TIMEOUT)  # fmt: skip
                    tally.record("rpc set", time.perf_counter() - started)
                else:
                    await xc.call("Scores.Get", f"player-{random.randrange(3000):04d}",
                                  timeout=TIMEOUT)  # fmt: skip
                    tally.record("rpc get", time.perf_counter() - started)
            except rpc.RPCError as exc:
                tally.error("rpc", exc)


def sample(process: psutil.Process) -> tuple[int, int]:
    return process.num_fds(), process.memory_info().rss


async def drive(urls: dict[str, str], seconds: float, warmup: float, pid: int) -> dict[str, object]:
    tally = Tally()
    stack = psutil.Process(pid)
    async with trio.open_nursery() as nursery:
        for _ in range(WEB_WORKERS):
            nursery.start_soon(web_worker, urls["web"], tally)
        for _ in range(API_WORKERS):
            nursery.start_soon(api_worker, urls["web"], tally)
        for i in range(RPC_WORKERS):
            nursery.start_soon(rpc_worker, urls["registry"], i, tally)
        await trio.sleep(warmup)
        start = sample(stack)
        tally.counting = True
        began = time.perf_counter()
        series = []
        for _ in range(SAMPLES):
            await trio.sleep(seconds / SAMPLES)
            series.append(sample(stack))
        tally.counting = False
        elapsed = time.perf_counter() - began
        nursery.cancel_scope.cancel()
    return {"tally": tally, "start": start, "series": series, "elapsed": elapsed}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, str(ROOT / "servers" / "stack.py"), "--port", "0",
                   "--db", str(Path(folder) / "scores.db"), "--log-level", "ERROR"]  # fmt: skip
        process = subprocess.Popen(taskset(0, command), stdout=subprocess.PIPE, text=True)
        try:
            assert process.stdout is not None
            lines = []
            while not lines or lines[-1] != "ready":
                line = process.stdout.readline()
                if not line:
                    raise SystemExit(f"the stack exited early: {lines}")
                lines.append(line.strip())
            urls = dict(line.split(" ", 1) for line in lines[:-1])
            pin(1)
            result = trio.run(drive, urls, args.seconds, args.warmup, process.pid)
        finally:
            process.terminate()
            process.wait(10)
    report(result, args.seconds)


def report(result: dict[str, object], seconds: float) -> None:
    tally = result["tally"]
    assert isinstance(tally, Tally)
    series = result["series"]
    assert isinstance(series, list)
    (fds0, rss0), (fds1, rss1) = result["start"], series[-1]  # type: ignore[misc]
    elapsed = result["elapsed"]
    assert isinstance(elapsed, float)
    served = sum(len(v) for v in tally.latencies.values())
    errors = sum(tally.errors.values())
    print(f"soak: {seconds:g} s of mixed traffic on the stack (loopback), after the warm-up")
    print(f"  served {served:,} requests ({served / elapsed:,.0f}/s), errors {errors}")
    for kind, values in sorted(tally.latencies.items()):
        p50, p99 = percentile(values, 0.50) * 1e3, percentile(values, 0.99) * 1e3
        print(f"  {kind:<10} {len(values):>8,}  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
    everything = [v for values in tally.latencies.values() for v in values]
    print(f"  all        {served:>8,}  p50 {percentile(everything, 0.5) * 1e3:6.2f} ms  "
          f"p99 {percentile(everything, 0.99) * 1e3:6.2f} ms")  # fmt: skip
    for kind, count in sorted(tally.errors.items()):
        print(f"  error {kind}: {count}")
    fd_growth, rss_growth = (fds1 - fds0) / fds0, (rss1 - rss0) / rss0
    print(f"  open fds: {fds0} -> {fds1} ({fd_growth:+.1%}); "
          f"during: {' '.join(str(f) for f, _ in series)}")  # fmt: skip
    print(f"  RSS: {rss0 / 2**20:.1f} -> {rss1 / 2**20:.1f} MiB ({rss_growth:+.1%}); "
          f"during: {' '.join(f'{r / 2**20:.1f}' for _, r in series)}")  # fmt: skip
    # The peer pools open and close connections as load stalls them (up to 16 per peer):
    # a point sample of descriptors swings by a few either way. Growth is judged on the
    # mean of the first half of the samples (start included) against the second half's.
    samples = [result["start"], *series]
    half = len(samples) // 2
    trend = {
        name: statistics.fmean(v[i] for v in samples[half:])
        / statistics.fmean(v[i] for v in samples[:half])
        - 1
        for i, name in enumerate(("fds", "RSS"))
    }
    print(f"  growth, second half of the run over the first: fds {trend['fds']:+.1%}, "
          f"RSS {trend['RSS']:+.1%}")  # fmt: skip
    met = max(trend.values()) < GROWTH_TARGET and errors == 0
    print(f"  target: no errors, fds and RSS growth under {GROWTH_TARGET:.0%}: "
          f"{'met' if met else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
