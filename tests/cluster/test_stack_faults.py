"""The whole stack (``servers/stack.py``, one process on loopback) stopped mid-load.

SIGTERM: the calls it is running finish and are answered within the grace period,
nothing new is accepted, it exits 0, and every ``Scores.Set`` it acknowledged is in the
sqlite file. SIGKILL: the file reopens clean (``PRAGMA integrity_check``) and every
acknowledged row is there (sqlite commits before the reply goes out).

To have calls surely in flight when SIGTERM arrives, the test holds sqlite's write
lock from this process (``BEGIN IMMEDIATE``), as any other writer of the file could:
the stack's writes wait in the ORM's retry loop until it is released."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import pytest
import trio

from geetrio import rpc
from tests.cluster.cluster import report

ROOT = Path(__file__).resolve().parents[2]
CALLERS = 16


class Stack:
    def __init__(self, process: trio.Process, urls: dict[str, str]) -> None:
        self.process, self.urls = process, urls
        self.log: list[str] = []
        self._markers: dict[str, trio.Event] = {}

    def seen(self, text: str) -> trio.Event:
        """Set once a line of the stack's log contains ``text``."""
        event = self._markers.setdefault(text, trio.Event())
        if any(text in line for line in self.log):
            event.set()
        return event

    async def read_log(self, stream: trio.abc.ReceiveStream) -> None:
        buffered = b""
        async for chunk in stream:
            buffered += chunk
            *lines, buffered = buffered.split(b"\n")
            for line in lines:
                text = line.decode(errors="replace")
                self.log.append(text)
                for marker, event in self._markers.items():
                    if marker in text:
                        event.set()


@asynccontextmanager
async def stack(db: Path) -> AsyncIterator[Stack]:
    argv = [sys.executable, str(ROOT / "servers" / "stack.py"), "--port", "0", "--db", str(db)]
    async with trio.open_nursery() as nursery:
        process: trio.Process = await nursery.start(
            partial(
                trio.run_process,
                [*argv, "--log-level", "DEBUG"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                check=False,
            )
        )
        assert process.stdout is not None and process.stderr is not None
        out = b""
        running = Stack(process, {})
        nursery.start_soon(running.read_log, process.stderr)
        with trio.fail_after(30):
            while not out.endswith(b"ready\n"):
                chunk = await process.stdout.receive_some(4096)
                assert chunk, f"the stack exited early: {out!r} {running.log[-20:]}"
                out += chunk
        running.urls = dict(line.split(" ", 1) for line in out.decode().splitlines()[:-1])
        try:
            yield running
        finally:
            process.kill()  # no-op when the test already stopped it


class Load:
    """``CALLERS`` tasks, each on its own connection to rpc-1 or rpc-2, setting
    ``load-<caller>-<n>`` to ``n`` until their connection is refused or closed."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self.acked: dict[str, int] = {}
        self.acked_after_stop = 0
        self.stopped = False
        self.failures: list[str] = []
        self._goal, self._reached = 0, trio.Event()

    async def until_acked(self, count: int) -> None:
        """Return once ``count`` calls were acknowledged."""
        self._goal, self._reached = count, trio.Event()
        if len(self.acked) < count:
            with trio.fail_after(20):
                await self._reached.wait()

    async def caller(self, i: int) -> None:
        address = self.urls[f"rpc-{i % 2 + 1}"]
        try:
            async with rpc.xdial(address) as client:
                for n in range(1_000_000):
                    name = f"load-{i:02d}-{n:06d}"
                    assert await client.call("Scores.Set", {"name": name, "score": n}) is True
                    self.acked[name] = n
                    if len(self.acked) >= self._goal:
                        self._reached.set()
                    if self.stopped:
                        self.acked_after_stop += 1
        except rpc.RPCError as exc:  # the stack went away: this caller is done
            self.failures.append(f"{type(exc).__name__}: {exc}")

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            for i in range(CALLERS):
                nursery.start_soon(self.caller, i)


def rows(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        found = dict(conn.execute("SELECT name, score FROM scores WHERE name LIKE 'load-%'"))
    conn.close()
    return found


async def test_sigterm_mid_load_finishes_in_flight_calls_and_keeps_every_acknowledged_row(
    tmp_path: Path,
) -> None:
    db = tmp_path / "scores.db"
    async with stack(db) as running, trio.open_nursery() as nursery:
        load = Load(running.urls)
        nursery.start_soon(load.run)
        await load.until_acked(200)  # mid-load
        lock = sqlite3.connect(db, isolation_level=None, timeout=10)
        lock.execute("BEGIN IMMEDIATE")  # the stack's writes now wait for this lock
        with trio.fail_after(10):
            await running.seen("database is locked; retrying").wait()
        in_flight_from = len(load.acked)
        load.stopped = True
        running.process.send_signal(signal.SIGTERM)
        with trio.fail_after(10):
            await running.seen("rpc server: shutting down").wait()
        host, port = running.urls["rpc-1"].removeprefix("tcp@").split(":")
        with pytest.raises(OSError):  # nothing new is accepted
            await trio.open_tcp_stream(host, int(port))
        stopped_at = trio.current_time()
        lock.execute("ROLLBACK")
        lock.close()
        with trio.fail_after(10):
            code = await running.process.wait()
        exited_after = trio.current_time() - stopped_at
    assert code == 0
    assert load.acked_after_stop == CALLERS  # each caller's blocked call was answered
    assert len(load.acked) == in_flight_from + CALLERS
    assert exited_after < 5.0  # the stack's grace period
    assert len(load.failures) == CALLERS  # then every caller found its connection closed
    found = rows(db)
    assert {name: found.get(name) for name in load.acked} == load.acked
    report(
        "SIGTERM mid-load",
        acked=len(load.acked),
        in_flight_at_sigterm=CALLERS,
        answered_after_sigterm=load.acked_after_stop,
        exit_code=code,
        exit_after_release_s=round(exited_after, 3),
        rows=len(found),
    )


async def test_sigkill_mid_load_leaves_a_clean_file_with_every_acknowledged_row(
    tmp_path: Path,
) -> None:
    db = tmp_path / "scores.db"
    async with stack(db) as running, trio.open_nursery() as nursery:
        load = Load(running.urls)
        nursery.start_soon(load.run)
        await load.until_acked(500)
        running.process.kill()
        with trio.fail_after(10):
            assert await running.process.wait() == -signal.SIGKILL
    found = rows(db)  # integrity_check: ok
    assert len(load.failures) == CALLERS
    missing = {name: n for name, n in load.acked.items() if found.get(name) != n}
    assert not missing, list(missing)[:5]
    assert len(found) >= len(load.acked)  # rows written whose reply was lost are allowed
    report(
        "SIGKILL mid-load",
        acked=len(load.acked),
        rows=len(found),
        integrity="ok",
        committed_unacknowledged=len(found) - len(load.acked),
    )
