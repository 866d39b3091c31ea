"""Server interceptors and per-call metadata: the chain runs in order around every call,
sees its method, metadata and caller; a refusal is an error reply and the connection
goes on; a token interceptor guards a server; metadata survives the wire and a header
with hostile metadata ends the connection (a frame error)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import trio

from geetrio import rpc
from geetrio.rpc._codec import JSONCodec
from tests.rpc.test_calls import Args, Foo


async def serve(nursery: trio.Nursery, **kwargs: Any) -> str:
    server = rpc.Server(**kwargs)
    server.register(Foo())
    port = await nursery.start(server.serve, "127.0.0.1", 0)
    return f"127.0.0.1:{port}"


async def test_the_chain_runs_in_order_and_sees_each_call(nursery: trio.Nursery) -> None:
    seen: list[str] = []

    def recorder(name: str) -> rpc.Interceptor:
        async def record(call: rpc.CallInfo, proceed: Callable[[], Any]) -> Any:
            seen.append(f"{name}>{call.service_method}:{call.metadata.get('trace', '-')}")
            try:
                return await proceed()
            except rpc.RemoteError as exc:
                seen.append(f"{name} saw the failure: {exc}")
                raise

        return record

    address = await serve(nursery, interceptors=[recorder("outer"), recorder("inner")])
    async with rpc.dial("tcp", address) as client:
        assert await client.call("Foo.Sum", Args(1, 2), metadata={"trace": "t1"}) == 3
        with pytest.raises(rpc.RemoteError, match="boom"):
            await client.call("Foo.Boom", "boom")
    assert seen == [
        "outer>Foo.Sum:t1",
        "inner>Foo.Sum:t1",
        "outer>Foo.Boom:-",
        "inner>Foo.Boom:-",
        "inner saw the failure: boom",
        "outer saw the failure: boom",
    ]


async def test_a_token_interceptor_refuses_and_the_connection_goes_on(
    nursery: trio.Nursery,
) -> None:
    address = await serve(nursery, interceptors=[rpc.token_interceptor(["s3cret"])])
    async with rpc.dial("tcp", address) as client:
        with pytest.raises(rpc.RemoteError, match=r"refused Foo\.Sum: a valid token is required"):
            await client.call("Foo.Sum", Args(1, 2))
        with pytest.raises(rpc.RemoteError, match="refused"):
            await client.call("Foo.Sum", Args(1, 2), metadata={"authorization": "Bearer no"})
        token = {"authorization": "Bearer s3cret"}
        assert await client.call("Foo.Sum", Args(1, 2), metadata=token) == 3  # same client
    discovery = rpc.MultiServersDiscovery([f"tcp@{address}"])
    async with rpc.XClient(discovery) as xc:
        assert await xc.call("Foo.Sum", Args(2, 2), metadata=token) == 4


async def test_an_interceptor_that_raises_fails_its_call_only(nursery: trio.Nursery) -> None:
    async def broken(call: rpc.CallInfo, proceed: Callable[[], Any]) -> Any:
        raise KeyError("oops")

    address = await serve(nursery, interceptors=[broken])
    async with rpc.dial("tcp", address) as client:
        with pytest.raises(rpc.RemoteError, match="interceptor failed"):
            await client.call("Foo.Sum", Args(1, 2))
        with pytest.raises(rpc.RemoteError, match="interceptor failed"):
            await client.call("Foo.Sum", Args(1, 2))  # still connected


def test_metadata_round_trips_and_hostile_metadata_is_a_frame_error() -> None:
    codec = JSONCodec()
    header = rpc.Header("Foo.Sum", 7, "", {"trace": "t", "authorization": "Bearer x"})
    assert codec.decode_header(codec.encode_header(header)) == header
    plain = codec.encode_header(rpc.Header("Foo.Sum", 8))
    assert plain == b'{"ServiceMethod":"Foo.Sum","Seq":8,"Error":""}'  # as Go's, no field
    for metadata in (b"[1]", b'{"a":1}', b'{"k":"' + b"v" * 9000 + b'"}'):
        with pytest.raises(rpc.FrameError):
            codec.decode_header(b'{"ServiceMethod":"a.b","Seq":1,"Metadata":' + metadata + b"}")
    many = "{" + ",".join(f'"k{i}":""' for i in range(65)) + "}"
    with pytest.raises(rpc.FrameError):
        codec.decode_header(b'{"ServiceMethod":"a.b","Seq":1,"Metadata":' + many.encode() + b"}")


def test_a_token_interceptor_needs_tokens() -> None:
    with pytest.raises(ValueError):
        rpc.token_interceptor([])
    with pytest.raises(ValueError):
        rpc.token_interceptor([""])


async def test_client_interceptors_add_metadata_and_observe(nursery: trio.Nursery) -> None:
    address = await serve(nursery, interceptors=[rpc.token_interceptor(["s3cret"])])
    seen: list[str] = []

    async def with_token(call: rpc.ClientCall, proceed: Callable[[], Any]) -> Any:
        call.metadata["authorization"] = "Bearer s3cret"
        return await proceed()

    async def observe(call: rpc.ClientCall, proceed: Callable[[], Any]) -> Any:
        try:
            reply = await proceed()
        except rpc.RemoteError as exc:
            seen.append(f"{call.service_method} failed: {exc}")
            raise
        seen.append(f"{call.service_method} -> {reply}")
        return reply

    async with rpc.dial("tcp", address) as client:
        client.use(observe, with_token)
        assert await client.call("Foo.Sum", Args(1, 2)) == 3
        with pytest.raises(rpc.RemoteError):
            await client.call("Foo.Boom", "boom")
    discovery = rpc.MultiServersDiscovery([f"tcp@{address}"])
    async with rpc.XClient(discovery, interceptors=[with_token]) as xc:
        assert await xc.call("Foo.Sum", Args(2, 2)) == 4  # the token came from the chain
    assert seen == ["Foo.Sum -> 3", "Foo.Boom failed: boom"]
