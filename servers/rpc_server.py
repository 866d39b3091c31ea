"""A GeeRPC server offering ``Arith`` (``Add``, ``Mul``, ``Sleep``) and ``Node.Address``
(which server answered), optionally registered with a registry through heartbeats.

    python servers/rpc_server.py --port 9001 --registry http://127.0.0.1:9999/_geerpc_/registry
    python servers/rpc_server.py --port 9001 --etcd http://127.0.0.1:2379

Prints ``rpc tcp@HOST:PORT`` once it listens (the address it registers). With
``--http-port`` it also serves RPC over HTTP CONNECT and ``/debug/geerpc`` there, and
``/metrics``, ``/healthz`` and ``/readyz`` (ready while the registry or etcd answers).
SIGINT/SIGTERM stops it: no new connections, in-flight calls get ``--grace`` seconds.
With ``--tls-cert`` it serves ``tls@`` (and HTTPS); with ``--secret-file`` calls need the
secret as a token, heartbeats carry it; a ``--host`` beyond loopback needs both, or
``--insecure`` (``servers/security.py``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import trio

from geetrio import rpc
from geetrio.http import run_until_signal
from geetrio.web import Engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
import operating
from operating import etcd_check, operate, registry_check
from security import Security, add_arguments, from_args


@dataclass
class Args:
    num1: int
    num2: int


class Arith:
    """``Arith.Add({"num1": 1, "num2": 2})`` -> 3, ``Arith.Mul`` likewise,
    ``Arith.Sleep(seconds)`` -> the seconds slept."""

    async def Add(self, args: Args) -> int:
        return args.num1 + args.num2

    async def Mul(self, args: Args) -> int:
        return args.num1 * args.num2

    async def Sleep(self, seconds: float) -> float:
        await trio.sleep(seconds)
        return seconds


class Node:
    """``Node.Address(0)`` -> this server's address (``tcp@host:port``): with a load
    balancer in front, which server answered."""

    def __init__(self) -> None:
        self.address = ""

    async def Address(self, _: int) -> str:
        return self.address


async def main(args: argparse.Namespace, security: Security, shutdown: trio.Event) -> None:
    server = security.rpc_server("rpc")
    server.register(Arith())
    node = Node()
    server.register(node)
    async with trio.open_nursery() as background:  # the heartbeats
        async with trio.open_nursery() as servers:  # both return once drained
            serve = partial(server.serve, args.host, args.port, shutdown=shutdown, grace=args.grace)
            port = await servers.start(serve)
            address = node.address = f"{security.network}@{args.host}:{port}"
            if args.http_port is not None:
                app = Engine()
                server.mount(app)
                checks = {}
                if args.registry:
                    checks["registry"] = registry_check(args.registry, security)
                if args.etcd:
                    checks["etcd"] = etcd_check(args.etcd, security)
                operate(app, "rpc-http", checks)
                config = security.http_config()
                serve_http = partial(
                    app.serve, args.host, args.http_port, config=config, shutdown=shutdown
                )
                http = await servers.start(serve_http)
                via = "https" if security.tls else "http"
                sys.stdout.write(f"http {via}@{args.host}:{http}\n")
            if args.registry:
                beat = partial(
                    rpc.heartbeat, secret=security.secret, ssl_context=security.client_context()
                )
                await background.start(beat, args.registry, address, args.interval)
            if args.etcd:
                register = partial(rpc.etcd_register, args.etcd, address, ttl=args.etcd_ttl)
                await background.start(register)
            sys.stdout.write(f"rpc {address}\n")
            sys.stdout.flush()
        background.cancel_scope.cancel(reason="shutdown")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--http-port", type=int, default=None, help="also serve over HTTP")
    parser.add_argument("--registry", default="", help="registry URL to send heartbeats to")
    parser.add_argument("--interval", type=float, default=None, help="heartbeat interval, s")
    parser.add_argument("--grace", type=float, default=5.0, help="seconds in-flight calls get")
    parser.add_argument("--etcd", default="", help="register in this etcd (http://host:2379)")
    parser.add_argument("--etcd-ttl", type=int, default=10, help="the etcd lease's TTL, s")
    add_arguments(parser)
    operating.add_arguments(parser)
    arguments = parser.parse_args()
    security = from_args(arguments, arguments.host)
    operating.configure(arguments, "rpc-server")
    trio.run(run_until_signal, partial(main, arguments, security))
