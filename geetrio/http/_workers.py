"""Several processes serving one port: ``run_workers``.

The supervisor (this process, before any ``trio.run``) binds one listening socket per
worker *slot*, all on the same port with ``SO_REUSEPORT`` — the kernel spreads new
connections over them — and forks a worker per slot, an ordinary ``trio.run`` serving
its slot's socket. The supervisor keeps every socket open: when a worker dies, the
connections the kernel queues on its slot wait in that socket's backlog until the
replacement (forked at once, again given the slot's socket) accepts them, so the port
never stops answering. (With a socket owned by each worker alone, its backlog would be
reset with it.) SIGINT/SIGTERM go to every worker — the first drains, a second stops at
once, as in a single process — and the supervisor returns when all have exited.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from types import FrameType

import trio

from ._signals import run_until_signal

__all__ = ["bind_slots", "run_workers"]

log = logging.getLogger("geetrio.http")

Serve = Callable[[list[trio.SocketListener], trio.Event], Awaitable[None]]
"""``serve(listeners, shutdown)``: what a worker runs inside its ``trio.run``."""

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_QUICK_EXIT = 1.0  # a worker that dies sooner than this after starting is restarted late
_MAX_BACKOFF = 5.0
_PR_SET_PDEATHSIG = 1


def bind_slots(
    host: str | None, port: int, slots: int, backlog: int = 1024
) -> list[list[socket.socket]]:
    """``slots`` groups of listening sockets on ``host:port`` (every address ``host``
    resolves to; None: all interfaces), all with ``SO_REUSEPORT``. Port 0: the first
    socket picks a port, the others take the same one."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    groups: list[list[socket.socket]] = []
    try:
        for _ in range(slots):
            group: list[socket.socket] = []
            groups.append(group)
            for family, kind, proto, _name, address in infos:
                sock = socket.socket(family, kind, proto)
                group.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                if port == 0 and groups[0] and groups[0][0] is not sock:
                    address = (address[0], groups[0][0].getsockname()[1], *address[2:])
                sock.bind(address)
                sock.listen(backlog)
    except BaseException:
        for group in groups:
            for sock in group:
                sock.close()
        raise
    return groups


def run_workers(serve: Serve, slots: Sequence[Sequence[socket.socket]]) -> int:
    """Fork a worker per slot running ``serve`` on the slot's sockets, restart any that
    dies, forward SIGINT/SIGTERM; return 0 once a signal stopped them all. Must run
    outside ``trio.run`` (it forks). The sockets stay open until it returns."""
    if trio.lowlevel.in_trio_run():
        raise RuntimeError("run_workers forks: call it outside trio.run")
    supervisor = _Supervisor(serve, slots)
    return supervisor.run()


class _Supervisor:
    def __init__(self, serve: Serve, slots: Sequence[Sequence[socket.socket]]) -> None:
        self.serve = serve
        self.slots = slots
        self.workers: dict[int, int] = {}  # pid -> slot
        self.started: dict[int, float] = {}  # slot -> monotonic time of its last start
        self.backoff: dict[int, float] = {}  # slot -> seconds to wait before a restart
        self.stopping = False

    def run(self) -> int:
        previous = {signum: signal.signal(signum, self._forward) for signum in _SIGNALS}
        try:
            for slot in range(len(self.slots)):
                self._start(slot)
            while self.workers:
                pid, status = os.waitpid(-1, 0)  # signals run _forward, then it waits on
                slot = self.workers.pop(pid, -1)
                if slot < 0:
                    continue
                log.log(
                    logging.INFO if self.stopping else logging.WARNING,
                    "worker %d (pid %d) %s",
                    slot,
                    pid,
                    _describe(status),
                )
                if not self.stopping:
                    self._restart(slot)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return 0

    def _restart(self, slot: int) -> None:
        lived = time.monotonic() - self.started[slot]
        delay = self.backoff.get(slot, 0.0)
        delay = min(_MAX_BACKOFF, max(0.1, delay * 2)) if lived < _QUICK_EXIT else 0.0
        self.backoff[slot] = delay
        if delay:
            log.warning(
                "worker %d died %.2fs after starting: restarting in %.1fs", slot, lived, delay
            )
            time.sleep(delay)  # rate limit: a worker that cannot start must not spin
        if not self.stopping:
            self._start(slot)

    def _start(self, slot: int) -> None:
        # Signals wait while the child is forked and recorded, so a SIGTERM now
        # reaches it too (the handler runs once they are unblocked).
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            supervisor = os.getpid()
            pid = os.fork()
            if pid == 0:  # the worker: never returns
                _worker(self.serve, self.slots, slot, supervisor)
            self.workers[pid] = slot
            self.started[slot] = time.monotonic()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        log.info("worker %d started (pid %d)", slot, pid)

    def _forward(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True
        for pid in self.workers:
            with contextlib.suppress(ProcessLookupError):  # exited: waitpid will tell
                os.kill(pid, signum)


def _worker(
    serve: Serve, slots: Sequence[Sequence[socket.socket]], slot: int, supervisor: int
) -> None:
    code = 0
    try:
        for signum in _SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        # A process group of its own: a terminal's Ctrl-C reaches the supervisor only,
        # which forwards it once (reaching both, the worker would take it as a second
        # signal and stop without draining). The signals stay blocked (as forked) until
        # trio watches for them: one sent while the worker starts is a graceful stop.
        os.setpgid(0, 0)
        _term_with_parent()
        if os.getppid() != supervisor:  # it died before prctl took effect
            return
        for other, group in enumerate(slots):
            if other != slot:
                for sock in group:
                    sock.close()
        listeners = [
            trio.SocketListener(trio.socket.from_stdlib_socket(sock)) for sock in slots[slot]
        ]
        trio.run(
            partial(run_until_signal, unblock=True), lambda shutdown: serve(listeners, shutdown)
        )
    except BaseException:
        log.exception("worker %d failed", slot)
        code = 1
    finally:
        logging.shutdown()
        os._exit(code)


def _term_with_parent() -> None:
    """Linux: SIGTERM this worker when the supervisor dies (even by SIGKILL), so it
    drains instead of serving on unsupervised."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the supervisor's signals only
        pass


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with status {os.WEXITSTATUS(status)}"
