"""Interceptors: an ordered chain around every call. On the server, each sees the
call's service and method, its metadata (carried in the request header) and who is
calling (the client's certificate over mutual TLS), and may refuse it with an error
reply — the connection goes on; ``token_interceptor`` is the built-in one. On the
client (``Client.use``, ``XClient(interceptors=)``), each may add metadata and observe
the call and its outcome."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from ._errors import RPCError

__all__ = [
    "CallInfo",
    "ClientCall",
    "ClientInterceptor",
    "Interceptor",
    "Refused",
    "chain",
    "token_interceptor",
]


@dataclass(frozen=True, slots=True)
class CallInfo:
    """One call as interceptors see it."""

    service_method: str
    metadata: Mapping[str, str]
    peer_certificate: dict[str, Any] | None  # over mutual TLS, else None


@dataclass(slots=True)
class ClientCall:
    """One call as client interceptors see it: they may add to ``metadata``."""

    service_method: str
    metadata: dict[str, str]


C = TypeVar("C")
Proceed = Callable[[], Awaitable[Any]]
Interceptor = Callable[[CallInfo, Proceed], Awaitable[Any]]
ClientInterceptor = Callable[[ClientCall, Proceed], Awaitable[Any]]
"""``async def interceptor(call, proceed)``: ``return await proceed()`` to go on (the
reply comes back through it), raise ``Refused`` to answer an error instead."""


class Refused(RPCError):
    """Raised by an interceptor: the call is answered with this error, not run."""


def chain(
    interceptors: Sequence[Callable[[C, Proceed], Awaitable[Any]]],
) -> Callable[[C, Proceed], Awaitable[Any]]:
    """The interceptors as one, the first the outermost. Each call nests them with
    ``partial`` (no coroutine of its own per level): one interceptor is itself."""
    if len(interceptors) == 1:
        return interceptors[0]
    inner_first = tuple(reversed(interceptors))

    def run(call: C, proceed: Proceed) -> Awaitable[Any]:
        for interceptor in inner_first:
            proceed = partial(interceptor, call, proceed)
        return proceed()

    return run


def token_interceptor(tokens: Iterable[str], key: str = "authorization") -> Interceptor:
    """Refuse calls whose metadata ``key`` is not ``Bearer <token>`` for one of
    ``tokens`` (compared in constant time against each)."""
    known = [f"Bearer {token}".encode() for token in tokens]
    if not known or any(value == b"Bearer " for value in known):
        raise ValueError("token_interceptor needs non-empty tokens")

    async def check_token(call: CallInfo, proceed: Proceed) -> Any:
        given = call.metadata.get(key, "").encode()
        matched = False
        for value in known:
            matched |= hmac.compare_digest(given, value)
        if not matched:
            raise Refused("a valid token is required")
        return await proceed()

    return check_token
