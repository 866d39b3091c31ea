"""Call a GeeRPC method and print the reply as JSON.

    python clients/rpc_call.py Arith.Add '{"num1": 1, "num2": 2}' --server tcp@127.0.0.1:9001
    python clients/rpc_call.py Arith.Add '{"num1": 1, "num2": 2}' \\
        --registry http://127.0.0.1:9999/_geerpc_/registry [--broadcast] [--times 4]

The argument is JSON. ``--server`` may be given several times (load balancing over
them); ``--registry`` discovers the servers instead. Exit status 1 on an RPC error
(printed as ``error: ...``). ``--tls-ca`` verifies ``tls@``/``https@`` servers and an
``https://`` registry against a private CA; ``--secret-file`` sends the cluster's secret
(to the registry, and with every call).
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path
from typing import Any

import trio

from geetrio import rpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "servers"))
from security import Security, add_arguments, from_args


async def main(args: argparse.Namespace, security: Security) -> int:
    try:
        argument: Any = json.loads(args.argument)
    except json.JSONDecodeError as exc:
        print(f"error: the argument is not JSON: {exc}")
        return 2
    discovery: rpc.Discovery
    if args.registry:
        discovery = rpc.RegistryDiscovery(
            args.registry, secret=security.secret, ssl_context=security.client_context()
        )
    elif args.server:
        discovery = rpc.MultiServersDiscovery(args.server)
    else:
        print("error: give --server ADDR or --registry URL")
        return 2
    mode = rpc.SelectMode.RANDOM if args.mode == "random" else rpc.SelectMode.ROUND_ROBIN
    try:
        tls = security.client_context(alpn=())
        interceptors = security.rpc_interceptors()
        async with rpc.XClient(discovery, mode, ssl_context=tls, interceptors=interceptors) as xc:
            for _ in range(args.times):
                if args.broadcast:
                    reply = await xc.broadcast(args.method, argument, timeout=args.timeout)
                else:
                    reply = await xc.call(args.method, argument, timeout=args.timeout)
                print(json.dumps(reply))
    except rpc.RPCError as exc:
        print(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("method", help="Service.Method")
    parser.add_argument("argument", nargs="?", default="null", help="the argument, as JSON")
    parser.add_argument("--server", action="append", default=[], help="protocol@addr")
    parser.add_argument("--registry", default="", help="the registry's URL")
    parser.add_argument("--broadcast", action="store_true", help="call every server")
    parser.add_argument("--mode", choices=["random", "round-robin"], default="round-robin")
    parser.add_argument("--times", type=int, default=1, help="how many calls")
    parser.add_argument("--timeout", type=float, default=5.0, help="per call, seconds")
    add_arguments(parser)
    arguments = parser.parse_args()
    sys.exit(trio.run(partial(main, arguments, from_args(arguments, serves=False))))
