"""Workers (``app.run(addr, workers=N)``): N processes serve one port; a worker killed is
replaced while the port goes on answering (its slot's backlog waits for the
replacement); SIGTERM drains every worker, a request in flight included; workers stop
when their supervisor is killed. Real processes, real signals."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
import trio.lowlevel

from geetrio.http import run_workers
from geetrio.web import Engine
from tests.helpers import RawClient, get

APP = Path(__file__).resolve().parent / "workers_app.py"


class Log:
    """A process's stderr, read as it comes; ``wait`` for a line matching a pattern."""

    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self.stream = stream
        self.text = b""

    async def wait(self, pattern: bytes, *, unless: set[bytes] | None = None) -> re.Match[bytes]:
        """The first match (whose group 1 is not in ``unless``), reading more as needed."""
        while True:
            for match in re.finditer(pattern, self.text):
                if unless is None or match.group(1) not in unless:
                    return match
            chunk = await self.stream.receive_some()
            assert chunk, self.text.decode(errors="replace")
            self.text += chunk


async def start_workers(workers: int) -> AsyncIterator[tuple[trio.Process, Log, int, list[int]]]:
    process = await trio.lowlevel.open_process(
        [sys.executable, str(APP), str(workers)], stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    log = Log(process.stderr)
    pids: list[int] = []
    try:
        port = int((await log.wait(rb"listening on http://127.0.0.1:(\d+)")).group(1))
        for slot in range(workers):
            pids.append(int((await log.wait(rb"worker %d started \(pid (\d+)\)" % slot)).group(1)))
        yield process, log, port, pids
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        for pid in pids:  # the PDEATHSIG makes them go anyway; be sure
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        await process.stderr.aclose()


@pytest.fixture
async def two_workers() -> AsyncIterator[tuple[trio.Process, Log, int, list[int]]]:
    async for running in start_workers(2):
        yield running


async def pid_at(port: int) -> int:
    client = await RawClient.connect(port)
    try:
        response = await client.request(get("/pid"))
        assert response.status == 200
        return int(response.body)
    finally:
        await client.aclose()


async def answered_by(port: int, wanted: set[int]) -> set[int]:
    """Pids seen over new connections until all of ``wanted`` answered (at most 300)."""
    seen: set[int] = set()
    for _ in range(300):
        seen.add(await pid_at(port))
        if wanted <= seen:
            break
    return seen


async def exited(pid: int) -> None:
    """Wait for ``pid`` to end (a pidfd: no polling)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        await trio.lowlevel.wait_readable(fd)
    finally:
        os.close(fd)


async def test_workers_share_the_port_and_a_killed_one_is_replaced(
    two_workers: tuple[trio.Process, Log, int, list[int]],
) -> None:
    process, log, port, pids = two_workers
    assert await answered_by(port, set(pids)) == set(pids)  # the kernel spreads them
    os.kill(pids[0], signal.SIGKILL)
    # at once, before the replacement is up: every request is answered (those the
    # kernel puts on the dead worker's slot wait in its backlog for the replacement)
    answers = [await pid_at(port) for _ in range(40)]
    assert pids[0] not in answers
    await log.wait(rb"worker 0 \(pid %d\) was killed by SIGKILL" % pids[0])
    match = await log.wait(rb"worker 0 started \(pid (\d+)\)", unless={b"%d" % pids[0]})
    replacement = int(match.group(1))
    assert replacement in await answered_by(port, {replacement})
    process.send_signal(signal.SIGTERM)
    assert await process.wait() == 0
    for pid in (pids[1], replacement):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # reaped by the supervisor before it returned


async def test_sigterm_drains_every_worker_a_request_in_flight_included(
    two_workers: tuple[trio.Process, Log, int, list[int]],
) -> None:
    process, log, port, pids = two_workers
    client = await RawClient.connect(port)
    try:
        first = await client.request(get("/pid"))  # the connection is a worker's now
        head = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nhello"
        await client.send(head)
        process.send_signal(signal.SIGTERM)
        for pid in pids:
            await log.wait(rb"%d geetrio.http SIGTERM: shutting down gracefully" % pid)
        await client.send(b"world")  # the drain lets the request in flight finish
        response = await client.read_response()
        assert response.body == first.body + b" got helloworld"
    finally:
        await client.aclose()
    assert await process.wait() == 0
    with pytest.raises(OSError):
        await trio.open_tcp_stream("127.0.0.1", port)


async def test_a_signal_while_a_worker_starts_is_a_graceful_stop() -> None:
    """SIGTERM at once, while the workers may still be starting (before trio watches
    for it): every worker stops gracefully, none dies of the signal."""
    async for process, log, _port, pids in start_workers(2):
        process.send_signal(signal.SIGTERM)
        assert await process.wait() == 0
        for slot, pid in enumerate(pids):
            await log.wait(rb"worker %d \(pid %d\) exited with status 0" % (slot, pid))
        assert b"killed by" not in log.text


async def test_workers_stop_when_their_supervisor_is_killed(
    two_workers: tuple[trio.Process, Log, int, list[int]],
) -> None:
    process, _log, _port, pids = two_workers
    process.kill()
    for pid in pids:
        await exited(pid)  # SIGTERM from the kernel (PR_SET_PDEATHSIG): they drain


def test_bad_worker_counts_and_forking_inside_trio_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Engine().run("127.0.0.1:0", workers=0)

    async def serve(listeners: list[trio.SocketListener], shutdown: trio.Event) -> None:
        await shutdown.wait()

    async def inside() -> None:
        run_workers(serve, [])

    with pytest.raises(RuntimeError, match=r"outside trio\.run"):
        trio.run(inside)
