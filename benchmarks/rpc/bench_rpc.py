"""RPC benchmark: geetrio.rpc vs grpc.aio vs purerpc (gRPC on trio), side by side.

Server in its own process pinned to CPU 0, this client process on CPU 1, loopback, one
connection: ``Arith.Add`` calls/s and latency (p50/p99), sequentially and with 100
calls in flight, in interleaved rounds (geetrio, grpc, purerpc, geetrio, ...), medians.
Targets: >= 2.5x grpc.aio sequentially, >= 5x with 100 in flight. purerpc needs h2 < 4,
so it runs from its own venv (``.venv-purerpc``, made by ``make bench``); without it,
it is skipped with the reason printed.

    python benchmarks/rpc/bench_rpc.py [--seconds 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from benchmarks.common import free_port, interleaved, median, pin, stop, taskset, wait_port  # noqa: E402
from benchmarks.rpc.servers import Args, messages  # noqa: E402

IN_FLIGHT = 100
PURERPC_PYTHON = HERE.parent.parent / ".venv-purerpc" / "bin" / "python"
Result = dict[str, float]  # calls_per_second, p50_ms, p99_ms


def summarize(latencies: list[float], elapsed: float) -> Result:
    latencies.sort()
    return {
        "calls": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99)] * 1000,
    }


@dataclass(frozen=True)
class Secure:
    """What the secure variants add: TLS with ``cert`` (key and chain, trusted through
    ``ca``) and/or a bearer ``token`` checked by the server's token interceptor."""

    cert: Path | None = None
    ca: Path | None = None
    token: str | None = None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.cert is not None:
            env["BENCH_TLS_CERT"] = str(self.cert)
        if self.token is not None:
            env["BENCH_RPC_TOKEN"] = self.token
        return env


PLAIN = Secure()


def server(name: str, secure: Secure = PLAIN) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        taskset(0, [sys.executable, str(HERE / "servers.py"), name, str(port)]), env=secure.env()
    )
    wait_port(port, process)
    return process, port


# ------------------------------------------------------------------ geetrio


async def _trio_load(call: Callable[[int], Awaitable[None]], seconds: float, tasks: int) -> Result:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker(i: int) -> None:
        n = 0
        while (started := time.perf_counter()) < deadline:
            await call(i + n)
            latencies.append(time.perf_counter() - started)
            n += 1

    began = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for i in range(tasks):
            nursery.start_soon(worker, i)
    return summarize(latencies, time.perf_counter() - began)


def bench_geetrio(seconds: float, secure: Secure = PLAIN) -> tuple[Result, Result]:
    from geetrio import rpc
    from geetrio.http import client_ssl_context

    process, port = server("geetrio", secure)
    tls = secure.cert is not None
    context = client_ssl_context(secure.ca, alpn=()) if tls else None
    metadata = {"authorization": f"Bearer {secure.token}"} if secure.token else None
    try:

        async def run() -> tuple[Result, Result]:
            network = "tls" if tls else "tcp"
            async with rpc.dial(network, f"127.0.0.1:{port}", ssl_context=context) as client:

                async def call(i: int) -> None:
                    reply = await client.call("Arith.Add", Args(i, 1), metadata=metadata)
                    assert reply == i + 1

                await _trio_load(call, 0.3, 1)  # warm up
                sequential = await _trio_load(call, seconds, 1)
                concurrent = await _trio_load(call, seconds, IN_FLIGHT)
            return sequential, concurrent

        return trio.run(run)
    finally:
        stop(process)


# ------------------------------------------------------------------ grpc.aio


async def _asyncio_load(
    call: Callable[[int], Awaitable[None]], seconds: float, tasks: int
) -> Result:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker(i: int) -> None:
        n = 0
        while (started := time.perf_counter()) < deadline:
            await call(i + n)
            latencies.append(time.perf_counter() - started)
            n += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(tasks)))
    return summarize(latencies, time.perf_counter() - began)


