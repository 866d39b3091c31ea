"""``jsonrpc``: Go's ``net/rpc/jsonrpc`` — JSON-RPC 1.0, one JSON object a line, no
Option line — sans-IO, as a framing (``rpc/_framing.py``).

A request is ``{"method": "Arith.Add", "params": [<argument>], "id": <any>}`` and its
answer ``{"id": <the same>, "result": <reply>, "error": null}`` (``"error": "text"``
and a null result for a failure). A server tells a jsonrpc client by its first bytes,
``{"method"`` (what Go's client sends first); its ids may be any JSON value and are
echoed back as they came. Bodies are geetrio's JSON (``JSONCodec``): Go matches field
names case-insensitively, and so does geetrio. Lines are bounded by the connection's
frame limit.
"""

from __future__ import annotations

import json
from typing import Any

from .._core.netjson import JSONError, loads
from ._codec import JSONCodec
from ._errors import FrameError
from ._framing import BodyTooLarge
from .protocol import Header

__all__ = ["JSONRPC", "JSONRPCCodec", "JSONRPCFraming", "looks_like_jsonrpc"]

JSONRPC = "jsonrpc"
_BODIES = JSONCodec()
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def looks_like_jsonrpc(data: bytes | bytearray) -> bool:
    """Whether a connection starts as Go's jsonrpc client starts one."""
    return bytes(data[:9]) == b'{"method"'


class JSONRPCCodec:
    name = JSONRPC

    def framing(self, max_frame_bytes: int) -> JSONRPCFraming:
        return JSONRPCFraming(max_frame_bytes)


class JSONRPCFraming:
    """Both sides' messages: requests it reads get seqs of its own, whose replies carry
    the request's own id back; requests it writes use the seq as their id."""

    droppable = True  # each line stands alone

    def __init__(self, max_frame_bytes: int) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()
        self._ids: dict[int, str] = {}  # our seq of a request read -> its id, as JSON
        self._next_seq = 0

    @property
    def pending(self) -> bool:
        return bool(self._buffer)

    def message(self, header: Header, body: Any) -> bytes:
        data = _BODIES.encode_body(body).decode()
        if len(data) > self.max_frame_bytes:
            raise BodyTooLarge(f"the body is over {self.max_frame_bytes} bytes")
        request_id = self._ids.pop(header.seq, None)
        if request_id is None:  # a request of ours
            method = _ENCODER.encode(header.service_method)
            return f'{{"method":{method},"params":[{data}],"id":{header.seq}}}\n'.encode()
        if header.error:
            error = _ENCODER.encode(header.error)
            return f'{{"id":{request_id},"result":null,"error":{error}}}\n'.encode()
        return f'{{"id":{request_id},"result":{data},"error":null}}\n'.encode()

    def feed(self, data: bytes | bytearray) -> list[tuple[Header, Any, int]]:
        buffer = self._buffer
        buffer += data
        found = []
        while (end := buffer.find(b"\n")) >= 0:
            line = bytes(buffer[:end])
            del buffer[: end + 1]
            if line.strip():
                found.append(self._one(line))
        if len(buffer) > self.max_frame_bytes:
            raise FrameError(f"a JSON-RPC line over {self.max_frame_bytes} bytes")
        return found

    def _one(self, line: bytes) -> tuple[Header, Any, int]:
        try:
            value = loads(line)
        except JSONError as exc:
            raise FrameError(f"a JSON-RPC line that is not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise FrameError("a JSON-RPC line that is not an object")
        if "method" in value:  # a request
            method, params = value.get("method"), value.get("params")
            if not isinstance(method, str) or not isinstance(params, list) or len(params) > 1:
                raise FrameError("a JSON-RPC request needs a method and one param")
            self._next_seq += 1
            self._ids[self._next_seq] = _ENCODER.encode(value.get("id"))
            body = _ENCODER.encode(params[0] if params else None).encode()
            return Header(method, self._next_seq, ""), body, len(line)
        seq, error = value.get("id"), value.get("error")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise FrameError("a JSON-RPC response whose id is not one of ours")
        if error is not None and not isinstance(error, str):
            error = _ENCODER.encode(error)  # JSON-RPC 1.0 allows any error object
        body = _ENCODER.encode(value.get("result")).encode()
        return Header("", seq, error or ""), body, len(line)

    def decode_body(self, body: Any, annotation: Any, what: str) -> Any:
        return _BODIES.decode_body(body, annotation, what)
