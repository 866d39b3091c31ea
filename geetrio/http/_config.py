"""Server limits and timeouts."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from .._core.budget import default_budget

__all__ = ["ServerConfig", "default_max_connections"]


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Limits and timeouts of the HTTP server; every field has a safe default.

    - ``max_header_bytes``: request line + headers; more -> 431 and close.
    - ``max_uri_bytes``: request target alone; more -> 414 and close (checked first).
    - ``max_body_bytes``: request body (Content-Length or chunked); more -> 413 and close.
    - ``header_timeout``: seconds from a request's first byte until its headers are
      complete (slowloris guard), and the longest pause allowed while a body arrives;
      exceeded -> 408 and close.
    - ``body_timeout``: seconds a whole request body may take to arrive once its
      head is complete, however steadily it trickles in; exceeded -> 408 and close.
    - ``keep_alive_timeout``: seconds an idle connection waits for its next request.
    - ``send_timeout``: seconds one send may wait for a client that does not read.
    - ``max_connections``: open connections at once; further clients wait in the
      listen backlog until one closes. Every server of the process also draws on one
      shared budget derived from the file-descriptor limit (``default_max_connections()``):
      a server stops accepting before ``accept`` fails with EMFILE, and a flood on one
      server leaves each other server of the process its guaranteed share (see
      ``geetrio._core.budget``). ``None`` (the default): the budget is the only cap.
    - ``grace``: seconds in-flight requests get after a graceful shutdown starts.
    - ``ssl_context``: serve HTTPS (``http.server_context(cert, key)`` makes one, with
      ``client_ca=`` for mutual TLS); None: plain HTTP.
    - ``handshake_timeout``: seconds a client has to finish the TLS handshake.

    Memory: request bodies are buffered whole (a route can stream one instead, see
    ``Request.stream_body``), so the worst case is about ``max_connections x
    (max_body_bytes + max_header_bytes)`` — with the defaults and a limit of 1024
    descriptors, 896 x 8.06 MiB = 7.1 GiB. Lower ``max_body_bytes`` or
    ``max_connections`` where that is too much.
    """

    max_header_bytes: int = 65536
    max_uri_bytes: int = 8192
    max_body_bytes: int = 8 * 1024 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    keep_alive_timeout: float = 5.0
    send_timeout: float = 30.0
    max_connections: int | None = None
    grace: float = 5.0
    ssl_context: ssl.SSLContext | None = None
    handshake_timeout: float = 10.0

    def __post_init__(self) -> None:
        for name in ("max_header_bytes", "max_uri_bytes", "max_body_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"ServerConfig.{name} must be positive")
        for name in (
            "header_timeout",
            "body_timeout",
            "keep_alive_timeout",
            "send_timeout",
            "handshake_timeout",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"ServerConfig.{name} must be positive")
        if self.grace < 0:
            raise ValueError("ServerConfig.grace must not be negative")
        if self.max_connections is not None and self.max_connections <= 0:
            raise ValueError("ServerConfig.max_connections must be positive or None")

    def connection_cap(self) -> int:
        """``max_connections``, or the default derived from the descriptor limit."""
        return self.max_connections or default_max_connections()


def default_max_connections() -> int:
    """Connections the process can hold open: its soft ``RLIMIT_NOFILE`` less a reserve
    (an eighth, at least 64) for files, databases and outgoing connections; all the
    servers of a process share it."""
    return default_budget()
