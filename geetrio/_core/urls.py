"""The one parser of the ``http://host:port/path?query`` URLs geetrio is given (peers,
registries, etcd, the HTTP client): IPv6 hosts in brackets, the port 80 by default
(443 for ``https://``, where the caller takes it), malformed ports and hosts a
``ValueError`` saying what a URL must look like."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["HTTPURL", "authority", "parse_http_url"]


@dataclass(frozen=True, slots=True)
class HTTPURL:
    host: str  # without brackets
    port: int
    path: str  # "/" when empty
    query: str
    tls: bool = False  # https://

    @property
    def target(self) -> str:
        """The request target: the path and, if any, ``?query``."""
        return f"{self.path}?{self.query}" if self.query else self.path


def parse_http_url(
    url: str, what: str = "a URL", *, need_port: bool = False, https: bool = False
) -> HTTPURL:
    """``url`` split; ``ValueError`` unless it is ``http://host[:port][/path][?query]``
    (``https``: or ``https://...``; ``need_port``: the port must be given)."""
    schemes = ("http", "https") if https else ("http",)
    expected = f"{what} looks like {'http[s]' if https else 'http'}://host:port/path, not {url!r}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port out of range or not a number, a broken IPv6 literal
        raise ValueError(expected) from None
    if parts.scheme not in schemes or not parts.hostname or (need_port and port is None):
        raise ValueError(expected)
    tls = parts.scheme == "https"
    return HTTPURL(
        parts.hostname, port or (443 if tls else 80), parts.path or "/", parts.query, tls
    )


def authority(host: str, port: int) -> str:
    """``host:port`` for a Host header or a URL, an IPv6 host in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
