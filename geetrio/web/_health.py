"""Health endpoints for load balancers and Kubernetes probes (``app.enable_health()``):
``GET /healthz`` answers 200 while the process serves; ``GET /readyz`` runs every
readiness check at once, each bounded by ``timeout``, and answers 200 when all pass,
else 503 — the JSON body names each part and what is wrong with it::

    {"ready": false, "checks": {"database": "ok", "registry": "timed out after 1.0 s"}}

An *advisory* check is reported the same way but never makes the answer 503: what a
node can serve without (its cache peers — it loads their keys itself meanwhile), so
that one peer down does not take every node out of its load balancer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    from ._context import Context

__all__ = ["Check", "healthz", "readyz"]

Check = Callable[[], Awaitable[object]]
"""A readiness check: returns when the part answers, raises (anything) when not."""


async def healthz(c: Context) -> None:
    """The process serves. Cancelled: nothing was sent."""
    c.json(200, {"status": "ok"})


def readyz(
    checks: Mapping[str, Check], timeout: float, advisory: Collection[str] = ()
) -> Callable[[Context], Awaitable[None]]:
    """The ``/readyz`` handler over ``checks`` (those named in ``advisory`` only
    reported)."""
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    parts = dict(checks)
    unknown = set(advisory) - set(parts)
    if unknown:
        raise ValueError(f"advisory names no check: {', '.join(sorted(unknown))}")
    required = [name for name in parts if name not in advisory]

    async def handler(c: Context) -> None:
        results: dict[str, str] = {}

        async def run(name: str, check: Check) -> None:
            with trio.move_on_after(timeout) as scope:
                try:
                    await check()
                except Exception as exc:  # a failed check is an answer, not a crash
                    results[name] = f"{type(exc).__name__}: {exc}"[:200]
                    return
            results[name] = f"timed out after {timeout} s" if scope.cancelled_caught else "ok"

        async with trio.open_nursery() as nursery:
            for name, check in parts.items():
                nursery.start_soon(run, name, check)
        ready = all(results[name] == "ok" for name in required)
        c.json(200 if ready else 503, {"ready": ready, "checks": dict(sorted(results.items()))})

    return handler
