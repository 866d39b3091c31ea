"""geetrio and Go's standard ``net/rpc`` and ``net/rpc/jsonrpc`` (issue 21), with a Go
program of ours built in the test run (``go/netrpc``): Go's clients call a geetrio
server — the same port that serves GeeRPC's Option line tells a net/rpc or a jsonrpc
client by its first bytes — and a geetrio client (``codec_type=rpc.NET_RPC`` or
``rpc.JSONRPC``: no Option line) calls Go's servers, errors included."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from geetrio import rpc
from servers.loading import load_file
from tests.gob.golang import go_server

programs = load_file("servers/rpc_server.py", "rpc_server")  # its Arith and Args
Arith, Args = programs.Arith, programs.Args


@pytest.mark.parametrize("kind", ["client", "jsonclient"])
async def test_a_go_net_rpc_client_calls_a_geetrio_server(
    netrpc: Path, nursery: trio.Nursery, kind: str
) -> None:
    server = rpc.Server()
    server.register(Arith())
    port = await nursery.start(server.serve, "127.0.0.1", 0)
    done = await trio.run_process(
        [str(netrpc), kind, f"127.0.0.1:{port}", "20"], capture_stdout=True
    )
    lines = done.stdout.decode().splitlines()
    assert lines[:20] == [str(i + i * i) for i in range(20)]
    assert lines[20] == "error: rpc server: can't find method Div"
    async with rpc.dial("tcp", f"127.0.0.1:{port}") as client:  # and GeeRPC on the same port
        assert await client.call("Arith.Add", Args(2, 3), reply_type=int) == 5


@pytest.mark.parametrize(("mode", "codec"), [("server", rpc.NET_RPC), ("jsonserver", rpc.JSONRPC)])
async def test_a_geetrio_client_calls_a_go_net_rpc_server(
    netrpc: Path, nursery: trio.Nursery, mode: str, codec: str
) -> None:
    process, address = await go_server(nursery, netrpc, mode)
    option = rpc.Option(codec_type=codec)
    async with rpc.dial("tcp", address, option=option) as client:
        with trio.fail_after(5):
            sums = [await client.call("Arith.Add", Args(i, 7), reply_type=int) for i in range(20)]
            assert sums == [i + 7 for i in range(20)]
            try:
                await client.call("Arith.Div", Args(1, 0), reply_type=int)
            except rpc.RemoteError as exc:
                assert str(exc) == "divide by zero"
            else:
                raise AssertionError("Go's Arith.Div by zero answered")
            assert await client.call("Arith.Div", Args(9, 3), reply_type=int) == 3
    process.kill()
