"""A shared secret carried as ``Authorization: Bearer <secret>`` between the nodes of a
cluster (cache peers, the registry and its servers), compared in constant time."""

from __future__ import annotations

import hmac

__all__ = ["bearer", "refusal"]


def bearer(secret: str) -> tuple[str, str]:
    """The header a request carrying ``secret`` sends."""
    if not secret or any(ord(ch) < 33 or ord(ch) > 126 for ch in secret):
        raise ValueError("a secret is non-empty printable ASCII without spaces")
    return ("Authorization", f"Bearer {secret}")


def refusal(authorization: str, secret: str | None) -> int:
    """0 when a request whose ``Authorization`` header is ``authorization`` may pass
    (or no secret is configured); else the status to refuse it with: 401 without
    credentials, 403 with wrong ones."""
    if secret is None:
        return 0
    if not authorization:
        return 401
    expected = f"Bearer {secret}".encode()
    return 0 if hmac.compare_digest(authorization.encode("latin-1"), expected) else 403
