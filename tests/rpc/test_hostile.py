"""Hostile input from a raw socket: what the SPEC says happens, and the server goes on
serving everybody else. Also a server killed mid-call."""

from __future__ import annotations

import json
import signal
import struct
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
import trio
import trio.testing

from geetrio import rpc
from geetrio.rpc.protocol import encode_frame, encode_message
from tests.rpc.test_calls import Args, Foo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def port(nursery: trio.Nursery) -> int:
    server = rpc.Server(max_frame_bytes=64 * 1024)
    server.register(Foo())
    return await nursery.start(server.serve, "127.0.0.1", 0)


async def read_until_eof(stream: trio.SocketStream) -> bytes:
    data = b""
    with trio.fail_after(5):
        while chunk := await stream.receive_some(65536):
            data += chunk
    return data


async def read_frames(stream: trio.SocketStream, count: int) -> list[bytes]:
    decoder = rpc.FrameDecoder()
    frames: list[bytes] = []
    with trio.fail_after(5):
        while len(frames) < count:
            data = await stream.receive_some(65536)
            assert data, "the server closed the connection"
            frames += decoder.feed(data)
    return frames


def request(method: str, seq: int, body: bytes) -> bytes:
    header = json.dumps({"ServiceMethod": method, "Seq": seq, "Error": ""}).encode()
    return encode_message(header, body)


async def others_still_served(port: int) -> None:
    async with rpc.dial("tcp", f"127.0.0.1:{port}") as client:
        assert await client.call("Foo.Sum", Args(1, 2)) == 3


@pytest.mark.parametrize(
    "opening",
    [
        b'{"MagicNumber": 1234, "CodecType": "application/json"}\n',  # wrong magic
        b'{"MagicNumber": 3927900, "CodecType": "application/x-protobuf"}\n',  # unknown codec
        b"x" * 10_000,  # an Option line with no newline
        b"not json at all\n",
        rpc.Option().encode() + struct.pack(">I", 10_000_000),  # a frame over the limit
        rpc.Option().encode() + encode_frame(b"not a header") + encode_frame(b"1"),
        rpc.Option().encode() + encode_frame(b"[" * 5000) + encode_frame(b"1"),
        rpc.Option().encode() + encode_frame(b'{"Seq": ' + b"1" * 5000 + b"}") + encode_frame(b"1"),
        b'{"MagicNumber": ' + b"1" * 5000 + b"}\n",
    ],
    ids=[
        "magic",
        "codec",
        "no-newline",
        "not-json",
        "oversized-frame",
        "bad-header",
        "deep-header",  # json raises RecursionError
        "huge-seq",  # json raises a plain ValueError (over 4300 digits)
        "huge-magic",
    ],
)
async def test_the_server_closes_the_connection(
    port: int, opening: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(opening)
    assert await read_until_eof(stream) == b""  # closed without a word
    await stream.aclose()
    await others_still_served(port)
    assert "internal error" not in caplog.text  # refused as bad input, not a crash of ours


async def test_a_client_resetting_mid_call_is_a_lost_connection_not_an_error(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(rpc.Option().encode() + request("Foo.Wait", 1, b'"forever"'))
    await trio.testing.wait_all_tasks_blocked()  # the call runs, the reader waits
    linger = struct.pack("ii", 1, 0)  # close with RST, as a killed client's kernel does
    stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    await stream.aclose()
    await others_still_served(port)
    assert "internal error" not in caplog.text


async def test_a_truncated_frame_then_close_harms_no_one(port: int) -> None:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(rpc.Option().encode() + request("Foo.Sum", 1, b"{}")[:-1])
    await stream.aclose()
    await others_still_served(port)


@pytest.mark.parametrize(
    ("method", "body", "message"),
    [
        ("Foo.Sum", b"{not json", "not valid JSON"),
        ("Foo.Missing", b'{"num1": 1, "num2": 2}', "can't find method Missing"),
        ("Nope.Sum", b"[" * 100 + b"]" * 100, "can't find service Nope"),
        ("Foo.Sum", b"[" * 5000, "nested too deeply"),
        ("Foo.Sum", b"1" * 5000, "not valid JSON"),
    ],
)
async def test_bad_content_in_good_frames_gets_an_error_header(
    port: int, method: str, body: bytes, message: str
) -> None:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    good = request("Foo.Sum", 2, b'{"num1": 20, "num2": 22}')
    await stream.send_all(rpc.Option().encode() + request(method, 1, body) + good)
    header1, body1, header2, body2 = await read_frames(stream, 4)
    first, second = json.loads(header1), json.loads(header2)
    replies = {first["Seq"]: (first, body1), second["Seq"]: (second, body2)}
    assert message in replies[1][0]["Error"] and replies[1][1] == b"null"
    assert replies[2][0]["Error"] == "" and replies[2][1] == b"42"  # the stream stayed in step
    await stream.aclose()


SERVER_PROCESS = """
import sys, trio
from geetrio import rpc
class Slow:
    async def Forever(self, x: int) -> int:
        await trio.sleep_forever()
async def main():
    server = rpc.Server()
    server.register(Slow())
    async with trio.open_nursery() as nursery:
        port = await nursery.start(server.serve, "127.0.0.1", 0)
        print(port, flush=True)
trio.run(main)
"""


async def test_a_server_killed_mid_call_fails_every_pending_call(nursery: trio.Nursery) -> None:
    process: trio.Process = await nursery.start(
        partial(
            trio.run_process,
            [sys.executable, "-c", SERVER_PROCESS],
            stdout=subprocess.PIPE,
            check=False,
        )
    )
    assert process.stdout is not None
    line = b""
    while not line.endswith(b"\n"):
        line += await process.stdout.receive_some(64)
    async with rpc.dial("tcp", f"127.0.0.1:{int(line)}") as client:
        errors: list[Exception] = []

        async def pending(i: int) -> None:
            with pytest.raises(rpc.ShutdownError) as info:
                await client.call("Slow.Forever", i)
            errors.append(info.value)

        with trio.fail_after(5):  # promptly, not at some timeout
            async with trio.open_nursery() as calls:
                for i in range(20):
                    calls.start_soon(pending, i)
                await trio.testing.wait_all_tasks_blocked()
                process.send_signal(signal.SIGKILL)
        assert len(errors) == 20
        with pytest.raises(rpc.ShutdownError):  # and later calls fail at once
            await client.call("Slow.Forever", 1)
