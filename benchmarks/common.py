"""What every benchmark shares: ports, CPU pinning, waiting for a server, and running
contenders in interleaved rounds so that machine drift cannot favour either side."""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def free_port() -> int:
    """A loopback port free a moment ago, for servers in other processes that must be
    told their port (racy by nature; fine on a quiet benchmark machine)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > cpu:
        os.sched_setaffinity(0, {cpu})


def taskset(cpu: int, command: list[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *command] if shutil.which("taskset") else command


def wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Wait until ``process`` accepts connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}") from None
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"server did not listen on {port} within {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def interleaved(
    contenders: Sequence[tuple[str, Callable[[], T]]], rounds: int
) -> dict[str, list[T]]:
    """Run each contender once per round, in turn (a, b, a, b, ...); every result."""
    results: dict[str, list[T]] = {name: [] for name, _ in contenders}
    for _ in range(rounds):
        for name, run in contenders:
            results[name].append(run())
    return results


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
