"""Authentication middleware: ``basic_auth`` (gin's ``BasicAuth``) and ``bearer_auth``,
for an engine or a group. Credentials are compared in constant time against *every*
known one — no early exit — so the timing of a refusal tells neither which user exists
nor how much of a secret matched."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterable, Mapping

from ._context import Context
from ._types import HandlerFunc

__all__ = ["basic_auth", "bearer_auth"]

USER_KEY = "user"  # where basic_auth leaves the user name: c.get("user")


def _match(given: bytes, known: Iterable[tuple[bytes, str]]) -> str | None:
    """The name of the credential ``given`` equals, comparing with every one."""
    found = None
    for credential, name in known:
        if hmac.compare_digest(given, credential) and found is None:
            found = name
    return found


def basic_auth(accounts: Mapping[str, str], realm: str = "Authorization Required") -> HandlerFunc:
    """Let a request through when its ``Authorization: Basic`` header carries one of
    ``accounts`` (user → password), leaving the user in ``c.get("user")``; else 401
    with ``WWW-Authenticate: Basic realm="..."`` and the chain stops."""
    if not accounts:
        raise ValueError("basic_auth needs at least one account")
    if '"' in realm or any(ord(ch) < 32 for ch in realm):
        raise ValueError("realm: no quotes or control characters")
    known = [
        (b"Basic " + base64.b64encode(f"{user}:{password}".encode()), user)
        for user, password in accounts.items()
    ]
    challenge = f'Basic realm="{realm}"'

    async def check_basic(c: Context) -> None:
        user = _match(c.headers.get("authorization", "").encode("latin-1"), known)
        if user is None:
            c.set_header("WWW-Authenticate", challenge)
            c.fail(401, "unauthorized")
            return
        c.set(USER_KEY, user)
        await c.next()

    return check_basic


def bearer_auth(tokens: Iterable[str]) -> HandlerFunc:
    """Let a request through when its ``Authorization: Bearer <token>`` carries one of
    ``tokens``; else 401 with ``WWW-Authenticate: Bearer`` and the chain stops."""
    known = [(f"Bearer {token}".encode(), token) for token in tokens]
    if not known or any(not token for _, token in known):
        raise ValueError("bearer_auth needs non-empty tokens")

    async def check_bearer(c: Context) -> None:
        if _match(c.headers.get("authorization", "").encode("latin-1"), known) is None:
            c.set_header("WWW-Authenticate", "Bearer")
            c.fail(401, "unauthorized")
            return
        await c.next()

    return check_bearer