def bench_grpc(seconds: float, secure: Secure = PLAIN) -> tuple[Result, Result]:
    import grpc

    args_type, reply_type = messages()
    process, port = server("grpc", secure)
    target = f"127.0.0.1:{port}"
    try:

        def open_channel() -> Any:
            if secure.ca is None:
                return grpc.aio.insecure_channel(target)
            credentials = grpc.ssl_channel_credentials(root_certificates=secure.ca.read_bytes())
            return grpc.aio.secure_channel(target, credentials)

        async def run() -> tuple[Result, Result]:
            async with open_channel() as channel:
                add = channel.unary_unary(
                    "/Arith/Add",
                    request_serializer=args_type.SerializeToString,
                    response_deserializer=reply_type.FromString,
                )

                async def call(i: int) -> None:
                    reply: Any = await add(args_type(num1=i, num2=1))
                    assert reply.value == i + 1

                await _asyncio_load(call, 0.3, 1)
                sequential = await _asyncio_load(call, seconds, 1)
                concurrent = await _asyncio_load(call, seconds, IN_FLIGHT)
            return sequential, concurrent

        return asyncio.run(run())
    finally:
        stop(process)


def bench_purerpc(seconds: float) -> tuple[Result, Result]:
    port = free_port()
    side = str(HERE / "purerpc_side.py")
    process = subprocess.Popen(taskset(0, [str(PURERPC_PYTHON), side, "server", str(port)]))
    try:
        wait_port(port, process)
        out = subprocess.run(
            taskset(1, [str(PURERPC_PYTHON), side, "client", str(port), str(seconds)]),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results = json.loads(out.strip().splitlines()[-1])
        return results["sequential"], results["concurrent"]
    finally:
        stop(process)


def purerpc_missing() -> str | None:
    if not PURERPC_PYTHON.exists():
        return f"{PURERPC_PYTHON.parent.parent.name} does not exist (`make bench` makes it)"
    check = subprocess.run([str(PURERPC_PYTHON), "-c", "import purerpc, trio"], capture_output=True)
    return None if check.returncode == 0 else "purerpc does not import in its venv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    args = parser.parse_args()
    pin(1)
    contenders = [
        ("geetrio", lambda: bench_geetrio(args.seconds)),
        ("grpc.aio", lambda: bench_grpc(args.seconds)),
    ]
    missing = purerpc_missing()
    if missing is None:
        contenders.append(("purerpc", lambda: bench_purerpc(args.seconds)))
    else:
        print(f"purerpc: skipped — {missing}")
    runs = interleaved(contenders, args.rounds)
    print(
        f"RPC benchmark: Arith.Add over one loopback connection, server on CPU 0, client on "
        f"CPU 1, {args.seconds:.0f} s per measurement, {args.rounds} interleaved rounds, medians:"
    )
    table = tabulate(runs)
    for load, target in (("sequential", 2.5), (f"{IN_FLIGHT} in flight", 5.0)):
        print_ratio(table, "geetrio", "grpc.aio", load, target)
        if ("purerpc", load) in table:
            print_ratio(table, "geetrio", "purerpc", load)


def tabulate(runs: dict[str, list[tuple[Result, Result]]]) -> dict[tuple[str, str], Result]:
    """Print each contender's medians (and every round's calls/s); return the medians."""
    table: dict[tuple[str, str], Result] = {}
    width = max(len(name) for name in runs)
    for name, results in runs.items():
        for index, load in enumerate(("sequential", f"{IN_FLIGHT} in flight")):
            values = [r[index] for r in results]
            table[name, load] = r = {k: median([v[k] for v in values]) for k in values[0]}
            rounds = ", ".join(f"{v['calls']:,.0f}" for v in values)
            print(
                f"  {name:{width}} {load:13} {r['calls']:>9,.0f} calls/s   p50 {r['p50']:6.3f} ms"
                f"   p99 {r['p99']:6.3f} ms   (rounds: {rounds})"
            )
    return table


def print_ratio(
    table: dict[tuple[str, str], Result], ours: str, theirs: str, load: str, target: float = 0.0
) -> float:
    ratio = table[ours, load]["calls"] / table[theirs, load]["calls"]
    verdict = f" ({'meets' if ratio >= target else 'MISSES'} {target}x target)" if target else ""
    print(f"  {ours} / {theirs} {load:13} {ratio:5.2f}x{verdict}")
    return ratio


if __name__ == "__main__":
    main()
