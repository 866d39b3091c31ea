"""Cookies, sans-IO: reading a ``Cookie`` header, writing ``Set-Cookie`` with every
attribute (RFC 6265bis), and signing values so a client cannot forge or alter them.

Reading is lenient, as browsers are: a pair that is not ``name=value`` is skipped, not an
error; the first of two cookies of one name wins (browsers send the most specific path
first); at most ``MAX_COOKIES`` are read. Writing is strict: a name or value a browser
would cut or misread is a ``ValueError`` at once, in the handler that set it.

Signing (``Signer``): ``value.timestamp.mac``, the MAC an HMAC-SHA256 of the cookie's
*name*, value and timestamp — a value signed for one cookie does not verify as another.
Several keys rotate: the first signs, any verifies. Standard library only (``hmac``); a
library (itsdangerous) would add a dependency for the same thirty lines.

``Session``: the dict ``web.sessions`` keeps in such a cookie, knowing whether it changed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

__all__ = ["MAX_COOKIES", "Session", "Signer", "parse_cookies", "set_cookie_header"]

MAX_COOKIES = 100  # read from one Cookie header (browsers send ~50 per domain at most)

_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")  # an RFC 9110 token
# cookie-octet: printable ASCII but space, DQUOTE, comma, semicolon and backslash
_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*\Z")
_ATTRIBUTE = re.compile(r"[\x21-\x3a\x3c-\x7e]+\Z")  # a path or domain: no ";", CTLs, spaces
SAME_SITE = ("Strict", "Lax", "None")


def parse_cookies(header: str) -> dict[str, str]:
    """The cookies of a ``Cookie`` header value (``a=1; b="2"`` → ``{"a": "1", "b": "2"}``)."""
    cookies: dict[str, str] = {}
    for count, pair in enumerate(header.split(";")):
        if count >= MAX_COOKIES:
            break
        name, sep, value = pair.strip().partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not _NAME.match(name) or name in cookies:
            continue
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if _VALUE.match(value):
            cookies[name] = value
    return cookies


def set_cookie_header(
    name: str,
    value: str,
    *,
    max_age: int | None = None,
    expires: datetime | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    http_only: bool = True,
    same_site: str | None = "Lax",
    partitioned: bool = False,
) -> str:
    """A ``Set-Cookie`` value. ``ValueError`` for a name or value a browser would
    misread, an unknown ``same_site``, ``SameSite=None`` without ``secure`` (browsers
    drop it), or ``partitioned`` without ``secure``."""
    if not _NAME.match(name):
        raise ValueError(f"invalid cookie name {name!r}")
    if not _VALUE.match(value):
        raise ValueError(
            f"cookie {name!r}: the value may not hold spaces, quotes, commas, semicolons, "
            "backslashes or control characters (encode it first)"
        )
    parts = [f"{name}={value}"]
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    if expires is not None:
        when = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
        parts.append(f"Expires={format_datetime(when.astimezone(UTC), usegmt=True)}")
    for attribute, text in (("Path", path), ("Domain", domain)):
        if text is not None:
            if not _ATTRIBUTE.match(text):
                raise ValueError(f"cookie {name!r}: invalid {attribute} {text!r}")
            parts.append(f"{attribute}={text}")
    if secure:
        parts.append("Secure")
    if http_only:
        parts.append("HttpOnly")
    if same_site is not None:
        if same_site.capitalize() not in SAME_SITE:
            raise ValueError(f"cookie {name!r}: SameSite must be one of {SAME_SITE}")
        if same_site.capitalize() == "None" and not secure:
            raise ValueError(f"cookie {name!r}: SameSite=None needs secure=True")
        parts.append(f"SameSite={same_site.capitalize()}")
    if partitioned:
        if not secure:
            raise ValueError(f"cookie {name!r}: Partitioned needs secure=True")
        parts.append("Partitioned")
    return "; ".join(parts)


class Signer:
    """Sign cookie values with HMAC-SHA256: ``signer.sign(name, value)`` and
    ``signer.unsign(name, signed, max_age=None)`` (None when forged, altered, signed for
    another cookie or older than ``max_age`` seconds). ``keys``: the first signs, all
    verify (rotate by putting a new key first). Values must be cookie-safe already."""

    def __init__(self, keys: Iterable[str | bytes]) -> None:
        self._keys = [k.encode() if isinstance(k, str) else bytes(k) for k in keys]
        if not self._keys:
            raise ValueError("Signer needs at least one key")
        if any(len(key) < 16 for key in self._keys):
            raise ValueError("signing keys must be at least 16 bytes")

    def _mac(self, key: bytes, name: str, payload: str) -> str:
        digest = hmac.new(key, f"{name}={payload}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign(self, name: str, value: str, *, now: float | None = None) -> str:
        stamp = int(time.time() if now is None else now)
        payload = f"{value}.{stamp:x}"
        return f"{payload}.{self._mac(self._keys[0], name, payload)}"

    def unsign(
        self, name: str, signed: str, *, max_age: float | None = None, now: float | None = None
    ) -> str | None:
        payload, _, mac = signed.rpartition(".")
        value, _, stamp_text = payload.rpartition(".")
        if not payload or not mac or not stamp_text:
            return None
        matched = False
        for key in self._keys:  # every key, no early exit
            matched |= hmac.compare_digest(mac, self._mac(key, name, payload))
        if not matched:
            return None
        try:
            stamp = int(stamp_text, 16)
        except ValueError:
            return None
        age = (time.time() if now is None else now) - stamp
        if max_age is not None and not -60 <= age <= max_age:  # a minute of clock skew
            return None
        return value


class Session(dict[str, Any]):
    """A dict that knows whether it changed (``modified``); ``fresh``: no valid cookie
    came with the request."""

    def __init__(self, data: dict[str, Any], *, fresh: bool) -> None:
        super().__init__(data)
        self.fresh = fresh
        self.modified = False

    def __setitem__(self, key: str, value: Any) -> None:
        self.modified = True
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.modified = True
        super().__delitem__(key)

    def clear(self) -> None:
        self.modified = True
        super().clear()

    def pop(self, key: str, *default: Any) -> Any:
        self.modified = True
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        self.modified = True
        return super().popitem()

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self.modified = True
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.modified = True
        super().update(*args, **kwargs)
