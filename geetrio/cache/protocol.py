"""The peer wire format, sans-IO: protobuf messages and request paths.

``GET {peer}{base}{quote(group)}/{quote(key)}`` (percent-encoded with ``safe=""``);
a 200 carries a protobuf ``geecachepb.Response{bytes value = 1}``. The messages are
built at run time from a descriptor equal to ``geecachepb.proto`` (shipped beside
this file), so nothing needs ``protoc``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote_plus

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from ._errors import BadPeerPath, CorruptResponse

__all__ = [
    "BadPeerPath",
    "CorruptResponse",
    "Request",
    "Response",
    "decode_response",
    "encode_response",
    "peer_path",
    "split_peer_path",
]

MAX_KEY_BYTES = 4096


def _build_messages() -> tuple[Any, Any]:
    file = descriptor_pb2.FileDescriptorProto(
        name="geecachepb.proto", package="geecachepb", syntax="proto3"
    )
    string, bytes_ = (
        descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        descriptor_pb2.FieldDescriptorProto.TYPE_BYTES,
    )
    optional = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
    request = file.message_type.add(name="Request")
    request.field.add(name="group", number=1, type=string, label=optional)
    request.field.add(name="key", number=2, type=string, label=optional)
    response = file.message_type.add(name="Response")
    response.field.add(name="value", number=1, type=bytes_, label=optional)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return (
        message_factory.GetMessageClass(pool.FindMessageTypeByName("geecachepb.Request")),
        message_factory.GetMessageClass(pool.FindMessageTypeByName("geecachepb.Response")),
    )


Request, Response = _build_messages()


def encode_response(value: bytes) -> bytes:
    data: bytes = Response(value=value).SerializeToString()
    return data


def decode_response(data: bytes) -> bytes:
    try:
        message = Response.FromString(data)
    except DecodeError as exc:
        raise CorruptResponse(f"corrupt protobuf from peer: {exc}") from None
    value: bytes = message.value
    return value


def peer_path(base_path: str, group: str, key: str) -> str:
    """The request target for ``key`` in ``group``: any key round-trips."""
    return f"{base_path}{quote(group, safe='')}/{quote(key, safe='')}"


def split_peer_path(target: str, base_path: str) -> tuple[str, str]:
    """(group, key) from a raw (still percent-encoded) request target.

    The split happens before decoding, so keys with ``/`` anywhere (leading, trailing,
    doubled) survive. ``+`` decodes to a space, which also makes the Go GeeCache client
    (``url.QueryEscape``) interoperate.
    """
    path = target.partition("?")[0]
    if not path.startswith(base_path):
        raise BadPeerPath(f"path must start with {base_path!r}")
    group_part, slash, key_part = path[len(base_path) :].partition("/")
    if not slash:
        raise BadPeerPath("expected <base>/<group>/<key>")
    try:
        group = unquote_plus(group_part, errors="strict")
        key = unquote_plus(key_part, errors="strict")
    except UnicodeDecodeError:
        raise BadPeerPath("group and key must be UTF-8 after percent-decoding") from None
    if not group or not key:
        raise BadPeerPath("group and key must not be empty")
    if len(key.encode()) > MAX_KEY_BYTES:
        raise BadPeerPath(f"key longer than {MAX_KEY_BYTES} bytes")
    return group, key
