"""The RPC servers under test, each started as its own process by bench_rpc.py:
``Arith.Add({num1, num2}) -> num1 + num2``.

    python benchmarks/rpc/servers.py geetrio PORT
    python benchmarks/rpc/servers.py grpc PORT       (grpc.aio, protobuf messages)

With ``BENCH_TLS_CERT`` set (a PEM file holding the key and the certificate chain),
both serve over TLS with it; with ``BENCH_RPC_TOKEN`` set, geetrio runs
``rpc.token_interceptor`` around every call (bench_rpc_secure.py).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Args:
    num1: int
    num2: int


def messages() -> tuple[Any, Any]:
    """``Args{int64 num1 = 1; int64 num2 = 2}`` and ``Reply{int64 value = 1}``, built
    at run time (no protoc)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    file = descriptor_pb2.FileDescriptorProto(name="arith.proto", package="arith", syntax="proto3")
    int64 = descriptor_pb2.FieldDescriptorProto.TYPE_INT64
    optional = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
    args = file.message_type.add(name="Args")
    args.field.add(name="num1", number=1, type=int64, label=optional)
    args.field.add(name="num2", number=2, type=int64, label=optional)
    reply = file.message_type.add(name="Reply")
    reply.field.add(name="value", number=1, type=int64, label=optional)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return (
        message_factory.GetMessageClass(pool.FindMessageTypeByName("arith.Args")),
        message_factory.GetMessageClass(pool.FindMessageTypeByName("arith.Reply")),
    )


def geetrio(port: int) -> None:
    import trio

    from geetrio import rpc
    from geetrio.http import server_ssl_context

    class Arith:
        async def Add(self, args: Args) -> int:
            return args.num1 + args.num2

    async def main() -> None:
        cert = os.environ.get("BENCH_TLS_CERT")
        token = os.environ.get("BENCH_RPC_TOKEN")
        server = rpc.Server(
            ssl_context=server_ssl_context(cert, alpn=()) if cert else None,
            interceptors=[rpc.token_interceptor([token])] if token else (),
        )
        server.register(Arith())
        await server.serve("127.0.0.1", port)

    trio.run(main)


def grpc_aio(port: int) -> None:
    import asyncio

    import grpc

    args_type, reply_type = messages()

    async def add(request: Any, context: Any) -> Any:
        return reply_type(value=request.num1 + request.num2)

    async def main() -> None:
        server = grpc.aio.server()
        handler = grpc.method_handlers_generic_handler(
            "Arith",
            {
                "Add": grpc.unary_unary_rpc_method_handler(
                    add,
                    request_deserializer=args_type.FromString,
                    response_serializer=reply_type.SerializeToString,
                )
            },
        )
        server.add_generic_rpc_handlers((handler,))
        cert = os.environ.get("BENCH_TLS_CERT")
        if cert:
            pem = Path(cert).read_bytes()  # noqa: ASYNC240 - once, before serving
            end = pem.index(b"-----\n", pem.index(b"-----END")) + len(b"-----\n")  # the key
            credentials = grpc.ssl_server_credentials([(pem[:end], pem[end:])])
            server.add_secure_port(f"127.0.0.1:{port}", credentials)
        else:
            server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await server.wait_for_termination()

    asyncio.run(main())


if __name__ == "__main__":
    name, port_text = sys.argv[1], sys.argv[2]
    {"geetrio": geetrio, "grpc": grpc_aio}[name](int(port_text))
