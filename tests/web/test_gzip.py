"""``web.gzip()``: negotiated, above a size, never twice or on compressed types, and on
streams as they stream (each piece flushed, so events arrive one by one)."""

from __future__ import annotations

import json
import zlib

import pytest

from geetrio.web import Context, Engine, TestClient, gzip
from geetrio.web._gzip import accepts_gzip

BIG = {"items": [{"id": i, "name": f"item number {i}"} for i in range(200)]}


def app() -> Engine:
    engine = Engine()
    engine.use(gzip(minimum_size=500))

    @engine.get("/big")
    async def big(c: Context) -> None:
        c.json(200, BIG)

    @engine.get("/small")
    async def small(c: Context) -> None:
        c.string(200, "tiny")

    @engine.get("/png")
    async def png(c: Context) -> None:
        c.set_header("Content-Type", "image/png")
        c.data(200, b"\x89PNG" + b"\x00" * 2000)

    @engine.get("/encoded")
    async def encoded(c: Context) -> None:
        c.set_header("Content-Encoding", "br")
        c.data(200, b"x" * 2000)

    @engine.get("/stream")
    async def stream(c: Context) -> None:
        async def produce():  # type: ignore[no-untyped-def]
            for i in range(50):
                yield b"line %d of a streamed answer\n" % i

        c.stream(
            200,
            produce(),
            content_length=sum(len(b"line %d of a streamed answer\n" % i) for i in range(50)),
        )

    return engine


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("br, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("*", True),
        ("*;q=0, br", False),
        ("identity", False),
        ("", False),
        ("gzip;q=nonsense", False),
        ("x-gzip", True),
    ],
)
def test_accept_encoding(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


async def test_what_is_compressed_and_what_is_not() -> None:
    gz = {"Accept-Encoding": "gzip, br"}
    async with TestClient(app()) as client:
        big = await client.get("/big", headers=gz)
        assert (
            big.headers["content-encoding"] == "gzip" and big.headers["vary"] == "Accept-Encoding"
        )
        assert json.loads(zlib.decompress(big.body, wbits=31)) == BIG
        assert int(big.headers["content-length"]) == len(big.body) < len(json.dumps(BIG)) // 3
        plain = await client.get("/big")  # not asked for
        assert "content-encoding" not in plain.headers and plain.json() == BIG
        assert plain.headers["vary"] == "Accept-Encoding"
        assert "content-encoding" not in (await client.get("/small", headers=gz)).headers
        assert "content-encoding" not in (await client.get("/png", headers=gz)).headers
        twice = await client.get("/encoded", headers=gz)
        assert twice.headers["content-encoding"] == "br" and twice.body == b"x" * 2000
        head = await client.head("/big", headers=gz)
        assert "content-encoding" not in head.headers


async def test_a_stream_is_compressed_as_it_streams() -> None:
    async with TestClient(app()) as client:
        response = await client.get("/stream", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert "content-length" not in response.headers  # its length changed: chunked
    text = zlib.decompress(response.body, wbits=31)
    assert text.splitlines()[49] == b"line 49 of a streamed answer"


def test_each_piece_can_be_read_before_the_next() -> None:
    # Z_SYNC_FLUSH: what went out so far decompresses on its own (events as they come).
    import trio

    from geetrio.web._gzip import _compressed

    async def pieces() -> list[bytes]:
        async def source():  # type: ignore[no-untyped-def]
            yield b"data: one\n\n"
            yield b"data: two\n\n"

        return [piece async for piece in _compressed(source(), 6)]

    first, *_ = trio.run(pieces)
    reader = zlib.decompressobj(wbits=31)
    assert reader.decompress(first) == b"data: one\n\n"
