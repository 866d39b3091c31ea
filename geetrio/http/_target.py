"""The request target: split into path and query, the path percent-decoded (sans-IO)."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes, urlsplit

from ._errors import ProtocolError

__all__ = ["decode_path", "split_target"]

_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def decode_path(raw_path: str) -> str:
    """Percent-decode a request path as UTF-8; ``ProtocolError(400)`` when the escapes
    are broken (``%zz``, a lone ``%``), the bytes are not UTF-8, or they hold a NUL
    (``%00``), which no file name or route should ever see."""
    if "%" not in raw_path and raw_path.isascii():
        return raw_path
    if _BAD_ESCAPE.search(raw_path):
        raise ProtocolError(400, "malformed percent-encoding in the request path")
    try:
        path = unquote_to_bytes(raw_path.encode("latin-1")).decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(400, "request path is not UTF-8 after percent-decoding") from None
    if "\x00" in path:
        raise ProtocolError(400, "request path contains a NUL byte (%00)")
    return path


def split_target(target: str) -> tuple[str, str]:
    """Split a request target into (raw path, raw query string)."""
    if target.startswith("/"):
        path, _, query = target.partition("?")
        return path, query
    if target.startswith(("http://", "https://")):  # absolute-form, as proxies send it
        parts = urlsplit(target)
        return parts.path or "/", parts.query
    return target, ""  # asterisk-form ("*") and authority-form (CONNECT host:port)
