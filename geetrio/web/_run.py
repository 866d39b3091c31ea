"""``Engine.run``: serve an app from a plain (blocking) program, in one process or in
``workers`` processes sharing the port (``SO_REUSEPORT``), until SIGINT/SIGTERM."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import trio

from ..http import ServerConfig, bind_slots, run_until_signal, run_workers

__all__ = ["run_app"]

log = logging.getLogger("geetrio.web")

Serve = Callable[..., Awaitable[None]]  # an app's ``serve`` or ``serve_listeners``


def run_app(
    serve: Serve, serve_listeners: Serve, addr: str, config: ServerConfig | None, workers: int
) -> None:
    """What ``app.run(addr, config=config, workers=workers)`` does, given the app's two
    ways of serving."""
    host, _, port = addr.rpartition(":")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if workers == 1:
        main = partial(_serve_and_log, serve, host or None, int(port), config)
        trio.run(run_until_signal, main)
        return
    slots = bind_slots(host or None, int(port), workers)
    try:
        bound = slots[0][0].getsockname()[1]
        log.info("listening on http://%s:%d (%d workers)", host or "0.0.0.0", bound, workers)
        run_workers(partial(_serve_worker, serve_listeners, config), slots)
    finally:
        for group in slots:
            for sock in group:
                sock.close()


async def _serve_worker(
    serve_listeners: Serve,
    config: ServerConfig | None,
    listeners: list[trio.SocketListener],
    shutdown: trio.Event,
) -> None:
    await serve_listeners(listeners, config=config, shutdown=shutdown)


async def _serve_and_log(
    serve: Serve, host: str | None, port: int, config: ServerConfig | None, shutdown: trio.Event
) -> None:
    async with trio.open_nursery() as nursery:
        bound: Any = await nursery.start(
            partial(serve, host, port, config=config, shutdown=shutdown)
        )
        log.info("listening on http://%s:%d", host or "0.0.0.0", bound)
