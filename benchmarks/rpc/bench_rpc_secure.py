"""Secure RPC benchmark: geetrio.rpc over TLS vs grpc.aio ``secure_channel`` (the same
certificate), and what a token interceptor costs geetrio (token vs none, plain TCP).

Set up as bench_rpc.py (server on CPU 0, client on CPU 1, one loopback connection,
``Arith.Add`` calls/s sequentially and with 100 in flight, interleaved rounds, medians).
Targets: TLS >= 2x grpc.aio sequentially and >= 5x with 100 in flight; the token
interceptor at most 10% slower than none (ratio >= 0.90).

    python benchmarks/rpc/bench_rpc_secure.py [--seconds 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from benchmarks.common import interleaved, pin  # noqa: E402
from benchmarks.rpc.bench_rpc import (  # noqa: E402
    IN_FLIGHT,
    Secure,
    bench_geetrio,
    bench_grpc,
    print_ratio,
    tabulate,
)

LOADS = ("sequential", f"{IN_FLIGHT} in flight")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    args = parser.parse_args()
    pin(1)
    import trustme

    with tempfile.TemporaryDirectory() as folder:
        ca = trustme.CA()
        cert, ca_file = Path(folder) / "server.pem", Path(folder) / "ca.pem"
        ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(cert))
        ca.cert_pem.write_to_path(str(ca_file))
        tls = Secure(cert=cert, ca=ca_file)
        token = Secure(token="bench-token-0123456789abcdef")
        runs = interleaved(
            [
                ("geetrio tls", lambda: bench_geetrio(args.seconds, tls)),
                ("grpc.aio tls", lambda: bench_grpc(args.seconds, tls)),
                ("geetrio", lambda: bench_geetrio(args.seconds)),
                ("geetrio token", lambda: bench_geetrio(args.seconds, token)),
            ],
            args.rounds,
        )
    print(
        f"Secure RPC benchmark: Arith.Add over one loopback connection, server on CPU 0, "
        f"client on CPU 1, {args.seconds:.0f} s per measurement, {args.rounds} interleaved "
        f"rounds, medians:"
    )
    table = tabulate(runs)
    for load, target in zip(LOADS, (2.0, 5.0), strict=True):
        print_ratio(table, "geetrio tls", "grpc.aio tls", load, target)
    for load in LOADS:
        print_ratio(table, "geetrio token", "geetrio", load, 0.90)


if __name__ == "__main__":
    main()
