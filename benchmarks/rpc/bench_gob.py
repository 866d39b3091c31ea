"""GeeRPC's codecs side by side (issue 21): ``Arith.Add`` with the gob codec and with
the JSON codec, sequentially and with 100 calls in flight, and a 10-field struct echoed
back; then, informational, a geetrio gob client of Go's own ``net/rpc`` server against
Go's client of the same server — how close Python gets to Go on Go's protocol.

Servers in their own process on CPU 0, the clients on CPU 1, loopback, one connection,
interleaved rounds (json, gob, json, gob, ...), medians. The Go programs are built from
``tests/gob/go/netrpc`` with Debian's ``golang-go`` (``make bench`` installs it).

    python benchmarks/rpc/bench_gob.py [--seconds 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import trio

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import free_port, interleaved, median, pin, stop, taskset, wait_port  # noqa: E402
from benchmarks.rpc.bench_rpc import IN_FLIGHT, _trio_load  # noqa: E402
from geetrio import rpc  # noqa: E402
from tests.gob.golang import build  # noqa: E402

SERVER = """
import sys
from benchmarks.rpc.bench_gob import serve
serve(int(sys.argv[1]))
"""


@dataclass
class Args:
    num1: int
    num2: int


@dataclass
class Ten:
    name: str
    email: str
    city: str
    age: int
    score: float
    active: bool
    tags: list[str]
    ids: list[int]
    ratio: float
    note: str


class Arith:
    async def Add(self, args: Args) -> int:
        return args.num1 + args.num2


class Bench:
    async def Echo(self, value: Ten) -> Ten:
        return value


def serve(port: int) -> None:
    """The server of the codec rounds (its own process)."""
    server = rpc.Server()
    server.register(Arith())
    server.register(Bench())
    trio.run(server.serve, "127.0.0.1", port)


CODECS = ("application/json", rpc.GOB)
TEN = Ten(
    "Ann", "ann@example.com", "Lyon", 42, 97.5, True, ["a", "b", "c"], [1, 2, 3], 0.25, "x" * 40
)


def geetrio_round(port: int, codec: str, seconds: float) -> dict[str, float]:
    option = rpc.Option(codec_type=codec)

    async def run() -> dict[str, float]:
        async with rpc.dial("tcp", f"127.0.0.1:{port}", option=option) as client:

            async def add(i: int) -> None:
                assert await client.call("Arith.Add", Args(i, 1), reply_type=int) == i + 1

            async def echo(i: int) -> None:
                assert await client.call("Bench.Echo", TEN, reply_type=Ten) == TEN

            await _trio_load(add, 0.3, 1)  # warm up
            return {
                "add": (await _trio_load(add, seconds, 1))["calls"],
                "add x100": (await _trio_load(add, seconds, IN_FLIGHT))["calls"],
                "echo Ten": (await _trio_load(echo, seconds, 1))["calls"],
            }

    return trio.run(run)


def codecs(seconds: float, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "server.py"
        script.write_text(SERVER)
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen(taskset(0, [sys.executable, str(script), str(port)]), env=env)
        try:
            wait_port(port, process)
            pin(1)
            runs = interleaved(
                [
                    (codec, lambda c=codec: geetrio_round(port, c, seconds))
                    for codec in ("application/json", rpc.GOB)
                ],
                rounds,
            )
        finally:
            stop(process)
    print(f"GeeRPC codecs: calls/s, medians of {rounds} rounds of {seconds:g} s")
    for what in ("add", "add x100", "echo Ten"):
        json_rate, gob_rate = (
            median([r[what] for r in runs[c]]) for c in ("application/json", rpc.GOB)
        )
        ratio = gob_rate / json_rate
        print(f"  {what:9} json {json_rate:9,.0f}   gob {gob_rate:9,.0f}   gob/json {ratio:.2f}x")


def against_go(seconds: float, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        binary = build("netrpc", Path(folder))
        server = subprocess.Popen(taskset(0, [str(binary), "server"]), stdout=subprocess.PIPE)
        try:
            assert server.stdout is not None
            address = server.stdout.readline().decode().split()[1]

            def go_client() -> float:
                done = subprocess.run(
                    taskset(1, [str(binary), "bench", address, str(seconds)]),
                    capture_output=True,
                    check=True,
                )
                return float(done.stdout)

            def python_client() -> float:
                option = rpc.Option(codec_type=rpc.NET_RPC)

                async def run() -> float:
                    async with rpc.dial("tcp", address, option=option) as client:

                        async def add(i: int) -> None:
                            assert (
                                await client.call("Arith.Add", Args(i, 1), reply_type=int) == i + 1
                            )

                        await _trio_load(add, 0.3, 1)
                        return (await _trio_load(add, seconds, 1))["calls"]

                return trio.run(run)

            pin(1)
            runs = interleaved([("go", go_client), ("geetrio", python_client)], rounds)
        finally:
            stop(server)  # type: ignore[arg-type]
    go_rate, ours = median(runs["go"]), median(runs["geetrio"])
    print(
        f"Go's net/rpc server, Arith.Add one at a time: Go's client {go_rate:,.0f} calls/s, "
        f"geetrio's gob client {ours:,.0f} calls/s ({ours / go_rate:.2f}x Go; informational)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    codecs(args.seconds, args.rounds)
    if shutil.which("go") is None:
        print("Go is missing (`make bench` installs golang-go): the Go comparison is skipped")
        return
    started = time.perf_counter()
    against_go(args.seconds, args.rounds)
    print(f"  ({time.perf_counter() - started:.0f} s with the Go build)")


if __name__ == "__main__":
    main()
