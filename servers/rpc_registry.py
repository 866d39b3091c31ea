"""A GeeRPC registry (day 7): servers post heartbeats, clients ask for the live ones.

    python servers/rpc_registry.py --port 9999 [--timeout 300]

Prints ``registry URL`` once it listens; ``GET URL`` answers the alive servers in the
``X-Geerpc-Servers`` header. SIGINT/SIGTERM stops it. With ``--tls-cert`` it serves
HTTPS; with ``--secret-file`` registering and listing need the secret; a ``--host``
beyond loopback needs both, or ``--insecure`` (``servers/security.py``). It answers
``/metrics`` (the live servers among them), ``/healthz`` and ``/readyz``.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

import trio

from geetrio import rpc
from geetrio.http import run_until_signal
from geetrio.web import Engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
import operating
from operating import operate
from security import Security, add_arguments, from_args


async def main(args: argparse.Namespace, security: Security, shutdown: trio.Event) -> None:
    app = Engine()
    secret = security.secret
    registry = rpc.Registry(timeout=args.timeout, secret=secret, open_listing=secret is None)
    registry.mount(app, args.path)
    operate(app, "registry")
    async with trio.open_nursery() as background:
        background.start_soon(registry.expire)
        async with trio.open_nursery() as servers:  # returns once the server drained
            config = security.http_config()
            serve = partial(app.serve, args.host, args.port, config=config, shutdown=shutdown)
            port = await servers.start(serve)
            sys.stdout.write(f"registry {security.scheme}://{args.host}:{port}{args.path}\n")
            sys.stdout.flush()
        background.cancel_scope.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999, help="0 picks a free port")
    parser.add_argument("--path", default=rpc.DEFAULT_REGISTRY_PATH)
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds a server stays without a heartbeat"
    )
    add_arguments(parser)
    operating.add_arguments(parser)
    arguments = parser.parse_args()
    security = from_args(arguments, arguments.host)
    operating.configure(arguments, "rpc-registry")
    trio.run(run_until_signal, partial(main, arguments, security))
