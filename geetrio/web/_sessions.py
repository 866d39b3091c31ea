"""Sessions in a signed cookie: ``app.use(web.sessions(keys))``, then ``c.session`` is a
dict of JSON values for this client, saved when a handler changed it.

The cookie holds the session itself (base64url JSON, signed with ``Signer``: the client
can read it but not change it), so no server-side store is needed — like Flask's and
starlette's default sessions; keep secrets out of it. A cookie that was forged, altered,
is older than ``max_age`` or does not decode gives a fresh, empty session (logged at
INFO, rate-limited), never an error page. A session over ``max_bytes`` once encoded is
a ``ValueError`` (browsers drop cookies over 4 KB silently).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable
from typing import Any

from .._core.text import limited
from ._context import SESSION_KEY, Context
from ._cookies import Session, Signer, set_cookie_header
from ._types import HandlerFunc

__all__ = ["sessions"]

log = logging.getLogger("geetrio.web")


def sessions(
    keys: Iterable[str | bytes],
    *,
    cookie: str = "session",
    max_age: int = 14 * 24 * 3600,
    path: str = "/",
    domain: str | None = None,
    secure: bool = False,
    same_site: str = "Lax",
    max_bytes: int = 4000,
) -> HandlerFunc:
    """Middleware giving each request ``c.session``, kept in the signed cookie
    ``cookie`` for ``max_age`` seconds from its last change (``secure=True`` behind
    HTTPS). ``keys``: the first signs, all verify (at least 16 bytes each)."""
    signer = Signer(keys)
    set_cookie_header(cookie, "x", path=path, domain=domain, secure=secure, same_site=same_site)

    def load(raw: str) -> Session:
        if not raw:
            return Session({}, fresh=True)
        value = signer.unsign(cookie, raw, max_age=max_age)
        data: Any = None
        if value is not None:
            try:
                data = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
            except ValueError:
                data = None
        if not isinstance(data, dict):
            limited.info(log, "session cookie forged, altered or expired: a fresh session")
            return Session({}, fresh=True)
        return Session(data, fresh=False)

    async def session_middleware(c: Context) -> None:
        raw = c.cookie(cookie)
        session = load(raw)
        c.set(SESSION_KEY, session)
        await c.next()
        if not session.modified:
            return
        if not session:  # emptied: forget the cookie
            if raw:
                c.delete_cookie(cookie, path=path, domain=domain)
            return
        encoded = base64.urlsafe_b64encode(json.dumps(session, separators=(",", ":")).encode())
        signed = signer.sign(cookie, encoded.decode().rstrip("="))
        header = set_cookie_header(
            cookie,
            signed,
            max_age=max_age,
            path=path,
            domain=domain,
            secure=secure,
            same_site=same_site,
        )
        if len(header) > max_bytes:
            raise ValueError(f"the session is {len(header)} bytes as a cookie, over {max_bytes}")
        c.add_header("Set-Cookie", header)

    return session_middleware
