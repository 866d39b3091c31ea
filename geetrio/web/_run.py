"""``Engine.run``: serve an app from a plain (blocking) program, in one process or in
``workers`` processes sharing the port (``SO_REUSEPORT``), until SIGINT/SIGTERM."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from typing import Any, Protocol

import trio

from ..http import ServerConfig, bind_slots, run_until_signal, run_workers

__all__ = ["run_app"]


class Engine(Protocol):
    """What running needs of an app: its two ways of serving."""

    async def serve(
        self,
        host: str | None,
        port: int,
        *,
        config: ServerConfig | None = None,
        shutdown: trio.Event | None = None,
        task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
    ) -> None: ...

    async def serve_listeners(
        self,
        listeners: Sequence[trio.abc.Listener[Any]],
        *,
        config: ServerConfig | None = None,
        shutdown: trio.Event | None = None,
        task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED,
    ) -> None: ...


log = logging.getLogger("geetrio.web")


def run_app(app: Engine, addr: str, config: ServerConfig | None, workers: int) -> None:
    """What ``app.run(addr, config=config, workers=workers)`` does."""
    host, _, port = addr.rpartition(":")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if workers == 1:
        trio.run(run_until_signal, partial(_serve_and_log, app, host or None, int(port), config))
        return
    slots = bind_slots(host or None, int(port), workers)
    try:
        bound = slots[0][0].getsockname()[1]
        log.info("listening on http://%s:%d (%d workers)", host or "0.0.0.0", bound, workers)
        run_workers(partial(_serve_worker, app, config), slots)
    finally:
        for group in slots:
            for sock in group:
                sock.close()


async def _serve_worker(
    app: Engine,
    config: ServerConfig | None,
    listeners: list[trio.SocketListener],
    shutdown: trio.Event,
) -> None:
    await app.serve_listeners(listeners, config=config, shutdown=shutdown)


async def _serve_and_log(
    app: Engine, host: str | None, port: int, config: ServerConfig | None, shutdown: trio.Event
) -> None:
    async with trio.open_nursery() as nursery:
        bound = await nursery.start(
            partial(app.serve, host, port, config=config, shutdown=shutdown)
        )
        log.info("listening on http://%s:%d", host or "0.0.0.0", bound)
