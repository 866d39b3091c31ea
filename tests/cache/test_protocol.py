from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import geetrio.cache
from geetrio.cache.protocol import (
    BadPeerPath,
    CorruptResponse,
    Request,
    decode_response,
    encode_response,
    peer_path,
    split_peer_path,
)

BASE = "/_geecache/"


def test_wire_bytes_are_protobuf_as_in_geecachepb() -> None:
    assert encode_response(b"abc") == b"\x0a\x03abc"  # field 1, length-delimited
    assert Request(group="g", key="k").SerializeToString() == b"\x0a\x01g\x12\x01k"
    assert decode_response(b"\x0a\x03630") == b"630"
    assert decode_response(b"") == b""


def test_the_proto_file_ships_with_the_package() -> None:
    proto = Path(geetrio.cache.__file__).parent / "geecachepb.proto"
    text = proto.read_text()
    assert "package geecachepb;" in text
    assert "bytes value = 1;" in text and "string key = 2;" in text


@pytest.mark.parametrize("garbage", [b"\xff\xff\xff", b"\x0a\x05ab", b"\x0a"])
def test_corrupt_responses_are_named(garbage: bytes) -> None:
    with pytest.raises(CorruptResponse):
        decode_response(garbage)


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=60))
def test_any_group_and_key_round_trip_through_the_path(group: str, key: str) -> None:
    assert split_peer_path(peer_path(BASE, group, key), BASE) == (group, key)


@pytest.mark.parametrize(
    "key", ["/leading", "trailing/", "dou//bled", "a b", "ключ", "+plus%", "?q=1#f"]
)
def test_awkward_keys(key: str) -> None:
    path = peer_path(BASE, "scores", key)
    assert "/" not in path[len(BASE) :].split("/", 1)[1]  # the key is one segment
    assert split_peer_path(path + "?ignored=1", BASE) == ("scores", key)


def test_go_clients_query_escaped_spaces_decode_too() -> None:
    assert split_peer_path("/_geecache/scores/Tom+Cat", BASE) == ("scores", "Tom Cat")


@pytest.mark.parametrize(
    "target",
    [
        "/other/scores/k",
        "/_geecache/scores",
        "/_geecache/scores/",
        "/_geecache//k",
        "/_geecache/scores/%ff",
        "/_geecache/scores/" + "k" * 5000,
    ],
)
def test_bad_paths(target: str) -> None:
    with pytest.raises(BadPeerPath):
        split_peer_path(target, BASE)
