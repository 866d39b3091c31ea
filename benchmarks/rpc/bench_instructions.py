"""Instructions per RPC call through geetrio's client and server, counted by callgrind:
a figure that does not move with the machine's load, for before/after comparisons (the
calls/s of bench_rpc.py swing by ±15% on a shared VM).

    python benchmarks/rpc/bench_instructions.py [--against /path/to/other/checkout]

The path: ``Client.call`` → frames → ``Server`` (connection, reader, handler task) →
reply → the client's reader, ``Arith.Add`` sequentially, over a trio memory stream pair
in one process (no sockets). Each checkout runs under ``valgrind --tool=callgrind`` with
1,000 and 5,000 calls; the difference over 4,000 is the cost of one call. Then the same
with a token: the server runs ``rpc.token_interceptor``, the client sends the token in
each call's metadata — the cost of the interceptor path (target: <= 10% more). And with
``rpc.metrics_interceptor`` on the server: the cost of RPC metrics (issue 20's target:
<= 5% more).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.common import instructions_main, per_call  # noqa: E402

DRIVER = """
import sys, gc
from dataclasses import dataclass
import trio, trio.testing
from geetrio import rpc

@dataclass
class Args:
    a: int
    b: int

class Arith:
    async def Add(self, args: Args) -> int:
        return args.a + args.b

TOKEN = "bench-token-0123456789abcdef"
KIND = sys.argv[2] if len(sys.argv) > 2 else ""  # "", "token" or "metrics"
INTERCEPTORS = []
if KIND == "token":
    INTERCEPTORS.append(rpc.token_interceptor([TOKEN]))
elif KIND == "metrics":
    INTERCEPTORS.append(rpc.metrics_interceptor("bench"))
METADATA = {"authorization": f"Bearer {TOKEN}"} if KIND == "token" else None

async def main(n):
    server = rpc.Server(interceptors=INTERCEPTORS)
    server.register(Arith())
    client_stream, server_stream = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(server.serve_stream, server_stream)
        async with rpc.open_client(client_stream) as client:
            for i in range(n):
                await client.call("Arith.Add", Args(i, 1), reply_type=int, metadata=METADATA)
        nursery.cancel_scope.cancel()

gc.disable()
trio.run(main, int(sys.argv[1]))
"""
FEW, MANY = 1_000, 5_000


def interceptor_cost(kind: str, what: str, target: float) -> None:
    """Instructions per call with the ``kind`` interceptor (the driver told by an extra
    argument), and the ratio to none."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        plain, variant = Path(folder) / "plain.py", Path(folder) / f"with_{kind}.py"
        plain.write_text(DRIVER)
        variant.write_text(f"import sys\nsys.argv.append({kind!r})\n{DRIVER}")
        without = per_call(ROOT, plain, FEW, MANY)
        with_it = per_call(ROOT, variant, FEW, MANY)
    ratio = with_it / without
    verdict = "meets" if ratio <= target else "MISSES"
    print(
        f"instructions per RPC call with {what}: {with_it:,.0f} "
        f"({ratio:.3f}x none: {verdict} the <= {target:.2f}x target)"
    )


if __name__ == "__main__":
    instructions_main(
        __doc__.splitlines()[0], DRIVER, FEW, MANY, "RPC call (client + server, memory streams)"
    )
    if shutil.which("valgrind") is not None and "--against" not in sys.argv:
        interceptor_cost("token", "a token interceptor", 1.10)
        interceptor_cost("metrics", "rpc.metrics_interceptor", 1.05)
