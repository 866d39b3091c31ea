"""geetrio and the series' Go GeeRPC on one wire (issue 21), with a Go program of ours
written from the series (``go/geerpc``: a JSON Option, then gob headers and bodies):
its client calls a geetrio server, a geetrio client calls its server — whose
``json.Decoder`` reads ahead past the Option, which our client's padded Option line
survives, connection after connection — and its client calls ``Scores.Get`` on the
stack."""

from __future__ import annotations

from pathlib import Path

import trio

from geetrio import rpc
from servers.loading import load_file
from tests.gob.golang import go_server
from tests.test_stack import stack

programs = load_file("servers/rpc_server.py", "rpc_server")  # its Arith and Args
Arith, Args = programs.Arith, programs.Args


async def test_a_go_geerpc_client_calls_a_geetrio_server(
    geerpc: Path, nursery: trio.Nursery
) -> None:
    server = rpc.Server()
    server.register(Arith())
    port = await nursery.start(server.serve, "127.0.0.1", 0)
    done = await trio.run_process(
        [str(geerpc), "client", f"127.0.0.1:{port}", "20"], capture_stdout=True
    )
    assert done.stdout.decode().split() == [str(i + i * i) for i in range(20)]


async def test_a_geetrio_client_calls_the_go_geerpc_server_every_time(
    geerpc: Path, nursery: trio.Nursery
) -> None:
    process, address = await go_server(nursery, geerpc)
    option = rpc.Option(codec_type=rpc.GOB, connect_timeout=5.0)
    for i in range(50):  # a new connection each: the Option and a call right behind it
        async with rpc.dial("tcp", address, option=option) as client:
            with trio.fail_after(5):
                assert await client.call("Arith.Add", Args(i, 1), reply_type=int) == i + 1
    async with rpc.dial("tcp", address, option=option) as client:
        with trio.fail_after(5):
            results = [
                await client.call("Arith.Add", Args(i, i), reply_type=int) for i in range(20)
            ]
        assert results == [2 * i for i in range(20)]
        try:
            await client.call("Nope.Nothing", Args(1, 1), reply_type=int)
        except rpc.RemoteError as exc:
            assert "can't find service Nope.Nothing" in str(exc)
        else:
            raise AssertionError("the Go server answered an unknown method")
    process.kill()


async def test_a_go_geerpc_client_calls_scores_get_on_the_stack(geerpc: Path) -> None:
    async with stack() as (process, urls, _):
        address = urls["rpc-1"].removeprefix("tcp@")
        done = await trio.run_process([str(geerpc), "get", address, "Tom"], capture_stdout=True)
        assert done.stdout.decode().strip() == "630"
        process.kill()
