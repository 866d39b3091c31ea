"""purerpc (gRPC on trio) for bench_rpc.py, run by the purerpc venv's Python (purerpc
needs h2 < 4): ``server PORT`` serves ``Arith.Add``; ``client PORT SECONDS`` measures
it sequentially and with 100 in flight and prints the results as one JSON line.
"""

# No ``from __future__ import annotations``: purerpc reads the message classes from the
# handler's annotations at registration.
import json
import sys
import time
from pathlib import Path
from typing import Any

import purerpc
import trio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import messages

ArgsPB, ReplyPB = messages()
IN_FLIGHT = 100


def serve(port: int) -> None:
    service = purerpc.Service("Arith")

    async def add(message: ArgsPB) -> ReplyPB:  # type: ignore[valid-type]
        return ReplyPB(value=message.num1 + message.num2)

    service.rpc("Add")(add)
    server = purerpc.Server(port)
    server.add_service(service)
    server.serve(backend="trio")


def summarize(latencies: list[float], elapsed: float) -> dict[str, float]:
    latencies.sort()
    return {
        "calls": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99)] * 1000,
    }


async def measure(port: int, seconds: float) -> dict[str, Any]:
    signature = purerpc.RPCSignature(purerpc.Cardinality.UNARY_UNARY, ArgsPB, ReplyPB)
    async with purerpc.insecure_channel("127.0.0.1", port) as channel:
        add = purerpc.Client("Arith", channel).get_method_stub("Add", signature)

        async def load(tasks: int, duration: float) -> dict[str, float]:
            latencies: list[float] = []
            deadline = time.perf_counter() + duration

            async def worker(i: int) -> None:
                n = 0
                while (started := time.perf_counter()) < deadline:
                    reply = await add(ArgsPB(num1=i + n, num2=1))
                    assert reply.value == i + n + 1
                    latencies.append(time.perf_counter() - started)
                    n += 1

            began = time.perf_counter()
            async with trio.open_nursery() as nursery:
                for i in range(tasks):
                    nursery.start_soon(worker, i)
            return summarize(latencies, time.perf_counter() - began)

        await load(1, 0.3)
        return {"sequential": await load(1, seconds), "concurrent": await load(IN_FLIGHT, seconds)}


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(int(sys.argv[2]))
    else:
        print(json.dumps(trio.run(measure, int(sys.argv[2]), float(sys.argv[3]))))
