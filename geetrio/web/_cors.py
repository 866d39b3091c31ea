"""CORS: which other origins' pages may call this app from a browser.

``app.use(web.cors(allow_origins=["https://app.example"], allow_credentials=True))`` on
the engine (its middleware also runs for paths and methods without a route, so
preflights to any route are answered). A preflight (``OPTIONS`` with ``Origin`` and
``Access-Control-Request-Method``) is answered 204 with what is allowed, or 400 naming
what is not; other requests from an allowed origin get ``Access-Control-Allow-Origin``
(and ``-Credentials``, ``-Expose-Headers``); a request from an origin not allowed gets
no CORS headers at all — the browser then keeps the answer from the page. ``Vary:
Origin`` whenever the answer depends on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._context import Context
from ._types import HandlerFunc

__all__ = ["cors"]

SIMPLE_METHODS = ("GET", "HEAD", "POST")


def cors(
    *,
    allow_origins: Iterable[str] = (),
    allow_origin_regex: str | None = None,
    allow_methods: Iterable[str] = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"),
    allow_headers: Iterable[str] = (),
    allow_credentials: bool = False,
    expose_headers: Iterable[str] = (),
    max_age: int = 600,
) -> HandlerFunc:
    """``allow_origins``: exact origins (``"https://app.example"``) or ``"*"`` (any; with
    credentials, the caller's origin is echoed instead, as browsers require);
    ``allow_headers``: request headers beyond the CORS-safelisted ones (``"*"``: any)."""
    origins = set(allow_origins)
    any_origin = "*" in origins
    pattern = re.compile(allow_origin_regex) if allow_origin_regex else None
    methods = {m.upper() for m in allow_methods}
    headers = {h.lower() for h in allow_headers}
    any_header = "*" in headers
    exposed = ", ".join(expose_headers)

    def allowed(origin: str) -> bool:
        return any_origin or origin in origins or bool(pattern and pattern.fullmatch(origin))

    def allow_origin(c: Context, origin: str) -> None:
        echo = allow_credentials or not any_origin
        c.set_header("Access-Control-Allow-Origin", origin if echo else "*")
        if echo:
            c.add_header("Vary", "Origin")
        if allow_credentials:
            c.set_header("Access-Control-Allow-Credentials", "true")

    async def handle_cors(c: Context) -> None:
        origin = c.request.headers.get("origin")
        if origin is None:
            await c.next()
            return
        wanted = c.request.headers.get("access-control-request-method")
        if c.method == "OPTIONS" and wanted is not None:  # a preflight
            asked = c.request.headers.get("access-control-request-headers", "")
            asked_headers = {h.strip().lower() for h in asked.split(",") if h.strip()}
            refused = []
            if not allowed(origin):
                refused.append("origin")
            if wanted.upper() not in methods:
                refused.append("method")
            if asked_headers and not any_header and not asked_headers <= headers:
                refused.append("headers")
            if refused:
                c.add_header("Vary", "Origin")
                c.fail(400, f"CORS preflight refused: {', '.join(refused)} not allowed")
                return
            allow_origin(c, origin)
            c.set_header("Access-Control-Allow-Methods", ", ".join(sorted(methods)))
            if asked_headers:
                c.set_header("Access-Control-Allow-Headers", asked)
            c.set_header("Access-Control-Max-Age", str(max_age))
            c.data(204, b"")
            c.abort()
            return
        await c.next()
        if allowed(origin):
            allow_origin(c, origin)
            if exposed:
                c.set_header("Access-Control-Expose-Headers", exposed)
        elif not any_origin:
            c.add_header("Vary", "Origin")

    return handle_cors
