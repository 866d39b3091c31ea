"""The floods of issue 15 against the main job: while each runs, does a normal client
still get answers, and how much memory does the stack hold?

    python benchmarks/floods.py [--seconds 10] [--only A1,B,...]

``servers/stack.py --port 0`` runs under ``ulimit -n 1024`` (as in the issue), pinned
to CPU 0; the floods and the probe run here, on CPU 1. Every 0.25 s the probe opens new
connections for a web ``GET /``, a cache lookup ``GET /api?key=Tom`` (through the cache
peers) and a ``Scores.Get`` on each RPC server, and times each; the stack's RSS is read
as often. Each flood runs ``--seconds``, then its connections are closed; a probe round
follows once the stack settled. Loopback only; everything stops by itself.

Floods: A1 1,150 RPC connections that send only the Option line; A2 300 ``Scores.Get``
calls with 1 MiB keys whose replies are never read; A3 200 idle RPC connections and 20
half-sent 16 MiB frames; B 10,000 registry POSTs with 60 KB addresses; C1 one bridge
page calling ``fibLater`` with callbacks it never answers; C2 30 bridge sockets sending
16 MiB messages; D 16 HTTP connections with an endless trailer line.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import trio
import trio_websocket

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import pin, taskset  # noqa: E402
from geetrio import rpc  # noqa: E402
from geetrio.rpc.protocol import encode_message  # noqa: E402

OPTION = b'{"MagicNumber":3927900,"CodecType":"application/json"}\n'
PROBE_EVERY = 0.25
PROBE_TIMEOUT = 5.0


@dataclass
class Probe:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    rss: list[int] = field(default_factory=list)

    def record(self, kind: str, seconds: float | None) -> None:
        if seconds is None:
            self.failures[kind] = self.failures.get(kind, 0) + 1
        else:
            self.latencies.setdefault(kind, []).append(seconds)


def hostport(url: str) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else "tcp://" + url.split("@", 1)[1])
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


async def timed(kind: str, probe: Probe, action: Callable[[], Awaitable[None]]) -> None:
    started = time.perf_counter()
    try:
        with trio.fail_after(PROBE_TIMEOUT):
            await action()
    except Exception:
        probe.record(kind, None)
    else:
        probe.record(kind, time.perf_counter() - started)


async def http_get(host: str, port: int, target: str) -> None:
    stream = await trio.open_tcp_stream(host, port)
    async with stream:
        await stream.send_all(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        data = await stream.receive_some(65536)
        if not data.startswith(b"HTTP/1.1 200 "):
            raise RuntimeError(data[:60])


async def rpc_get(address: str) -> None:
    option = rpc.Option(connect_timeout=PROBE_TIMEOUT)
    async with rpc.xdial(address, option=option) as client:
        await client.call("Scores.Get", "Tom", timeout=PROBE_TIMEOUT)


async def probe_loop(urls: dict[str, str], pid: int, probe: Probe) -> None:
    process = psutil.Process(pid)
    web = hostport(urls["web"])
    rpcs = [urls["rpc-1"], urls["rpc-2"]]
    while True:
        probe.rss.append(process.memory_info().rss)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(timed, "web", probe, lambda: http_get(*web, "/"))
            nursery.start_soon(timed, "api", probe, lambda: http_get(*web, "/api?key=Tom"))
            for i, address in enumerate(rpcs, 1):
                nursery.start_soon(timed, f"rpc-{i}", probe, lambda a=address: rpc_get(a))
        await trio.sleep(PROBE_EVERY)


# ------------------------------------------------------------------ the floods


async def close_all(streams: list[trio.abc.Stream]) -> None:
    for stream in streams:
        await trio.aclose_forcefully(stream)


async def on_each(
    streams: list[trio.abc.Stream],
    send: Callable[[trio.abc.Stream], Awaitable[None]],
    seconds: float,
) -> None:
    """``send(stream)`` on every stream at once for at most ``seconds``, then close them."""
    with trio.move_on_after(seconds):
        async with trio.open_nursery() as nursery:
            for stream in streams:
                nursery.start_soon(send, stream)
    await close_all(streams)


async def connect_many(host: str, port: int, count: int, first: bytes) -> list[trio.abc.Stream]:
    streams: list[trio.abc.Stream] = []
    for _ in range(count):
        try:
            with trio.fail_after(1.0):  # past the stack's budget they wait in the backlog
                stream = await trio.open_tcp_stream(host, port)
                await stream.send_all(first)
            streams.append(stream)
        except (OSError, trio.TooSlowError, trio.BrokenResourceError):
            continue
    return streams


async def flood_a1(urls: dict[str, str], seconds: float) -> str:
    streams: list[trio.abc.Stream] = []
    with trio.move_on_after(seconds):
        streams = await connect_many(*hostport(urls["rpc-1"]), 1150, OPTION)
    await close_all(streams)
    return f"{len(streams)} connections opened"


async def flood_a2(urls: dict[str, str], seconds: float) -> str:
    host, port = hostport(urls["rpc-1"])
    key = json.dumps("k" * (1 << 20)).encode()
    header = b'{"ServiceMethod":"Scores.Get","Seq":%d,"Error":""}'
    streams = await connect_many(host, port, 10, OPTION)
    sent = 0

    async def send(stream: trio.abc.Stream) -> None:
        nonlocal sent
        for seq in range(30):
            await stream.send_all(encode_message(header % seq, key))
            sent += 1

    await on_each(streams, send, seconds)
    return f"{sent} of 300 calls sent (the rest held back by the server)"


async def flood_a3(urls: dict[str, str], seconds: float) -> str:
    host, port = hostport(urls["rpc-1"])
    idle = await connect_many(host, port, 200, OPTION)
    half = (16 << 20).to_bytes(4, "big") + b"x" * (8 << 20)
    frames = await connect_many(host, port, 20, OPTION)
    sent = 0
    with trio.move_on_after(seconds):
        for stream in frames:
            try:
                await stream.send_all(half)
                sent += 1
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass
        await trio.sleep_forever()
    await close_all(idle + frames)
    return f"{len(idle)} idle, {sent} half frames sent"


async def flood_b(urls: dict[str, str], seconds: float) -> str:
    host, port = hostport(urls["registry"])
    path = urlsplit(urls["registry"]).path
    statuses: dict[int, int] = {}
    addr = "tcp@" + "a" * 60_000 + ":1"
    request = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nX-Geerpc-Server: {addr}\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    with trio.move_on_after(seconds):
        stream = await trio.open_tcp_stream(host, port)
        async with stream:
            for _ in range(10_000):
                await stream.send_all(request)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = await stream.receive_some(65536)
                    if not chunk:
                        break
                    data += chunk
                status = int(data.split(b" ", 2)[1]) if data else 0
                statuses[status] = statuses.get(status, 0) + 1
                if not data:
                    stream = await trio.open_tcp_stream(host, port)
    listed = await rpc.RegistryDiscovery(urls["registry"], refresh_interval=0).get_all()
    return f"answers {statuses}; the registry still lists {len(listed)} servers"


async def flood_c1(urls: dict[str, str], seconds: float) -> str:
    host, port = hostport(urls["web"])
    refused = 0
    with trio.move_on_after(seconds):
        async with trio_websocket.open_websocket(
            host, port, "/_bridge/ws?page=flood", use_ssl=False
        ) as ws:
            number = 0

            async def read() -> None:
                nonlocal refused
                while True:
                    message = json.loads(await ws.get_message())
                    refused += message.get("op") == "fail"

            async with trio.open_nursery() as nursery:
                nursery.start_soon(read)
                while True:
                    number += 1
                    call = {"id": number, "op": "call", "name": "fibLater"}
                    await ws.send_message(json.dumps({**call, "args": [90, {"$callback": 1}]}))
                    if number % 100 == 0:
                        await trio.lowlevel.checkpoint()
    return f"{refused} calls refused as too many in flight"


async def flood_c2(urls: dict[str, str], seconds: float) -> str:
    host, port = hostport(urls["web"])
    head = (
        f"GET /_bridge/ws?page=x HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    frame = bytes([0x81, 0xFF]) + (16 << 20).to_bytes(8, "big") + bytes(4)
    streams = await connect_many(host, port, 30, head + frame)
    cut = 0

    async def send(stream: trio.abc.Stream) -> None:
        nonlocal cut
        try:
            for _ in range(256):
                await stream.send_all(b"x" * 65536)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            cut += 1

    await on_each(streams, send, seconds)
    return f"{cut} of {len(streams)} sockets cut off before 16 MiB"


async def flood_d(urls: dict[str, str], seconds: float) -> str:
    host, port = hostport(urls["web"])
    head = (
        f"POST /api HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\nX-Endless: "
    ).encode()
    streams = await connect_many(host, port, 16, head)
    cut = 0

    async def send(stream: trio.abc.Stream) -> None:
        nonlocal cut
        try:
            while True:
                await stream.send_all(b"a" * 4096)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            cut += 1

    await on_each(streams, send, seconds)
    return f"{cut} of {len(streams)} connections cut off"


FLOODS = {
    "A1": flood_a1,
    "A2": flood_a2,
    "A3": flood_a3,
    "B": flood_b,
    "C1": flood_c1,
    "C2": flood_c2,
    "D": flood_d,
}


def report(name: str, outcome: str, probe: Probe) -> None:
    mib = 1 << 20
    parts = []
    for kind in ("web", "api", "rpc-1", "rpc-2"):
        times = probe.latencies.get(kind, [])
        failed = probe.failures.get(kind, 0)
        worst = f"{max(times) * 1000:.0f} ms" if times else "-"
        parts.append(f"{kind} {len(times)} ok/{failed} failed, worst {worst}")
    rss = f"RSS before {probe.rss[0] / mib:.0f} MiB, peak {max(probe.rss) / mib:.0f} MiB"
    print(f"{name}: {outcome}\n    {'; '.join(parts)}\n    {rss}", flush=True)


async def run(urls: dict[str, str], pid: int, seconds: float, only: list[str]) -> None:
    for name in only:
        probe = Probe()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(probe_loop, urls, pid, probe)
            await trio.sleep(1.0)  # a baseline first
            outcome = await FLOODS[name](urls, seconds)
            await trio.sleep(2.0)  # and after
            nursery.cancel_scope.cancel()
        report(name, outcome, probe)
        after = psutil.Process(pid).memory_info().rss
        print(f"    RSS 2 s after: {after / (1 << 20):.0f} MiB", flush=True)


def limit_descriptors() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--only", default=",".join(FLOODS))
    args = parser.parse_args()
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    command = [sys.executable, str(ROOT / "servers" / "stack.py"), "--port", "0"]
    stack = subprocess.Popen(
        taskset(0, [*command, "--log-level", "ERROR"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        preexec_fn=limit_descriptors,
    )
    try:
        assert stack.stdout is not None
        urls: dict[str, str] = {}
        for line in stack.stdout:
            text = line.decode().strip()
            if text == "ready":
                break
            name, url = text.split(" ", 1)
            urls[name] = url
        pin(1)
        trio.run(run, urls, stack.pid, args.seconds, only)
        print(f"the stack is still running: {stack.poll() is None}")
    finally:
        stack.kill()
        stack.wait()


if __name__ == "__main__":
    main()
