"""Server limits and timeouts."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ServerConfig"]


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Limits and timeouts of the HTTP server; every field has a safe default.

    - ``max_header_bytes``: request line + headers; more -> 431 and close.
    - ``max_uri_bytes``: request target alone; more -> 414 and close (checked first).
    - ``max_body_bytes``: request body (Content-Length or chunked); more -> 413 and close.
    - ``header_timeout``: seconds from a request's first byte until its headers are
      complete (slowloris guard), and the longest pause allowed while a body arrives;
      exceeded -> 408 and close.
    - ``keep_alive_timeout``: seconds an idle connection waits for its next request.
    - ``send_timeout``: seconds one send may wait for a client that does not read.
    - ``max_connections``: open connections at once; further clients wait in the
      listen backlog until one closes. ``None`` = no cap.
    - ``grace``: seconds in-flight requests get after a graceful shutdown starts.
    """

    max_header_bytes: int = 65536
    max_uri_bytes: int = 8192
    max_body_bytes: int = 8 * 1024 * 1024
    header_timeout: float = 10.0
    keep_alive_timeout: float = 5.0
    send_timeout: float = 30.0
    max_connections: int | None = None
    grace: float = 5.0

    def __post_init__(self) -> None:
        for name in ("max_header_bytes", "max_uri_bytes", "max_body_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"ServerConfig.{name} must be positive")
        for name in ("header_timeout", "keep_alive_timeout", "send_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"ServerConfig.{name} must be positive")
        if self.grace < 0:
            raise ValueError("ServerConfig.grace must not be negative")
        if self.max_connections is not None and self.max_connections <= 0:
            raise ValueError("ServerConfig.max_connections must be positive or None")
