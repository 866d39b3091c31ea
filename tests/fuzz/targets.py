"""Fuzz targets: each takes arbitrary bytes, drives one boundary that reads untrusted
input, and raises only if the boundary misbehaves. A clean refusal (the boundary's own
error type) is fine; any other exception, or state growing past its limit, is a bug.

Shared by the hypothesis properties (``test_properties.py``, in ``make test``) and the
coverage-guided atheris runs (``fuzz/run.py``, ``make fuzz``)."""

from __future__ import annotations

import contextlib
from typing import Any

from geetrio import gob
from geetrio.bridge.protocol import BadMessage
from geetrio.bridge.protocol import decode as decode_bridge
from geetrio.cache._errors import BadPeerPath, CorruptResponse
from geetrio.cache.protocol import decode_response, split_peer_path
from geetrio.http._config import ServerConfig
from geetrio.http._errors import ClientError, ProtocolError
from geetrio.http._parser import RequestParser
from geetrio.http._response_parser import ResponseParser
from geetrio.rpc._codec import JSONCodec
from geetrio.rpc._errors import FrameError
from geetrio.rpc._jsonrpc import JSONRPCFraming
from geetrio.rpc.protocol import FrameDecoder, OptionReader

CONFIG = ServerConfig(max_header_bytes=4096, max_uri_bytes=1024, max_body_bytes=8192)
MAX_FRAME = 8192


def chunks(data: bytes) -> list[bytes]:
    """The input cut where its first byte says (how it arrives off a socket)."""
    if not data:
        return []
    size = data[0] % 64 + 1
    body = data[1:]
    return [body[i : i + size] for i in range(0, len(body), size)]


def http_request(data: bytes) -> None:
    """The server's request parser: requests within the limits, or ``ProtocolError``."""
    parser = RequestParser(CONFIG)
    try:
        for chunk in chunks(data):
            parser.feed(chunk)
            while (request := parser.next_request()) is not None:
                assert len(request.body) <= CONFIG.max_body_bytes
                assert (
                    request.method and request.path.startswith(("/", "*"))
                ) or request.method == "CONNECT"
                assert "\x00" not in request.path
            if parser.upgraded:
                parser.resume()
    except ProtocolError as exc:
        assert 400 <= exc.status < 600
    finally:
        parser.close()


def http_response(data: bytes) -> None:
    """The client's response parser (what a cache peer or registry sends back)."""
    parser = ResponseParser(max_body=8192, max_head=4096, pipelined=True)
    try:
        for chunk in chunks(data):
            parser.feed(chunk)
            for response in parser.pop_responses():
                assert len(response.body) <= 8192
        parser.eof()
    except ClientError:
        pass
    finally:
        parser.close()


def rpc_stream(data: bytes) -> None:
    """What an RPC server reads from a connection: the Option line, then frames, each
    header frame decoded by the JSON codec."""
    codec = JSONCodec()
    reader = OptionReader()
    decoder = FrameDecoder(MAX_FRAME)
    got = None
    try:
        pieces = chunks(data)
        while pieces and got is None:
            got = reader.feed(pieces.pop(0))
        if got is None:
            return
        rest = got[1]
        header = True
        for chunk in [rest, *pieces]:
            for frame in decoder.feed(chunk):
                assert len(frame) <= MAX_FRAME
                if header:
                    codec.decode_header(frame)
                else:
                    # a bad argument is answered with an error; the connection goes on
                    with contextlib.suppress(ValueError):
                        codec.decode_body(frame, object, "the argument")
                header = not header
            assert decoder.pending <= MAX_FRAME + 4 + len(chunk)
    except FrameError:
        pass


def cache_peer(data: bytes) -> None:
    """Both sides of the peer protocol: a request target the peer server splits, and a
    response body the client decodes as protobuf."""
    try:
        group, key = split_peer_path(data.decode("latin-1"), "/_geecache/")
        assert group and key
    except BadPeerPath:
        pass
    with contextlib.suppress(CorruptResponse):
        assert isinstance(decode_response(data), bytes)


def bridge_message(data: bytes) -> None:
    """A message from a browser page over the bridge's WebSocket."""
    for message in (data, data.decode("utf-8", errors="replace")):
        with contextlib.suppress(BadMessage):
            decode_bridge(message)


def gob_stream(data: bytes) -> None:
    """What a gob codec reads from a connection: type definitions and values of any
    type, decoded as plain values; ``GobError`` ends the stream."""
    decoder = gob.Decoder(max_message_bytes=MAX_FRAME, max_types=64)
    try:
        for chunk in chunks(data):
            decoder.feed(chunk)
            while decoder.next(Any) is not gob.NEED_MORE:
                pass
            assert decoder.buffered <= MAX_FRAME + 9
    except gob.GobError:
        pass


def jsonrpc_stream(data: bytes) -> None:
    """What a server reads from a net/rpc/jsonrpc client: JSON-RPC lines."""
    framing = JSONRPCFraming(MAX_FRAME)
    try:
        for chunk in chunks(data):
            for header, body, size in framing.feed(chunk):
                assert size <= MAX_FRAME + len(chunk) and isinstance(body, bytes)
                with contextlib.suppress(ValueError):  # a bad argument: an error reply
                    framing.decode_body(body, object, "the argument")
                framing.message(header, None)  # its answer can always be written
            assert len(framing._buffer) <= MAX_FRAME
    except FrameError:
        pass


TARGETS = {
    "http_request": http_request,
    "http_response": http_response,
    "rpc_stream": rpc_stream,
    "cache_peer": cache_peer,
    "bridge_message": bridge_message,
    "gob_stream": gob_stream,
    "jsonrpc_stream": jsonrpc_stream,
}
