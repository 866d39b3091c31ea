"""The wire format without sockets: the Option line, frames, headers, typed bodies."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geetrio.rpc import FrameDecoder, FrameError, Header, JSONCodec, Option, OptionReader
from geetrio.rpc._convert import ConversionError
from geetrio.rpc.protocol import MAGIC_NUMBER, encode_frame, encode_message


def test_the_option_line_is_what_go_encodes() -> None:
    line = Option(connect_timeout=10.0, handle_timeout=1.5).encode()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {
        "MagicNumber": 3927900,
        "CodecType": "application/json",
        "ConnectTimeout": 10_000_000_000,
        "HandleTimeout": 1_500_000_000,
    }
    assert MAGIC_NUMBER == 0x3BEF5C == 3927900


def test_the_option_reader_keeps_every_byte_after_the_newline() -> None:
    data = Option(handle_timeout=2.0).encode() + encode_message(b'{"Seq":1}', b"[1,2]")
    for split in range(len(data) + 1):  # at every byte boundary
        reader = OptionReader()
        got = reader.feed(data[:split])
        later = data[split:]
        if got is None:
            got, later = reader.feed(later), b""
        assert got is not None
        option, rest = got
        assert option.handle_timeout == 2.0
        assert rest + later == data[data.index(b"\n") + 1 :]  # not a byte lost


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"not json\n", "not JSON"),
        (b"[1, 2]\n", "not a JSON object"),
        (b'{"CodecType": "application/json"}\n', "MagicNumber"),
        (b'{"MagicNumber": 1, "HandleTimeout": -5}\n', "HandleTimeout"),
        (b'{"MagicNumber": 1, "CodecType": 7}\n', "CodecType"),
        (b"x" * 5000, "no newline"),
        (b"{" + b" " * 5000 + b"}\n", "longer"),
    ],
)
def test_a_bad_option_line_is_a_frame_error(line: bytes, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        OptionReader().feed(line)


def test_unknown_option_fields_are_ignored() -> None:
    got = OptionReader().feed(b'{"MagicNumber": 3927900, "Extra": true}\n')
    assert got is not None and got[0] == Option(connect_timeout=0.0)


def test_frames_come_out_whole_whatever_the_split() -> None:
    frames = [b"", b"a", b"hello" * 100, bytes(range(256))]
    data = b"".join(encode_frame(f) for f in frames)
    for split in range(len(data) + 1):
        decoder = FrameDecoder()
        got = decoder.feed(data[:split]) + decoder.feed(data[split:])
        assert got == frames and decoder.pending == 0


def test_an_oversized_frame_length_is_refused_before_buffering() -> None:
    decoder = FrameDecoder(max_frame_bytes=1024)
    with pytest.raises(FrameError, match="over the 1024-byte limit"):
        decoder.feed(struct.pack(">I", 1025))
    assert FrameDecoder(1024).feed(encode_frame(b"x" * 1024)) == [b"x" * 1024]


def test_a_truncated_frame_waits() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(encode_frame(b"hello")[:-1]) == []
    assert decoder.pending == 8


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.integers(min_value=1, max_value=64))
def test_any_bytes_give_frames_or_a_frame_error(data: bytes, chunk: int) -> None:
    decoder = FrameDecoder(max_frame_bytes=4096)
    try:
        for i in range(0, len(data), chunk):
            for frame in decoder.feed(data[i : i + chunk]):
                assert len(frame) <= 4096
    except FrameError:
        pass
    assert decoder.pending <= 4096 + 4 + chunk


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=6000))
def test_any_bytes_give_an_option_or_a_frame_error(data: bytes) -> None:
    try:
        got = OptionReader().feed(data)
    except FrameError:
        return
    if got is not None:
        assert isinstance(got[0], Option)


def test_headers_round_trip_and_garbage_is_a_frame_error() -> None:
    codec = JSONCodec()
    header = Header("Foo.Sum", 7, "")
    encoded = codec.encode_header(header)
    assert json.loads(encoded) == {"ServiceMethod": "Foo.Sum", "Seq": 7, "Error": ""}
    assert codec.decode_header(encoded) == header
    for bad in (b"\xff", b"[]", b'{"Seq": "1"}', b'{"Seq": -1}', b'{"Seq": 1, "Error": 3}'):
        with pytest.raises(FrameError):
            codec.decode_header(bad)


def test_json_bodies_refuse_nan_and_garbage() -> None:
    codec = JSONCodec()
    with pytest.raises(ValueError):
        codec.encode_body(float("nan"))
    with pytest.raises(ValueError, match="not valid JSON"):
        codec.decode_body(b"{", int, "argument")
    with pytest.raises(ConversionError):
        codec.encode_body(object())
