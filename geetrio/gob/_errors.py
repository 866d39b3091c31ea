"""The gob package's errors."""

from __future__ import annotations

from ..errors import GeetrioError

__all__ = ["GobError"]


class GobError(GeetrioError, ValueError):
    """Bytes that are not a gob stream we accept (malformed, over a limit, a type we
    do not support), or a value that cannot be encoded as the type asked for."""
